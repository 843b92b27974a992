# shellcheck shell=bash
# Sourced by the scripts that run teachcam. `tc=$(teachcam_binary)` gives the binary to run:
# $TEACHCAM_BIN when it is set (nothing is built), else a release build made here, in
# ${CARGO_TARGET_DIR:-target}, with cargo's own progress on stderr (a first build takes about
# 10 minutes).
teachcam_binary() {
    if [ -n "${TEACHCAM_BIN:-}" ]; then
        echo "$TEACHCAM_BIN"
    else
        echo "== building teachcam (first build takes ~10 min)" >&2
        cargo build --release >&2 || return 1
        echo "${CARGO_TARGET_DIR:-target}/release/teachcam"
    fi
}
