//! Shared helpers of the end-to-end tests: start the simulator on a pty, run the CLI
//! against it, make test images, read the simulator's log.
#![allow(dead_code)]

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A fresh folder for one test.
pub fn temp_dir(tag: &str) -> PathBuf {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!(
        "sqnsupgrade-test-{}-{}-{}",
        std::process::id(),
        tag,
        n
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The simulator binary, built by `cargo build --workspace` next to the CLI (it belongs
/// to the `sqnsim` member, so cargo does not build it for this package's tests).
pub fn sim_exe() -> PathBuf {
    let exe = Path::new(env!("CARGO_BIN_EXE_sqnsupgrade")).with_file_name("sqnsim");
    assert!(
        exe.exists(),
        "{} is missing: run `cargo build --workspace` first",
        exe.display()
    );
    exe
}

/// A running simulator.
pub struct Sim {
    child: Child,
    /// The pty the updater opens.
    pub pty: String,
    /// Where it records.
    pub record: PathBuf,
}

impl Sim {
    /// Starts `sqnsim` with `args` (plus a record folder).
    pub fn start(args: &[&str]) -> Sim {
        let record = temp_dir("sim");
        let mut child = Command::new(sim_exe())
            .args(args)
            .arg("--record")
            .arg(&record)
            .args(["--exit-after-ms", "600000"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start sqnsim");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let v: Value = serde_json::from_str(&line).expect("first line is JSON");
        Sim {
            pty: v["pty"].as_str().unwrap().to_string(),
            record,
            child,
        }
    }

    /// The log as written so far.
    pub fn log(&self) -> Value {
        let text = std::fs::read_to_string(self.record.join("log.json")).unwrap_or_default();
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// Stops the simulator and returns its final log.
    pub fn stop(mut self) -> Value {
        unsafe_kill(self.child.id());
        let _ = self.child.wait();
        self.log()
    }

    /// Runs the CLI against this simulator.
    pub fn cli(&self, args: &[&str]) -> Run {
        cli(&self.pty, args)
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn unsafe_kill(pid: u32) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(pid.to_string())
        .status();
}

/// The CLI's exit status and output.
pub struct Run {
    /// Exit code.
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    /// Both streams, for messages in assertions.
    pub fn all(&self) -> String {
        format!("--- stdout\n{}\n--- stderr\n{}", self.stdout, self.stderr)
    }
}

/// Runs `sqnsupgrade --port PTY ARGS…`.
pub fn cli(port: &str, args: &[&str]) -> Run {
    let out: Output = Command::new(env!("CARGO_BIN_EXE_sqnsupgrade"))
        .arg("--port")
        .arg(port)
        .args(["--reply-timeout", "3"])
        .args(args)
        .output()
        .expect("run sqnsupgrade");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `sqnsupgrade ARGS…` with no port from the environment (`SQNSUPGRADE_PORT`
/// removed), and the variables `env` set.
pub fn cli_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sqnsupgrade"));
    c.args(args).env_remove("SQNSUPGRADE_PORT");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run sqnsupgrade")
}

/// Writes a `.dup` of `size` bytes (`sqnsim --write-image`): `UPGR`, version 3,
/// length size − 46, the description, pseudo-random bytes.
pub fn make_dup(dir: &Path, name: &str, size: usize, description: &str) -> PathBuf {
    let path = dir.join(name);
    let status = Command::new(sim_exe())
        .arg("--write-image")
        .arg(&path)
        .args([
            "--image-size",
            &size.to_string(),
            "--image-description",
            description,
        ])
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    path
}

/// Writes an `updater.elf` stand-in of `size` bytes.
pub fn make_elf(dir: &Path, size: usize) -> PathBuf {
    let mut data: Vec<u8> = (0..size).map(|i| (i * 7 + i / 251) as u8).collect();
    data[..4].copy_from_slice(b"\x7fELF");
    let path = dir.join("updater.elf");
    std::fs::write(&path, &data).unwrap();
    path
}

/// Writes arbitrary bytes.
pub fn write(dir: &Path, name: &str, data: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, data).unwrap();
    path
}

/// The bytes of transfer number `k` (from 1) the simulator received.
pub fn transfer_bytes(log: &Value, k: usize) -> Vec<u8> {
    let t = &log["transfers"][k - 1];
    std::fs::read(t["file"].as_str().expect("transfer file")).unwrap()
}

/// Asserts the log shows no protocol violations.
pub fn assert_no_violations(log: &Value) {
    let v = log["violations"].as_array().expect("violations list");
    assert!(v.is_empty(), "violations: {v:?}");
}

/// The commands the simulator received, in order.
pub fn commands(log: &Value) -> Vec<String> {
    log["commands"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|c| c["cmd"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Asserts no command that changes the modem was sent.
pub fn assert_modem_untouched(log: &Value) {
    let changing: Vec<&Value> = log["commands"]
        .as_array()
        .expect("commands list")
        .iter()
        .filter(|c| c["changes_modem"].as_bool() == Some(true))
        .collect();
    assert!(
        changing.is_empty(),
        "modem-changing commands sent: {changing:?}"
    );
    assert!(
        log["transfers"].as_array().is_none_or(|t| t.is_empty()),
        "a transfer happened"
    );
}

/// Path as &str.
pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Asserts the CLI exited 0.
pub fn assert_ok(run: &Run) {
    assert_eq!(run.code, 0, "{}", run.all());
}

/// The SHA-256 of `data`, as 64 lowercase hex digits (what sha256sum prints).
pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Starts `sqnsupgrade --port PTY ARGS…` in the background, its output piped, with SIGINT
/// and SIGTERM at their defaults and SIGHUP at its default or ignored (as under `nohup`):
/// what an interactive shell gives a command, whatever the test runner was started with.
#[cfg(unix)]
pub fn spawn_cli(port: &str, args: &[&str], ignore_hup: bool) -> Child {
    use std::os::unix::process::CommandExt;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sqnsupgrade"));
    cmd.arg("--port")
        .arg(port)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: only signal(2), which is async-signal-safe, between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            libc::signal(libc::SIGINT, libc::SIG_DFL);
            libc::signal(libc::SIGTERM, libc::SIG_DFL);
            let hup = if ignore_hup {
                libc::SIG_IGN
            } else {
                libc::SIG_DFL
            };
            libc::signal(libc::SIGHUP, hup);
            Ok(())
        });
    }
    cmd.spawn().expect("start sqnsupgrade")
}

/// Sends `signal` to process `pid`.
#[cfg(unix)]
pub fn send_signal(pid: u32, signal: libc::c_int) {
    // SAFETY: kill(2) on a child of this test.
    let sent = unsafe { libc::kill(pid as libc::pid_t, signal) };
    assert_eq!(sent, 0, "kill({pid}, {signal})");
}

/// Waits until the simulator's log shows a transfer under way (60 s at most), then
/// `then_ms` more.
pub fn wait_for_transfer(sim: &Sim, then_ms: u64) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while sim.log()["transfers"]
        .as_array()
        .is_none_or(|t| t.is_empty())
    {
        assert!(std::time::Instant::now() < deadline, "no transfer started");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    std::thread::sleep(std::time::Duration::from_millis(then_ms));
}

/// The exit status (None when a signal ended it) and the standard error of `child`.
pub fn finished(child: Child) -> (Option<i32>, String) {
    let out = child.wait_with_output().expect("wait for sqnsupgrade");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
