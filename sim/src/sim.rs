//! The event loop: pty input and output, timers, AT mode and STP mode.

use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::at::{self, Escape, Lines, GUARD};
use crate::image;
use crate::log::{Log, Snapshot, TransferRec};
use crate::modem::{Effect, Flash, Modem, Stored, StpKind, Upgrade};
use crate::opts::{Faults, Opts};
use crate::pty::Pty;
use crate::transfer::{StpOut, StpRun};

/// Set by SIGTERM/SIGINT: write the log and exit.
pub static TERM: AtomicBool = AtomicBool::new(false);
/// Set by SIGUSR1: a hard power cycle of the modem.
pub static POWER: AtomicBool = AtomicBool::new(false);

/// Longest poll() wait, so that signals and deadlines are seen soon.
const TICK_MS: u64 = 100;
/// Read size per poll round (smaller when pacing).
const READ_MAX: usize = 65536;
/// Read size per round with `--baud-pacing`.
const READ_PACED: usize = 512;
/// Bytes written per wire-time sleep with `--baud-pacing`.
const PACE_CHUNK: usize = 32;

/// A scheduled modem event.
#[derive(Debug)]
enum Event {
    /// The reset ends: boot into this mode and print `+SYSSTART`.
    Boot(u8),
    /// Flashing ends.
    FlashDone(Flash),
    /// A delayed (stalled) reply.
    Send(Vec<u8>),
}

/// Whether the modem talks AT or STP.
#[derive(Debug)]
enum Mode {
    /// AT command mode.
    At,
    /// An STP transfer is running.
    Stp(Box<StpRun>),
}

/// The whole simulator.
#[derive(Debug)]
pub struct Sim {
    opts: Opts,
    pty: Pty,
    dir: PathBuf,
    modem: Modem,
    faults: Faults,
    log: Log,
    mode: Mode,
    lines: Lines,
    escape: Escape,
    last_rx: Instant,
    resetting: bool,
    timers: Vec<(Instant, Event)>,
    start: Instant,
    last_write: Instant,
}

extern "C" fn on_signal(sig: libc::c_int) {
    if sig == libc::SIGUSR1 {
        POWER.store(true, Ordering::SeqCst);
    } else {
        TERM.store(true, Ordering::SeqCst);
    }
}

/// Installs the SIGTERM, SIGINT and SIGUSR1 handlers.
pub fn install_signals() {
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

impl Sim {
    /// Opens the pty and the record directory.
    pub fn new(opts: Opts) -> io::Result<Sim> {
        let dir = record_dir(&opts)?;
        let faults = Faults::new(&opts.faults);
        let modem = Modem::new(&opts, &faults);
        let pty = Pty::open(modem.baud)?;
        let faults_text: Vec<String> = opts.faults.iter().map(|f| format!("{f:?}")).collect();
        let info = json!({"pty": pty.path, "pid": std::process::id(), "record": dir,
            "faults": faults_text, "family": format!("{:?}", opts.family).to_lowercase()});
        let now = Instant::now();
        Ok(Sim {
            log: Log::new(&dir, info),
            opts,
            pty,
            dir,
            modem,
            faults,
            mode: Mode::At,
            lines: Lines::default(),
            escape: Escape::default(),
            last_rx: now.checked_sub(Duration::from_secs(10)).unwrap_or(now),
            resetting: false,
            timers: Vec::new(),
            start: now,
            last_write: now,
        })
    }

    /// The first stdout line.
    pub fn hello(&self) -> String {
        let (p, d) = (json!(self.pty.path), json!(self.dir));
        format!(
            "{{\"pty\": {p}, \"record\": {d}, \"pid\": {}}}",
            std::process::id()
        )
    }

    /// Serves until a signal or `--exit-after-ms`.
    pub fn run(&mut self) {
        self.log
            .event(&format!("start in boot mode {}", self.modem.state));
        self.write_log();
        while !TERM.load(Ordering::SeqCst) && !self.expired() {
            if POWER.swap(false, Ordering::SeqCst) {
                self.power_cycle();
            }
            self.step();
        }
        self.abort_transfer("simulator stopped");
        self.log.event("exit");
        self.write_log();
    }

    fn expired(&self) -> bool {
        self.opts
            .exit_after_ms
            .is_some_and(|ms| self.start.elapsed() >= Duration::from_millis(ms))
    }

    fn step(&mut self) {
        let readable = self.poll(self.timeout_ms());
        self.run_timers();
        let now = Instant::now();
        self.check_escape(now);
        if let Mode::Stp(run) = &mut self.mode {
            if let Some(v) = run.expire(now) {
                self.log.violation(v);
            }
        }
        if readable {
            self.read_input();
        }
        let busy = matches!(self.mode, Mode::Stp(_));
        if busy && self.last_write.elapsed() >= Duration::from_secs(1) {
            self.write_log();
        }
    }

    /// Milliseconds until the next thing to do (at most [`TICK_MS`]).
    fn timeout_ms(&self) -> i32 {
        let now = Instant::now();
        let mut next = now + Duration::from_millis(TICK_MS);
        let mut consider = |t: Option<Instant>| {
            if let Some(t) = t {
                next = next.min(t);
            }
        };
        consider(self.timers.iter().map(|(t, _)| *t).min());
        consider(self.escape.pending().then_some(self.last_rx + GUARD));
        if let Mode::Stp(run) = &self.mode {
            consider(run.expiry());
        }
        next.saturating_duration_since(now).as_millis() as i32 + 1
    }

    fn poll(&self, ms: i32) -> bool {
        let mut p = libc::pollfd {
            fd: self.pty.fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let r = unsafe { libc::poll(&mut p, 1, ms) };
        r > 0 && p.revents & libc::POLLIN != 0
    }

    fn read_input(&mut self) {
        let max = if self.opts.baud_pacing {
            READ_PACED
        } else {
            READ_MAX
        };
        let bytes = match self.pty.read(max) {
            Ok(b) if !b.is_empty() => b,
            Ok(_) => return,
            Err(e) => {
                eprintln!("sqnsim: pty read: {e}");
                std::thread::sleep(Duration::from_millis(50));
                return;
            }
        };
        let now = Instant::now();
        let gap = now.duration_since(self.last_rx) >= GUARD;
        self.last_rx = now;
        self.pace(bytes.len());
        if self.resetting || !self.baud_ok() {
            self.log.dropped_bytes += bytes.len() as u64;
            return;
        }
        match self.mode {
            Mode::At => self.feed_at(&bytes, gap),
            Mode::Stp(_) => self.feed_stp(&bytes),
        }
    }

    fn baud_ok(&self) -> bool {
        self.opts.ignore_baud || self.pty.host_baud() == self.modem.baud
    }

    /// Sleeps for the wire time of `n` bytes when pacing.
    fn pace(&self, n: usize) {
        if self.opts.baud_pacing && self.modem.baud > 0 {
            let ns = n as u64 * 10 * 1_000_000_000 / self.modem.baud as u64;
            std::thread::sleep(Duration::from_nanos(ns));
        }
    }

    /// Sends bytes unless the modem is silent, resetting or at the wrong baud.
    fn send(&mut self, bytes: &[u8]) {
        if self.faults.silent || self.resetting || bytes.is_empty() || !self.baud_ok() {
            return;
        }
        if !self.opts.baud_pacing {
            self.pty.write(bytes);
            return;
        }
        for chunk in bytes.chunks(PACE_CHUNK) {
            self.pace(chunk.len());
            self.pty.write(chunk);
        }
    }

    fn feed_at(&mut self, bytes: &[u8], gap: bool) {
        self.escape.feed(bytes, gap);
        if self.modem.data_mode {
            self.log.dropped_bytes += bytes.len() as u64;
            return;
        }
        for (i, &b) in bytes.iter().enumerate() {
            let Some(line) = self.lines.feed(b) else {
                continue;
            };
            self.command(&line);
            if self.resetting {
                self.log.dropped_bytes += (bytes.len() - i - 1) as u64;
                return;
            }
            if let Mode::Stp(_) = self.mode {
                self.feed_stp(&bytes[i + 1..]);
                return;
            }
        }
    }

    fn command(&mut self, line: &str) {
        let cmd = at::parse(line);
        let (t, baud, state) = (self.log.t_ms(), self.modem.baud, self.modem.state);
        let mut rec = json!({"t_ms": t, "baud": baud, "state": state, "cmd": line,
            "reply": "", "lines": [], "changes_modem": at::changes_modem(&cmd)});
        if self.faults.silent {
            self.log.commands.push(rec);
            self.write_log();
            return;
        }
        let echo = self.modem.echo;
        let ans = self.modem.handle(&cmd);
        if let Some(v) = ans.violation {
            self.log.violation(format!("{line}: {v}"));
        }
        let mut out = if echo {
            format!("{line}\r\n")
        } else {
            String::new()
        };
        for l in &ans.lines {
            out.push_str(&format!("\r\n{l}\r\n"));
        }
        let word = if ans.ok { "OK" } else { "ERROR" };
        out.push_str(&format!("\r\n{word}\r\n"));
        self.send(out.as_bytes());
        rec["reply"] = json!(word);
        rec["lines"] = json!(ans.lines);
        self.log.commands.push(rec);
        self.apply(ans.effect, line);
        self.write_log();
    }

    fn apply(&mut self, e: Effect, line: &str) {
        match e {
            Effect::None => {}
            Effect::EnterStp(kind, max) => self.start_stp(kind, max, line),
            Effect::Reboot(target) => self.start_reset(target),
            Effect::SetBaud(b) => self.modem.baud = b,
            Effect::Flash(f) => self.schedule_flash(f),
        }
    }

    fn schedule_flash(&mut self, f: Flash) {
        self.modem.upgrade = Some(Upgrade::OnGoing);
        self.log.event(&format!("flashing: {}", f.note));
        let due = Instant::now() + Duration::from_millis(self.opts.upgrade_ms);
        self.timers.push((due, Event::FlashDone(f)));
    }

    fn start_stp(&mut self, kind: StpKind, max: u16, via: &str) {
        let index = self.log.transfers.len();
        let file = self.dir.join(format!("transfer-{}.bin", index + 1));
        let run = StpRun::new(kind, max, index, &file, self.lines.ended_cr);
        self.log.transfers.push(TransferRec {
            via: via.to_string(),
            max_transfer: max,
            active: true,
            file: file.display().to_string(),
            ..Default::default()
        });
        self.log
            .event(&format!("STP transfer {} started", index + 1));
        self.mode = Mode::Stp(Box::new(run));
    }

    fn feed_stp(&mut self, bytes: &[u8]) {
        let now = Instant::now();
        let Mode::Stp(run) = &mut self.mode else {
            return;
        };
        let rec = &mut self.log.transfers[run.index];
        let (outs, rest) = run.feed(bytes, now, &mut self.faults, rec);
        for o in outs {
            self.stp_out(o);
        }
        if self.resetting {
            self.log.dropped_bytes += rest.len() as u64;
        } else if matches!(self.mode, Mode::At) && !rest.is_empty() {
            self.feed_at(&rest, false);
        }
    }

    fn stp_out(&mut self, o: StpOut) {
        match o {
            StpOut::Send(b) => self.send(&b),
            StpOut::SendLater(ms, b) => {
                let due = Instant::now() + Duration::from_millis(ms);
                self.timers.push((due, Event::Send(b)));
            }
            StpOut::Violation(v) => self.log.violation(v),
            StpOut::Finished(complete) => self.finish_transfer(complete),
            StpOut::Reboot => {
                self.abort_transfer("fault: modem rebooted");
                self.start_reset(4);
            }
        }
    }

    fn finish_transfer(&mut self, complete: bool) {
        let Mode::Stp(run) = std::mem::replace(&mut self.mode, Mode::At) else {
            return;
        };
        let rec = &mut self.log.transfers[run.index];
        rec.active = false;
        rec.complete = complete;
        let bytes = rec.bytes;
        let info = image::inspect(&run.head);
        let k = run.index + 1;
        self.lines.clear();
        if run.kind == StpKind::Updater {
            self.log.transfers[run.index].kind = "updater".into();
            self.updater_loaded(complete && info.elf, k);
            return;
        }
        let flash = self.modem.judge_image(run.kind, &info, complete, bytes);
        let kind = if flash.bootrom { "bootrom" } else { "image" };
        self.log.transfers[run.index].kind = kind.into();
        self.log.event(&format!(
            "STP transfer {k} ended (complete: {complete}): {}",
            flash.note
        ));
        match run.kind {
            StpKind::Store => self.modem.stored = Some(Stored { flash }),
            _ if flash.bootrom => self.fire(Event::FlashDone(flash)),
            _ => self.schedule_flash(flash),
        }
        self.write_log();
    }

    fn updater_loaded(&mut self, ok: bool, k: usize) {
        self.log.event(&format!(
            "STP transfer {k} ended: updater {}",
            if ok { "loads" } else { "rejected" }
        ));
        if !ok {
            self.log.violation(format!(
                "STP transfer {k}: updater incomplete or not an ELF file"
            ));
        }
        self.start_reset(if ok { 1 } else { 0 });
        self.write_log();
    }

    /// Ends a running transfer as incomplete.
    fn abort_transfer(&mut self, why: &str) {
        let Mode::Stp(run) = std::mem::replace(&mut self.mode, Mode::At) else {
            return;
        };
        let rec = &mut self.log.transfers[run.index];
        rec.active = false;
        rec.complete = false;
        if run.kind == StpKind::OnTheFly {
            self.modem.upgrade = Some(Upgrade::Fail);
        }
        self.log
            .event(&format!("STP transfer {} aborted: {why}", run.index + 1));
    }

    fn start_reset(&mut self, target: u8) {
        self.abort_transfer("modem reset");
        self.resetting = true;
        self.lines.clear();
        self.escape.reset();
        self.timers.retain(|(_, e)| !matches!(e, Event::Send(_)));
        let due = Instant::now() + Duration::from_millis(self.opts.reboot_ms);
        self.timers.push((due, Event::Boot(target)));
        self.log
            .event(&format!("reset, booting into mode {target}"));
    }

    fn power_cycle(&mut self) {
        let flashing = self
            .timers
            .iter()
            .any(|(_, e)| matches!(e, Event::FlashDone(_)));
        let otf = matches!(&self.mode, Mode::Stp(r) if r.kind == StpKind::OnTheFly);
        self.timers
            .retain(|(_, e)| !matches!(e, Event::FlashDone(_)));
        if flashing {
            self.modem.upgrade = Some(Upgrade::Fail);
        }
        let target = if flashing || otf {
            4
        } else {
            self.modem.reset_target()
        };
        self.log.event("power cycle (SIGUSR1)");
        self.start_reset(target);
        self.write_log();
    }

    fn run_timers(&mut self) {
        let now = Instant::now();
        let (mut due, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut self.timers)
            .into_iter()
            .partition(|(t, _)| *t <= now);
        self.timers = rest;
        due.sort_by_key(|(t, _)| *t);
        for (_, e) in due {
            self.fire(e);
        }
    }

    fn fire(&mut self, e: Event) {
        match e {
            Event::Send(b) => self.send(&b),
            Event::Boot(state) => {
                self.modem.boot(state);
                self.resetting = false;
                self.log.event(&format!("+SYSSTART in boot mode {state}"));
                self.send(b"\r\n+SYSSTART\r\n");
                self.write_log();
            }
            Event::FlashDone(f) => {
                let reboot = self.modem.flash_done(&f);
                let word = self.modem.upgrade.map_or("", Upgrade::word);
                self.log.event(&format!(
                    "upgrade {word}, build {}",
                    self.modem.software_build
                ));
                if let Some(t) = reboot {
                    self.start_reset(t);
                }
                self.write_log();
            }
        }
    }

    fn check_escape(&mut self, now: Instant) {
        let quiet = now.duration_since(self.last_rx) >= GUARD;
        if !self.escape.pending() || !quiet || self.resetting || !matches!(self.mode, Mode::At) {
            return;
        }
        self.escape.reset();
        self.lines.clear();
        let was_data = self.modem.data_mode;
        self.modem.data_mode = false;
        let reply = if self.faults.silent { "" } else { "OK" };
        let (t, baud, state) = (self.log.t_ms(), self.modem.baud, self.modem.state);
        self.log.commands.push(
            json!({"t_ms": t, "baud": baud, "state": state, "cmd": "+++",
            "reply": reply, "lines": [], "changes_modem": false, "left_data_mode": was_data}),
        );
        self.send(b"\r\nOK\r\n");
        self.write_log();
    }

    fn snapshot(&self) -> Snapshot {
        let m = &self.modem;
        Snapshot {
            state: m.state,
            baud: m.baud,
            echo: m.echo,
            software_build: m.software_build,
            bootloader0: m.bootloader0,
            bootrom: m.bootrom,
            upgrade: m.upgrade.map(Upgrade::word),
            data_mode: m.data_mode,
        }
    }

    fn write_log(&mut self) {
        self.log.write(&self.snapshot());
        self.last_write = Instant::now();
    }
}

/// Runs the simulator; returns the process exit code.
pub fn run(opts: Opts) -> i32 {
    let mut sim = match Sim::new(opts) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("sqnsim: cannot start: {e}");
            return 1;
        }
    };
    install_signals();
    println!("{}", sim.hello());
    let _ = io::Write::flush(&mut io::stdout());
    sim.run();
    0
}
