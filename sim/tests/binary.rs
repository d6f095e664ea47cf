//! The `sqnsim` binary on its pty: the first stdout line, the host's baud rate read from
//! termios, `log.json` and the transfer files, SIGUSR1 as a power cycle, SIGTERM, the
//! port vanishing (`link-gone`), `--write-image`.

use std::io::{BufRead, BufReader};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

struct Sim {
    child: Child,
    pty: String,
    record: PathBuf,
}

fn temp(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("sqnsim-bin-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

impl Sim {
    fn start(tag: &str, args: &[&str]) -> Sim {
        let record = temp(tag);
        let mut child = Command::new(env!("CARGO_BIN_EXE_sqnsim"))
            .args(args)
            .arg("--record")
            .arg(&record)
            .args(["--exit-after-ms", "60000"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["pid"], child.id());
        assert_eq!(
            PathBuf::from(v["record"].as_str().unwrap()),
            record.canonicalize().unwrap()
        );
        Sim {
            pty: v["pty"].as_str().unwrap().to_string(),
            record,
            child,
        }
    }

    fn signal(&self, sig: libc::c_int) {
        // SAFETY: kill(2) on our own child.
        unsafe { libc::kill(self.child.id() as libc::pid_t, sig) };
    }

    fn stop(mut self) -> Value {
        self.signal(libc::SIGTERM);
        let _ = self.child.wait();
        let text = std::fs::read_to_string(self.record.join("log.json")).unwrap();
        serde_json::from_str(&text).unwrap()
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The host side of the pty, raw, at `baud`.
struct Port(OwnedFd);

impl Port {
    fn open(path: &str, baud: u32) -> Port {
        let c = std::ffi::CString::new(path).unwrap();
        // SAFETY: plain open(2); the fd is owned from here on.
        let fd =
            unsafe { libc::open(c.as_ptr(), libc::O_RDWR | libc::O_NOCTTY | libc::O_NONBLOCK) };
        assert!(fd >= 0, "open {path}");
        // SAFETY: fd was just opened by us.
        let p = Port(unsafe { OwnedFd::from_raw_fd(fd) });
        p.set_baud(baud);
        p
    }

    fn set_baud(&self, baud: u32) {
        let speed = match baud {
            115_200 => libc::B115200,
            _ => libc::B921600,
        };
        // SAFETY: termios is plain data filled by tcgetattr.
        unsafe {
            let mut t: libc::termios = std::mem::zeroed();
            libc::tcgetattr(self.0.as_raw_fd(), &mut t);
            libc::cfmakeraw(&mut t);
            libc::cfsetispeed(&mut t, speed);
            libc::cfsetospeed(&mut t, speed);
            libc::tcsetattr(self.0.as_raw_fd(), libc::TCSANOW, &t);
        }
    }

    fn write(&self, b: &[u8]) -> isize {
        // SAFETY: valid buffer.
        unsafe { libc::write(self.0.as_raw_fd(), b.as_ptr().cast(), b.len()) }
    }

    /// Reads until `want` is in the input or `ms` passed; Err on an I/O error.
    fn read_until(&self, want: &[u8], ms: u64) -> Result<Vec<u8>, i32> {
        let end = Instant::now() + Duration::from_millis(ms);
        let mut got = Vec::new();
        while Instant::now() < end {
            let mut buf = [0u8; 4096];
            // SAFETY: valid buffer.
            let n = unsafe { libc::read(self.0.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
            if n > 0 {
                got.extend_from_slice(&buf[..n as usize]);
                if got.windows(want.len()).any(|w| w == want) {
                    return Ok(got);
                }
            } else if n == 0 {
                return Err(0);
            } else {
                let e = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
                if e != libc::EAGAIN {
                    return Err(e);
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        Ok(got)
    }
}

#[test]
fn serves_at_on_the_pty_and_writes_the_log() {
    let sim = Sim::start("basic", &[]);
    let port = Port::open(&sim.pty, 921_600);
    port.write(b"AT+SMOD?\r\n");
    let got = port.read_until(b"OK\r\n", 3000).unwrap();
    assert!(got.ends_with(b"AT+SMOD?\r\r\n2\r\n\r\nOK\r\n"), "{got:?}");
    // SIGUSR1: a power cycle, then +SYSSTART.
    sim.signal(libc::SIGUSR1);
    let got = port.read_until(b"+SYSSTART\r\n", 3000).unwrap();
    assert!(got.ends_with(b"\r\n+SYSSTART\r\n"), "{got:?}");
    let log = sim.stop();
    assert_eq!(log["commands"][0]["cmd"], "AT+SMOD?");
    assert_eq!(log["commands"][0]["changes_modem"], false);
    assert_eq!(log["state"], 2);
    assert!(log["violations"].as_array().unwrap().is_empty());
    assert!(log["events"].to_string().contains("power cycle"));
}

#[test]
fn recovery_mode_talks_115200_until_ipr() {
    let sim = Sim::start("ffh", &["--state", "0"]);
    let port = Port::open(&sim.pty, 921_600);
    port.write(b"AT\r\n");
    assert_eq!(port.read_until(b"OK", 700).unwrap(), b"");
    port.set_baud(115_200);
    port.write(b"AT+IPR=921600\r\n");
    assert_eq!(port.read_until(b"OK\r\n", 3000).unwrap(), b"OK\r\n");
    port.set_baud(921_600);
    port.write(b"AT+SMOD?\r\n");
    assert_eq!(port.read_until(b"OK\r\n", 3000).unwrap(), b"0\r\nOK\r\n");
    let log = sim.stop();
    assert_eq!(log["baud"], 921_600);
    assert!(log["dropped_bytes"].as_u64().unwrap() >= 4);
}

#[test]
fn transfer_bytes_go_to_record_files() {
    let sim = Sim::start(
        "stp",
        &["--state", "4", "--echo", "off", "--upgrade-ms", "100"],
    );
    let port = Port::open(&sim.pty, 921_600);
    port.write(b"AT+SMSTPU=\"ON_THE_FLY\"\r\n");
    assert_eq!(port.read_until(b"OK\r\n", 3000).unwrap(), b"OK\r\n");
    let frame = |op: u8, sid: u8, tid: u32, p: &[u8]| {
        sqnsim::stp::encode(
            sqnsim::stp::SIG_HOST,
            &sqnsim::stp::Frame {
                op,
                sid,
                tid,
                payload: p.to_vec(),
            },
        )
    };
    port.write(&frame(0, 0, 0, &[]));
    assert!(port.read_until(b"tsaf", 3000).unwrap().starts_with(b"tsaf"));
    std::thread::sleep(Duration::from_millis(100));
    port.write(&frame(1, 1, 1, &[]));
    std::thread::sleep(Duration::from_millis(100));
    port.write(&frame(2, 1, 2, &[0, 5]));
    std::thread::sleep(Duration::from_millis(100));
    port.write(&frame(3, 1, 3, b"hello"));
    std::thread::sleep(Duration::from_millis(100));
    port.write(&frame(0, 0, 0, &[]));
    std::thread::sleep(Duration::from_millis(300));
    let log = sim.stop();
    let t = &log["transfers"][0];
    assert_eq!(t["bytes"], 5);
    assert_eq!(
        std::fs::read(t["file"].as_str().unwrap()).unwrap(),
        b"hello"
    );
    assert_eq!(log["result"]["upgrade"], "fail", "not a .dup");
}

#[test]
fn link_gone_closes_the_port() {
    let sim = Sim::start("gone", &["--fault", "link-gone@cmd=AT+SMOD?"]);
    let port = Port::open(&sim.pty, 921_600);
    port.write(b"AT\r\n");
    assert!(port
        .read_until(b"OK\r\n", 3000)
        .unwrap()
        .ends_with(b"OK\r\n"));
    port.write(b"AT+SMOD?\r\n");
    let r = port.read_until(b"OK\r\n", 3000);
    assert!(r.is_err(), "reads fail once the link is gone: {r:?}");
    let log = sim.stop();
    assert_eq!(log["link_gone"], true);
}

#[test]
fn write_image() {
    let dir = temp("img");
    let path = dir.join("x.dup");
    let out = Command::new(env!("CARGO_BIN_EXE_sqnsim"))
        .args([
            "--write-image",
            path.to_str().unwrap(),
            "--image-size",
            "1000",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let data = std::fs::read(&path).unwrap();
    assert_eq!(data.len(), 1000);
    assert_eq!(&data[..4], b"UPGR");
    assert_eq!(
        u32::from_le_bytes([data[8], data[9], data[10], data[11]]),
        954
    );
}
