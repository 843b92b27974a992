//! The `teachcam` binary: a thin wrapper over [`teachcam::cli`].

fn main() {
    std::process::exit(teachcam::cli::main());
}
