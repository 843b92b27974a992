//! The status page as a person uses it: `teachcam run` (looping replay of photos, simulated
//! panel, the real model and a head trained through the CLI) serves the page; headless
//! Chromium driven by playwright-core (tests/browser/page.mjs) loads it, sees the live image
//! and the label bars change, is refused a capture without the token and makes one with it.
//! Screenshots go to `target/screenshots/`.
//!
//! Needs node, npm (playwright-core is installed once into `target/browser-test/`) and
//! `/usr/bin/chromium` (or `$TEACHCAM_CHROMIUM`); without them it says NOT RUN, and fails under
//! `TEACHCAM_REQUIRE_DATA`.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const TEST: &str = "the_status_page_in_a_real_browser";
const PLAYWRIGHT: &str = "playwright-core@1.65.1";
const TOKEN: &str = "browser-test-token-5f0c";
/// The browser steps take ~10 s; beyond this something hangs.
const NODE_LIMIT: Duration = Duration::from_secs(240);

/// Says NOT RUN (or fails under `TEACHCAM_REQUIRE_DATA`).
fn not_run(why: &str) {
    let msg = format!("{TEST}: NOT RUN — {why}");
    assert!(std::env::var_os("TEACHCAM_REQUIRE_DATA").is_none(), "{msg}, and TEACHCAM_REQUIRE_DATA is set");
    eprintln!("\n*** {msg} ***\n");
}

fn runs(tool: &str) -> bool {
    Command::new(tool).arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
}

/// The cargo target folder (screenshots and the npm cache live there).
fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).parent().expect("the target folder").to_path_buf()
}

/// A folder whose `node_modules` holds playwright-core, installed on first use.
fn playwright() -> Result<PathBuf, String> {
    let dir = target_dir().join("browser-test");
    if dir.join("node_modules/playwright-core/package.json").is_file() {
        return Ok(dir);
    }
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let out = Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--loglevel=error", "--prefix"])
        .arg(&dir)
        .arg(PLAYWRIGHT)
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!("npm install {PLAYWRIGHT} failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    Ok(dir)
}

/// The first `n` photos of `dir`, in name order.
fn photos(dir: &Path, n: usize) -> Vec<PathBuf> {
    let mut all: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "jpg"))
        .collect();
    all.sort();
    all.truncate(n);
    all
}

/// The daemon; stopped (SIGTERM, then killed) when dropped.
struct Daemon {
    child: Child,
    log: PathBuf,
}

impl Daemon {
    /// Starts `teachcam run` and waits until the page's API shows a detection.
    fn start(config: &str, log: &Path, port: u16) -> Self {
        let log_file = std::fs::OpenOptions::new().create(true).append(true).open(log).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_teachcam"))
            .args(["--config", config, "run"])
            .env("RUST_LOG", "info")
            .env_remove("TEACHCAM_CONFIG")
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .unwrap();
        let mut daemon = Daemon { child, log: log.to_path_buf() };
        let t = Instant::now();
        while state(port).is_none_or(|s| s["detection"].is_null()) {
            assert!(daemon.child.try_wait().unwrap().is_none(), "the daemon exited:\n{}", daemon.log());
            assert!(t.elapsed() < Duration::from_secs(120), "no detection on the page's API:\n{}", daemon.log());
            std::thread::sleep(Duration::from_millis(200));
        }
        daemon
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Stops it with SIGTERM, as systemd does; true if it exited cleanly in time.
    fn stop(&mut self) -> bool {
        // SAFETY: kill(2) on our own child's pid.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(20) {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// `GET /api/state` as JSON, if the daemon answers.
fn state(port: u16) -> Option<serde_json::Value> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    s.write_all(b"GET /api/state HTTP/1.1\r\nHost: x\r\n\r\n").ok()?;
    let mut out = Vec::new();
    s.read_to_end(&mut out).ok()?;
    let end = out.windows(4).position(|w| w == b"\r\n\r\n")?;
    serde_json::from_slice(&out[end + 4..]).ok()
}

#[test]
fn the_status_page_in_a_real_browser() {
    let Some(catsdogs) = common::catsdogs(TEST) else { return };
    let chromium =
        std::env::var_os("TEACHCAM_CHROMIUM").map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    if !runs("node") || !runs("npm") {
        return not_run("node and npm are needed (apt-get install nodejs npm)");
    }
    if !chromium.is_file() {
        return not_run(&format!("{} not found (apt-get install chromium)", chromium.display()));
    }
    let pw = match playwright() {
        Ok(d) => d,
        Err(e) => return not_run(&e),
    };

    // A data folder with a trained head: 10 photos per label through the CLI.
    let dir = tempfile::tempdir().unwrap();
    let (data, frames) = (dir.path().join("data"), dir.path().join("frames"));
    std::fs::create_dir_all(&frames).unwrap();
    for (i, (cat, dog)) in
        photos(&catsdogs.join("test/cat"), 4).iter().zip(photos(&catsdogs.join("test/dog"), 4)).enumerate()
    {
        std::os::unix::fs::symlink(cat, frames.join(format!("f{i}a.jpg"))).unwrap();
        std::os::unix::fs::symlink(dog, frames.join(format!("f{i}b.jpg"))).unwrap();
    }
    let token_file = dir.path().join("web-token");
    std::fs::write(&token_file, format!("{TOKEN}\n")).unwrap();
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let config = dir.path().join("teachcam.toml");
    let model = common::repo().join("models/efficientnet-lite0-int8.onnx");
    std::fs::write(
        &config,
        format!(
            "data_dir = {data:?}\nlabels = [\"cat\", \"dog\"]\n[model]\npath = {model:?}\nthreads = 1\n\
             [live]\nlog_every_s = 1.0\n[source]\nkind = \"replay\"\ndir = {frames:?}\nfps = 10.0\nlooping = true\n\
             [panel]\nkind = \"simulated\"\n\
             [web]\nenabled = true\nlisten = \"127.0.0.1:{port}\"\ntoken_file = {token_file:?}\nview_fps = 5.0\n"
        ),
    )
    .unwrap();
    let cfg = config.to_str().unwrap();
    for label in ["cat", "dog"] {
        let mut args = vec!["--config", cfg, "import", "--label", label];
        let files = photos(&catsdogs.join("train").join(label), 10);
        args.extend(files.iter().map(|p| p.to_str().unwrap()));
        common::ok(&args);
    }
    common::ok(&["--config", cfg, "train"]);

    let log = dir.path().join("daemon.log");
    let mut daemon = Daemon::start(cfg, &log, port);

    // The browser steps; when the script asks (RESTART), the daemon is stopped and started again.
    let shots = target_dir().join("screenshots");
    let mut node = Command::new("node")
        .arg(common::repo().join("tests/browser/page.mjs"))
        .env("TEACHCAM_URL", format!("http://127.0.0.1:{port}/"))
        .env("TEACHCAM_TOKEN", TOKEN)
        .env("TEACHCAM_LABEL", "dog")
        .env("TEACHCAM_RESTART", "1")
        .env("PLAYWRIGHT_DIR", &pw)
        .env("SCREENSHOT_DIR", &shots)
        .env("CHROMIUM", &chromium)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node runs");
    // A hung browser must not hang the test suite: node is killed after NODE_LIMIT.
    let done = Arc::new(AtomicBool::new(false));
    let watchdog = {
        let (done, pid) = (Arc::clone(&done), node.id());
        std::thread::spawn(move || {
            let t = Instant::now();
            while !done.load(Ordering::SeqCst) {
                if t.elapsed() > NODE_LIMIT {
                    // SAFETY: kill(2) on our own child's pid, which has not been waited for yet.
                    unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
                    return true;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            false
        })
    };
    let stderr = {
        let mut pipe = node.stderr.take().unwrap();
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    };
    let mut stdin = node.stdin.take();
    let mut stdout = String::new();
    for line in BufReader::new(node.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        println!("{line}");
        if line == "RESTART" {
            assert!(daemon.stop(), "the daemon stops cleanly on SIGTERM with the page open:\n{}", daemon.log());
            daemon = Daemon::start(cfg, &log, port);
            // Answer, then close the pipe so that node can exit.
            let mut pipe = stdin.take().expect("one restart");
            writeln!(pipe, "restarted").unwrap();
        }
        stdout.push_str(&line);
        stdout.push('\n');
    }
    let status = node.wait().unwrap();
    done.store(true, Ordering::SeqCst);
    assert!(!watchdog.join().unwrap(), "the browser steps took longer than {NODE_LIMIT:?}:\n{stdout}");
    assert!(
        status.success(),
        "the browser steps failed:\n{stdout}\n{}\n--- daemon log ---\n{}",
        stderr.join().unwrap(),
        daemon.log()
    );
    for step in [
        "page loaded",
        "live image updates",
        "label bars move",
        "without token refused",
        "with token accepted",
        "phone layout",
        "daemon restarted",
        "no script errors",
    ] {
        assert!(stdout.contains(step), "step {step:?} missing:\n{stdout}");
    }
    let counts = state(port).expect("the daemon still answers")["counts"]["dog"].as_u64();
    assert_eq!(counts, Some(11), "10 imported + 1 captured through the page");
    assert!(daemon.stop(), "the daemon stops cleanly on SIGTERM:\n{}", daemon.log());
}
