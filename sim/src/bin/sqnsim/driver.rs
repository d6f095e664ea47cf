//! The real-time loop: the pty, the clock, signals and the record folder.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sqnsim::Modem;

use crate::opts::Opts;
use crate::pty::Pty;

/// Set by SIGTERM/SIGINT: write the log and exit.
static TERM: AtomicBool = AtomicBool::new(false);
/// Set by SIGUSR1: a hard power cycle of the modem.
static POWER: AtomicBool = AtomicBool::new(false);

/// Longest wait, so that signals and deadlines are seen soon (ms).
const TICK_MS: u64 = 100;
/// Read size per round.
const READ_MAX: usize = 65536;
/// With pacing, the pty is read again once the modem has this little left to take (µs).
const RX_AHEAD_US: u64 = 5_000;
/// While a transfer runs, the log is rewritten at most this often.
const BUSY_WRITE: Duration = Duration::from_secs(1);

extern "C" fn on_signal(sig: libc::c_int) {
    if sig == libc::SIGUSR1 {
        POWER.store(true, Ordering::SeqCst);
    } else {
        TERM.store(true, Ordering::SeqCst);
    }
}

/// Installs the SIGTERM, SIGINT and SIGUSR1 handlers.
fn install_signals() {
    let h = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
    // SAFETY: the handler only stores to atomics.
    unsafe {
        libc::signal(libc::SIGTERM, h);
        libc::signal(libc::SIGINT, h);
        libc::signal(libc::SIGUSR1, h);
    }
}

fn record_dir(opts: &Opts) -> io::Result<PathBuf> {
    let dir = match &opts.record {
        Some(d) => d.clone(),
        None => {
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default();
            std::env::temp_dir().join(format!("sqnsim-{}-{}", std::process::id(), t.as_millis()))
        }
    };
    std::fs::create_dir_all(&dir)?;
    dir.canonicalize()
}

/// The simulator process: the modem, its pty and its record folder.
struct Driver {
    opts: Opts,
    modem: Modem,
    pty: Option<Pty>,
    pty_path: String,
    dir: PathBuf,
    start: Instant,
    files: Vec<(File, usize)>,
    written_rev: u64,
    last_write: Instant,
    violations_shown: usize,
}

impl Driver {
    fn new(opts: Opts) -> io::Result<Driver> {
        let dir = record_dir(&opts)?;
        let modem = Modem::new(opts.config());
        let pty = Pty::open(modem.baud())?;
        let start = Instant::now();
        Ok(Driver {
            pty_path: pty.path.clone(),
            pty: Some(pty),
            opts,
            modem,
            dir,
            start,
            files: Vec::new(),
            written_rev: u64::MAX,
            last_write: start,
            violations_shown: 0,
        })
    }

    /// The first stdout line.
    fn hello(&self) -> String {
        let (p, d) = (json!(self.pty_path), json!(self.dir));
        format!(
            "{{\"pty\": {p}, \"record\": {d}, \"pid\": {}}}",
            std::process::id()
        )
    }

    fn now_us(&self) -> u64 {
        self.start.elapsed().as_micros() as u64
    }

    fn expired(&self) -> bool {
        self.opts
            .exit_after_ms
            .is_some_and(|ms| self.start.elapsed() >= Duration::from_millis(ms))
    }

    fn host_baud(&self) -> u32 {
        self.pty.as_ref().map_or(0, Pty::host_baud)
    }

    fn serve(&mut self) {
        self.modem.transmit(0, self.host_baud());
        self.record(true);
        while !TERM.load(Ordering::SeqCst) && !self.expired() {
            self.step();
        }
        self.record(true);
    }

    fn step(&mut self) {
        let now = self.now_us();
        if POWER.swap(false, Ordering::SeqCst) {
            self.modem.power_cycle(now);
        }
        let out = self.modem.transmit(now, self.host_baud());
        if let (Some(pty), false) = (&self.pty, out.is_empty()) {
            pty.write(&out);
        }
        if self.modem.link_gone() && self.pty.is_some() {
            // Closing the master makes the host's reads and writes fail.
            self.pty = None;
        }
        self.record(false);
        let now = self.now_us();
        let wait_ms = self
            .modem
            .next_event_us()
            .map_or(TICK_MS, |t| t.saturating_sub(now).div_ceil(1000))
            .min(TICK_MS);
        let may_read = self.modem.receiving_until_us() <= now + RX_AHEAD_US;
        match &self.pty {
            Some(pty) if may_read => {
                if pty.wait_readable(wait_ms as i32) {
                    match pty.read(READ_MAX) {
                        Ok(bytes) if !bytes.is_empty() => {
                            let baud = pty.host_baud();
                            let t = self.now_us();
                            self.modem.receive(t, baud, &bytes);
                        }
                        Ok(_) => {}
                        Err(e) => {
                            eprintln!("sqnsim: pty read: {e}");
                            std::thread::sleep(Duration::from_millis(50));
                        }
                    }
                }
            }
            _ => std::thread::sleep(Duration::from_millis(wait_ms.max(1))),
        }
    }

    /// Appends new transfer bytes to their files and rewrites the log when it changed.
    fn record(&mut self, force: bool) {
        let log = self.modem.log();
        for (k, t) in log.transfers().iter().enumerate() {
            if self.files.len() <= k {
                let path = transfer_path(&self.dir, k);
                match File::create(&path) {
                    Ok(f) => self.files.push((f, 0)),
                    Err(e) => {
                        eprintln!("sqnsim: cannot create {}: {e}", path.display());
                        return;
                    }
                }
            }
            let (file, done) = &mut self.files[k];
            if t.data.len() > *done {
                if let Err(e) = file.write_all(&t.data[*done..]) {
                    eprintln!("sqnsim: cannot store a block: {e}");
                }
                *done = t.data.len();
            }
        }
        for v in &log.violations()[self.violations_shown..] {
            eprintln!("sqnsim: violation: {v}");
        }
        self.violations_shown = log.violations().len();
        let changed = log.revision() != self.written_rev;
        let busy = self.modem.in_stp() && self.last_write.elapsed() >= BUSY_WRITE;
        if force || changed || busy {
            self.write_log();
        }
    }

    fn write_log(&mut self) {
        let log = self.modem.log();
        let mut v: Value = log.to_json();
        v["info"]["pty"] = json!(self.pty_path);
        v["info"]["pid"] = json!(std::process::id());
        v["info"]["record"] = json!(self.dir);
        if let Some(ts) = v["transfers"].as_array_mut() {
            for (k, t) in ts.iter_mut().enumerate() {
                t["file"] = json!(transfer_path(&self.dir, k));
            }
        }
        let path = self.dir.join("log.json");
        let tmp = path.with_extension("json.tmp");
        let text = serde_json::to_string_pretty(&v).unwrap_or_default();
        let r = std::fs::write(&tmp, text).and_then(|_| std::fs::rename(&tmp, &path));
        if let Err(e) = r {
            eprintln!("sqnsim: cannot write {}: {e}", path.display());
        }
        self.written_rev = log.revision();
        self.last_write = Instant::now();
    }
}

fn transfer_path(dir: &Path, k: usize) -> PathBuf {
    dir.join(format!("transfer-{}.bin", k + 1))
}

/// Runs the simulator; returns the process exit code.
pub fn run(opts: Opts) -> i32 {
    let mut d = match Driver::new(opts) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("sqnsim: cannot start: {e}");
            return 1;
        }
    };
    install_signals();
    println!("{}", d.hello());
    let _ = io::stdout().flush();
    d.serve();
    0
}
