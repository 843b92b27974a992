//! The `rpicam-vid` child process: started with its stdout piped to us and the last lines of
//! its stderr kept for error messages, ended politely (close the pipe, then kill).

use std::collections::VecDeque;
use std::io::{self, BufRead, BufReader};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use log::debug;

use super::CameraError;

/// Number of stderr lines kept for error messages.
const STDERR_LINES: usize = 20;
/// 10 ms steps to wait for the child to exit by itself before killing it.
const EXIT_WAIT_STEPS: u32 = 30;
/// The running child process with its output pipes.
pub(super) struct Running {
    child: Child,
    /// The frames come from here.
    pub(super) stdout: ChildStdout,
    stderr_tail: Arc<Mutex<VecDeque<String>>>,
    stderr_thread: Option<JoinHandle<()>>,
    /// Frames delivered by this run.
    pub(super) frames: u64,
}

impl Running {
    /// Starts `command` with `args`.
    pub(super) fn spawn(command: &str, args: &[String]) -> Result<Self, CameraError> {
        let mut child = Command::new(command)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| match source.kind() {
                io::ErrorKind::NotFound => CameraError::CommandNotFound { command: command.to_string() },
                _ => CameraError::Spawn { command: command.to_string(), source },
            })?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr = child.stderr.take().expect("stderr is piped");
        let stderr_tail = Arc::new(Mutex::new(VecDeque::new()));
        let tail = Arc::clone(&stderr_tail);
        let name = command.to_string();
        let stderr_thread = thread::Builder::new()
            .name("rpicam-stderr".into())
            .spawn(move || {
                for line in BufReader::new(stderr).lines() {
                    let Ok(line) = line else { break };
                    debug!("{name}: {line}");
                    let mut tail = tail.lock().unwrap_or_else(|e| e.into_inner());
                    if tail.len() == STDERR_LINES {
                        tail.pop_front();
                    }
                    tail.push_back(line);
                }
            })
            .map_err(|source| CameraError::Spawn { command: command.to_string(), source })?;
        Ok(Running { child, stdout, stderr_tail, stderr_thread: Some(stderr_thread), frames: 0 })
    }

    /// Kills the child (if still running) and returns its exit status and
    /// the last lines of its stderr.
    pub(super) fn end(self) -> (String, String) {
        let Running { mut child, stdout, stderr_tail, stderr_thread, .. } = self;
        // Close our end first: rpicam-vid then fails its next write and
        // exits on its own; kill it only if it does not within a moment.
        drop(stdout);
        let mut exited = child.try_wait();
        for _ in 0..EXIT_WAIT_STEPS {
            if !matches!(exited, Ok(None)) {
                break;
            }
            thread::sleep(Duration::from_millis(10));
            exited = child.try_wait();
        }
        let status = match exited {
            Ok(Some(status)) => status.to_string(),
            _ => {
                let _ = child.kill();
                match child.wait() {
                    Ok(status) => status.to_string(),
                    Err(e) => format!("unknown ({e})"),
                }
            }
        };
        // The stderr reader ends at EOF; a grandchild may hold the pipe
        // open, so wait only briefly.
        if let Some(t) = stderr_thread {
            for _ in 0..50 {
                if t.is_finished() {
                    break;
                }
                thread::sleep(Duration::from_millis(10));
            }
            if t.is_finished() {
                let _ = t.join();
            }
        }
        let lines = stderr_tail.lock().unwrap_or_else(|e| e.into_inner());
        let tail = lines.iter().cloned().collect::<Vec<_>>().join("\n");
        (status, tail)
    }
}
