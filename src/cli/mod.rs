//! The command-line surface: `teachcam [--config FILE] [--data DIR] <command>`.

mod background_cmd;
mod bench;
mod check;
mod embed_many;
mod errors;
mod eval;
mod examples;
mod export;
mod export_import;
mod import;
mod report;
mod selftest;
mod status;
mod train_cmd;

use crate::config::Config;
use crate::embed::Embedder;
use crate::store::Store;
use anyhow::{Context as _, Result};
use clap::{Parser, Subcommand};
pub use embed_many::progress_bar;
use std::path::{Path, PathBuf};

/// Examples and logging, shown after the options by `teachcam --help`.
const AFTER_HELP: &str = "\
Examples:
  teachcam import --label cat photos/cat     add photos as examples of \"cat\"
  teachcam train                             train on the examples, print held-out metrics
  teachcam predict photo.jpg                 label a photo
  teachcam eval test/                        accuracy on test/<label>/*.jpg
  teachcam status                            examples per label, the head's age
  teachcam --config config/desktop.toml run  webcam + keyboard: 1/2 capture, t trains, c undoes
  teachcam --config config/keyboard-replay.toml run   the same with photos instead of a webcam
  teachcam --config config/demo.toml run     photos replayed from a folder, no camera needed

Logging goes to stderr at level info; set RUST_LOG to change it, e.g. RUST_LOG=debug or
RUST_LOG=teachcam=debug (RUST_LOG=warn for warnings only).
A command's --json (see its --help) prints JSON for scripts; progress bars show only on a
terminal, never in --json output.";

/// Teachable on-device image classifier.
#[derive(Debug, Parser)]
#[command(name = "teachcam", version, about, after_help = AFTER_HELP)]
pub struct Cli {
    /// Configuration file (default: $TEACHCAM_CONFIG, else built-in defaults).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Data folder, overriding the config's `data_dir`.
    #[arg(long, global = true, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// teachcam's commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Add images (files or folders) as examples of LABEL; without --label, read back one
    /// dataset export (a folder or .tar file from `export-dataset`).
    Import {
        /// The label the images show.
        #[arg(long)]
        label: Option<String>,
        /// Image files or folders of images (or one dataset export).
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Images already stored under another label get LABEL instead of being skipped.
        #[arg(long, requires = "label")]
        relabel: bool,
        /// Print JSON: per label, how many were added and skipped, and why.
        #[arg(long)]
        json: bool,
    },
    /// Train the head on the stored examples, print held-out metrics, save it.
    Train {
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Label images with the trained head.
    Predict {
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Image files or folders of images.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Evaluate on DIR, which holds one sub-folder of images per label.
    Eval {
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// The labelled folder.
        dir: PathBuf,
        /// Also show these images (files or folders), which show nothing taught: the share
        /// that would light an LED is reported as `background_lit_rate`.
        #[arg(long, value_name = "DIR")]
        background: Option<PathBuf>,
    },
    /// Examples per label, head age and metrics.
    Status {
        /// Print JSON: counts per label, warnings, the head's state.
        #[arg(long)]
        json: bool,
    },
    /// List, remove, relabel or reset the stored examples (fix what was taught).
    #[command(subcommand)]
    Examples(examples::ExamplesCommand),
    /// Verify the data folder (nothing is changed): every example's image and embedding.
    Check {
        /// Print JSON: examples, ids, damaged, stale, problems, ok.
        #[arg(long)]
        json: bool,
    },
    /// Run the daemon: camera → live prediction → LEDs; buttons capture and train.
    Run,
    /// Play a scripted session (replay + simulated buttons) through the daemon.
    Scenario {
        /// The scenario file.
        file: PathBuf,
        /// Write one JSON line per frame here.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Print the summary as one JSON object (with `accuracy`) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Wiring check: blink each LED in turn, then print each button press.
    Selftest {
        /// Stop printing button presses after this many seconds.
        #[arg(long, default_value_t = 600)]
        seconds: u64,
    },
    /// Make a background set (what training uses as "nothing taught") from photos that show
    /// none of the things users will teach.
    Background {
        /// The set's file (the built-in one is models/<model>.background.bin).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Image files or folders of images.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Write the backbone with the trained head as one ONNX file (labels, thresholds and
    /// preprocessing in its metadata).
    Export {
        /// The ONNX file to write.
        #[arg(long, value_name = "FILE.onnx")]
        out: PathBuf,
    },
    /// Write the stored examples as one folder of images per label plus manifest.json, in a
    /// folder or a .tar file; `teachcam import` reads it back.
    ExportDataset {
        /// The folder (new or empty) or .tar file to write.
        #[arg(long, value_name = "DIR|FILE.tar")]
        out: PathBuf,
    },
    /// Time model load, preprocessing, embedding, training and prediction.
    Bench {
        /// Embeddings to time (the median is reported).
        #[arg(long, default_value_t = 30)]
        iters: usize,
        /// Another ONNX model to time against the configured one.
        #[arg(long, value_name = "MODEL")]
        compare: Option<PathBuf>,
        /// Print the figures as one JSON object.
        #[arg(long)]
        json: bool,
    },
}

/// Entry point of the binary: runs the command line, prints errors as one line, returns the exit code.
pub fn main() -> i32 {
    init_logging();
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("teachcam: error: {}", errors::error_line(&e));
            1
        }
    }
}

/// Logs to stderr at `info` unless `RUST_LOG` says otherwise; warnings are also kept for the
/// status page. On a terminal, a line first clears the keyboard panel's LED status line and
/// ends with `\r\n`, so logs stay readable while the terminal is in raw mode.
fn init_logging() {
    use std::io::{IsTerminal, Write};
    let terminal = std::io::stderr().is_terminal();
    let (start, eol) = if terminal { ("\r\x1b[2K", "\r\n") } else { ("", "\n") };
    let logger = env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"))
        // Keep the escape above: anstream would strip it as a colour code.
        .write_style(if terminal { env_logger::WriteStyle::Always } else { env_logger::WriteStyle::Auto })
        .format(move |buf, record| {
            write!(buf, "{start}[{} {:5}] {}{eol}", buf.timestamp_seconds(), record.level(), record.args())
        })
        .build();
    let level = logger.filter();
    // The last warnings are also kept for the status page.
    if log::set_boxed_logger(Box::new(crate::events::warnings::Tee(logger))).is_ok() {
        log::set_max_level(level);
    }
}

/// Runs one parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    if !matches!(cli.command, Command::Run | Command::Scenario { .. }) {
        // A command piped into `head` ends quietly when the pipe closes, as other tools do,
        // instead of panicking in `println!`. The daemon keeps Rust's default (EPIPE as an
        // error) for its sockets.
        // SAFETY: restoring a signal's default disposition has no preconditions.
        unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    }
    let mut config = load_config(cli.config.as_deref())?;
    if let Some(d) = cli.data {
        config.data_dir = d;
    }
    match cli.command {
        Command::Import { label: Some(label), paths, relabel, json } => {
            import::run(&config, &label, &paths, import::Options { relabel, json })
        }
        Command::Import { label: None, paths, json: false, .. } => match &paths[..] {
            [export] => export_import::run(&config, export),
            _ => anyhow::bail!("import needs --label LABEL for image files; without it, give one dataset export"),
        },
        Command::Import { label: None, json: true, .. } => anyhow::bail!("import --json needs --label LABEL"),
        Command::Export { out } => export::run_model(&config, &out),
        Command::ExportDataset { out } => export::run_dataset(&config, &out),
        Command::Train { json } => train_cmd::run(&config, json),
        Command::Predict { json, paths } => eval::predict(&config, &paths, json),
        Command::Eval { json, dir, background } => eval::eval(&config, &dir, background.as_deref(), json),
        Command::Status { json } => status::run(&config, json),
        Command::Examples(cmd) => examples::run(&config, &cmd),
        Command::Check { json } => check::run(&config, json),
        Command::Run => crate::daemon::run(&config),
        Command::Selftest { seconds } => selftest::run(&config, seconds),
        Command::Scenario { file, out, json } => scenario(&config, &file, out.as_deref(), json),
        Command::Background { out, paths } => background_cmd::run(&config, &out, &paths),
        Command::Bench { iters, compare, json } => bench::run(&config, iters, compare.as_deref(), json),
    }
}

/// Runs a scenario and prints its summary, as text or as JSON.
fn scenario(config: &Config, file: &Path, out: Option<&Path>, json: bool) -> Result<()> {
    let s = crate::scenario::run(config, file, out)?;
    if json {
        println!("{}", serde_json::to_string(&s.to_json())?);
    } else {
        print!("{}", s.report(file));
    }
    Ok(())
}

/// Loads `--config`, else `$TEACHCAM_CONFIG`, else the built-in defaults.
pub fn load_config(path: Option<&Path>) -> Result<Config> {
    let from_env = std::env::var_os("TEACHCAM_CONFIG").map(PathBuf::from);
    match path.map(Path::to_path_buf).or(from_env) {
        Some(p) => Ok(Config::load(&p)?),
        None => Ok(Config::default()),
    }
}

/// Opens the data folder, logging any problems found in it.
pub fn open_store(config: &Config) -> Result<Store> {
    let store = Store::open(&config.data_dir)?;
    for p in store.problems() {
        log::warn!("{p}");
    }
    Ok(store)
}

/// Opens the data folder without creating or changing anything (read-only commands).
pub fn open_store_read_only(config: &Config) -> Result<Store> {
    let store = Store::open_read_only(&config.data_dir)?;
    for p in store.problems() {
        log::warn!("{p}");
    }
    Ok(store)
}

/// Loads the configured backbone, timing it.
pub fn open_embedder(config: &Config) -> Result<Embedder> {
    let t = std::time::Instant::now();
    let e = Embedder::open(&config.model)?;
    log::debug!("loaded {} in {:.0} ms", config.model.path.display(), t.elapsed().as_secs_f64() * 1e3);
    Ok(e)
}

/// Expands files and folders (recursively, in name order) into image files.
pub fn collect_images(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).with_context(|| format!("cannot read {}", p.display()))?;
        if meta.is_dir() {
            out.extend(crate::camera::replay::images_in_folder(p)?);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}
