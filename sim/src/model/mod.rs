//! The modem as a library: AT parser and commands, boot modes and resets, timers, the
//! STP slave, flashing, faults, the log and the received images, all driven by the
//! caller's clock. No pty, no real clock, no signals, no threads: a test runs it in
//! virtual time (a 10-minute wait in a millisecond), the `sqnsim` binary on a pty.
//!
//! ```
//! use sqnsim::{Config, Modem};
//!
//! let mut m = Modem::new(Config::default());
//! m.receive(0, 921_600, b"AT+SMOD?\r\n");
//! let out = m.transmit(1_000, 921_600);
//! assert!(out.ends_with(b"\r\n2\r\n\r\nOK\r\n"));
//! assert_eq!(m.state(), Some(2));
//! assert_eq!(m.log().commands()[0].cmd, "AT+SMOD?");
//! ```

mod commands;
mod transfer;

pub use crate::fault::{Fault, Kind as FaultKind, When};
pub use crate::log::{Command, Event, Log, Status, Transfer, TransferKind};

use crate::at::{Escape, Lines, GUARD_NS};
use crate::fault::{Faults, Kind};
use crate::repl::Repl;
use crate::wire::{Segment, Wire};
use commands::{Flash, Upgrade};
use transfer::StpRun;

/// The modem's rate in FFH (state 0) after a reset.
pub const FFH_BAUD: u32 = 115_200;
/// The rate of application, upgrade and updater modes, and of FFH after `AT+IPR=921600`.
pub const FAST_BAUD: u32 = 921_600;

/// Paced input is handled at most this many bytes at a time, so that timers that start
/// meanwhile (a reset, a delayed reply) cut in at the right byte.
const PACED_SLICE: usize = 64;

/// The firmware family of the simulated modem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Family {
    /// CAT-M1, LR5.x.
    #[default]
    Catm1,
    /// NB-IoT, LR6.x.
    Nb1,
}

impl Family {
    /// Its name in the log (`catm1`, `nb1`).
    pub fn name(self) -> &'static str {
        match self {
            Family::Catm1 => "catm1",
            Family::Nb1 => "nb1",
        }
    }
}

/// Everything the `sqnsim` options configure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Boot mode at start: 0 FFH/recovery, 1 mTools, 2 application, 4 upgrade (any other
    /// value is taken as 2).
    pub state: u8,
    /// How long the modem flashes after an ON_THE_FLY transfer or `AT+SMUPGRADE` (ms).
    pub upgrade_ms: u64,
    /// How long a reset keeps the modem silent before `+SYSSTART` (ms); also how long
    /// updater.elf takes to load.
    pub reboot_ms: u64,
    /// How late the reply to the ON_THE_FLY block that reaches 8 % of the image comes
    /// (the modem erases flash), in ms.
    pub erase_ms: u64,
    /// How late the reply to the ON_THE_FLY block that completes the image comes (the
    /// modem finishes at "99 %"), in ms.
    pub finish_ms: u64,
    /// The running firmware build.
    pub software_build: u32,
    /// The build of Bootloader0 (33080 needs the bootrom package before recovery).
    pub bootloader0: u32,
    /// The firmware family.
    pub family: Family,
    /// Injected faults.
    pub faults: Vec<Fault>,
    /// Emulate the wire: each byte takes 10/baud s, in both directions.
    pub baud_pacing: bool,
    /// Understand bytes at any rate (links that cannot set one).
    pub ignore_baud: bool,
    /// The persistent echo setting at start; `None` (the default): by the start state
    /// ([`default_echo`]), on in application mode (as from the factory), off in states
    /// 0, 1 and 4 (a modem gets there only through an updater that sent `ATE0`).
    /// `ATE0`/`ATE1` change it for good, in every mode (it survives resets, boot switches
    /// and power cycles); FFH (states 0, 1) never echoes whatever it is.
    pub echo: Option<bool>,
    /// The modem's rate at start (default: 115200 in state 0, else 921600).
    pub baud: Option<u32>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            state: 2,
            upgrade_ms: 1500,
            reboot_ms: 300,
            erase_ms: 2000,
            finish_ms: 2000,
            software_build: 38638,
            bootloader0: 38638,
            family: Family::Catm1,
            faults: Vec::new(),
            baud_pacing: false,
            ignore_baud: false,
            echo: None,
            baud: None,
        }
    }
}

/// The echo setting of a modem starting in boot mode `state` when none is configured
/// (`Config::echo` `None`). PROTOCOL.md section 3: echo is a persistent setting, on from
/// the factory until `ATE0`, which survives resets and boot switches; the field updater
/// sends `ATE0` once, before its first boot switch. A modem leaves the factory in
/// application mode (2), so that is the only start state that may still echo: upgrade
/// mode (4) is reached through `AT+SMSWBOOT=3,x` or an interrupted transfer, FFH (0)
/// through `AT+SMSWBOOT=0,x` or a reset in mTools, mTools (1) only from FFH, each after
/// that `ATE0`. And the field updater reads exactly 4 bytes after
/// `AT+SMSTPU="ON_THE_FLY"` when it resumes from upgrade mode and in recovery, paths with
/// no `ATE0` of their own, which worked on real modems: they did not echo there.
pub fn default_echo(state: u8) -> bool {
    !matches!(state, 0 | 1 | 4)
}

/// Things the modem will do by itself.
#[derive(Debug, Clone)]
enum Timer {
    /// The reset ends: boot into this mode (keeping the rate when `keep_baud`: the
    /// updater starting after its load is no hardware reset).
    Boot { target: u8, keep_baud: bool },
    /// ON_THE_FLY flashing ends.
    FlashDone(Flash),
    /// FFF flashing in the updater (state 3) ends.
    FffDone,
    /// A delayed reply or command is due.
    BusyEnd,
    /// The `OK` of `AT+IPR` has left: switch to this rate.
    Baud(u32),
    /// A `t=` event fault (index in the fault list).
    Fault(usize),
}

/// What waits for the end of a busy period.
#[derive(Debug, Clone)]
enum Then {
    /// A command line handled late (`late`, `stall@cmd=`).
    Line(String, u32, Vec<Kind>),
    /// A reply sent late (`stall`, erasing, finishing).
    Send(Vec<u8>),
}

/// The simulated SQN3330, driven by the caller's clock (see the module docs).
#[derive(Debug)]
pub struct Modem {
    cfg: Config,
    faults: Faults,
    log: Log,
    origin: Option<u64>,
    now: u64,
    rx: Wire,
    tx: Wire,
    timers: Vec<(u64, u64, Timer)>,
    seq: u64,
    // The modem itself.
    mode: u8,
    resetting: bool,
    hung: bool,
    gone: bool,
    silent: bool,
    echo: bool,
    baud: u32,
    software_build: u32,
    boot_select: Option<u8>,
    upgrade: Option<Upgrade>,
    stored: Option<Flash>,
    fff: Option<Flash>,
    bootrom: bool,
    app_intact: bool,
    data_mode: bool,
    // Input handling.
    lines: Lines,
    escape: Escape,
    last_rx: u64,
    stp: Option<Box<StpRun>>,
    busy: Option<(u64, Then)>,
    backlog: Vec<u8>,
    repl: Option<Repl>,
    requests: u32,
}

impl Modem {
    /// A modem as `cfg` describes it, at rest in its boot mode.
    pub fn new(cfg: Config) -> Modem {
        let faults = Faults::new(&cfg.faults);
        let only_115200 = faults.has(|k| k == Kind::Only115200);
        let mode = if matches!(cfg.state, 0 | 1 | 2 | 4) {
            cfg.state
        } else {
            2
        };
        let baud = match cfg.baud {
            _ if only_115200 => FFH_BAUD,
            Some(b) => b,
            None if mode == 0 => FFH_BAUD,
            None => FAST_BAUD,
        };
        let log = Log {
            faults: cfg.faults.iter().map(|f| f.spec().to_string()).collect(),
            family: cfg.family.name(),
            ..Log::default()
        };
        let mut m = Modem {
            silent: faults.has(|k| k == Kind::Silent),
            data_mode: faults.has(|k| k == Kind::DataMode),
            repl: faults.has(|k| k == Kind::Repl).then(Repl::default),
            faults,
            log,
            origin: None,
            now: 0,
            rx: Wire::default(),
            tx: Wire::default(),
            timers: Vec::new(),
            seq: 0,
            mode,
            resetting: false,
            hung: false,
            gone: false,
            echo: cfg.echo.unwrap_or_else(|| default_echo(mode)),
            baud,
            software_build: cfg.software_build,
            boot_select: None,
            upgrade: None,
            stored: None,
            fff: None,
            bootrom: false,
            app_intact: mode == 2,
            lines: Lines::default(),
            escape: Escape::default(),
            last_rx: 0,
            stp: None,
            busy: None,
            backlog: Vec::new(),
            requests: 0,
            cfg,
        };
        m.sync();
        m
    }

    /// The host wrote `bytes` at time `now_us` (µs, any origin, never decreasing) with
    /// its UART at `host_baud`. Bytes at a rate other than the modem's are garbage
    /// (dropped); with pacing they arrive one by one, 10 bit times each at `host_baud`.
    pub fn receive(&mut self, now_us: u64, host_baud: u32, bytes: &[u8]) {
        let now = self.start(now_us);
        self.advance(now);
        if !self.gone {
            self.rx.push(now, host_baud, self.cfg.baud_pacing, bytes);
            self.advance(now);
        }
        self.sync();
    }

    /// Advances the modem to `now_us` (timers fire: the end of a reset and `+SYSSTART`,
    /// the end of flashing, delayed replies, paced bytes) and returns what it has sent
    /// up to then that the host has not taken yet. With baud pacing each byte takes
    /// 10/baud s on the wire; bytes sent at a rate other than `host_baud` are lost.
    pub fn transmit(&mut self, now_us: u64, host_baud: u32) -> Vec<u8> {
        let now = self.start(now_us);
        self.advance(now);
        let mut out = Vec::new();
        while let Some(seg) = self.tx.pop(now, usize::MAX) {
            let understood = seg.baud == 0 || self.cfg.ignore_baud || seg.baud == host_baud;
            if understood && !self.gone {
                out.extend_from_slice(&seg.data);
            } else {
                self.log.dropped_output += seg.data.len() as u64;
            }
        }
        self.sync();
        out
    }

    /// When the modem next does something by itself (a timer, the next paced byte in
    /// either direction), in the caller's µs, if ever.
    pub fn next_event_us(&self) -> Option<u64> {
        let ns = [self.next_internal(), self.tx.next_time()]
            .into_iter()
            .flatten()
            .min()?;
        Some(ns.div_ceil(1000))
    }

    /// When the bytes received so far will all have arrived (µs; with pacing the line
    /// is busy until then): a driver reads more from its port only when this is near.
    pub fn receiving_until_us(&self) -> u64 {
        self.rx.free_at().div_ceil(1000)
    }

    /// The boot mode now (0..4) as `AT+SMOD?` would answer it, or None while it resets,
    /// is inside an STP session, is silent or hung, is in data mode, or is not a modem
    /// at all (`repl`) or gone (`link-gone`).
    pub fn state(&self) -> Option<u8> {
        let deaf = self.gone
            || self.repl.is_some()
            || self.silent
            || self.hung
            || self.resetting
            || self.stp.is_some()
            || self.data_mode;
        (!deaf).then_some(self.mode)
    }

    /// True while an STP session is open (the modem does not take AT commands).
    pub fn in_stp(&self) -> bool {
        self.stp.is_some()
    }

    /// A hard power cycle (unplug, plug in) at `now_us`.
    pub fn power_cycle(&mut self, now_us: u64) {
        let now = self.start(now_us);
        self.advance(now);
        if self.gone {
            self.sync();
            return;
        }
        self.log.event(self.t_us(), "power cycle".into());
        if self.repl.is_some() {
            self.repl = Some(Repl::default());
            self.send_any(&Repl::boot());
            self.sync();
            return;
        }
        let target = self.crash_target();
        self.interrupt("power cycle");
        self.hung = false;
        self.data_mode = false;
        self.start_reset(target, false);
        self.sync();
    }

    /// The port comes back (the USB cable plugged in again). A board powered over that
    /// cable lost power meanwhile, so the modem restarts as after a power cycle.
    pub fn reconnect(&mut self, now_us: u64) {
        if !self.gone {
            return;
        }
        self.gone = false;
        self.log.event(self.t_us(), "link back".into());
        self.power_cycle(now_us);
    }

    /// True once a `link-gone` fault fired: the port is gone (the host's reads and
    /// writes must fail from then on; a test harness turns this into an I/O error).
    pub fn link_gone(&self) -> bool {
        self.gone
    }

    /// What happened: commands, violations, events, transfers with their bytes, the
    /// states the modem went through.
    pub fn log(&self) -> &Log {
        &self.log
    }

    /// The configuration it was made with.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// The modem's own baud rate now.
    pub fn baud(&self) -> u32 {
        self.baud
    }

    /// The persistent echo setting now (whether states 2-4 echo); FFH never echoes.
    pub fn echo_setting(&self) -> bool {
        self.echo
    }

    /// The running firmware build.
    pub fn software_build(&self) -> u32 {
        self.software_build
    }

    // ----- time --------------------------------------------------------------------

    /// Converts the caller's µs to the model's ns, fixing the origin on the first call.
    fn start(&mut self, now_us: u64) -> u64 {
        let now = now_us.saturating_mul(1000).max(self.now);
        if self.origin.is_none() {
            self.origin = Some(now);
            self.now = now;
            self.last_rx = now.saturating_sub(10 * GUARD_NS);
            self.log.origin_us = now / 1000;
            self.log.states.push((now / 1000, self.mode));
            self.log
                .event(now / 1000, format!("start in boot mode {}", self.mode));
            for (ms, k) in self.faults.timed_events() {
                self.schedule(now + ms * 1_000_000, Timer::Fault(k));
            }
        }
        now
    }

    fn t_us(&self) -> u64 {
        self.now / 1000
    }

    fn t_ms(&self) -> u64 {
        self.now.saturating_sub(self.origin.unwrap_or(0)) / 1_000_000
    }

    fn schedule(&mut self, at: u64, t: Timer) {
        self.seq += 1;
        self.timers.push((at, self.seq, t));
    }

    /// The next timer, the end of the silence after `+++`, and when a partial STP
    /// frame goes stale (ns).
    fn deadlines(&self) -> (Option<u64>, Option<u64>, Option<u64>) {
        let timer = self.timers.iter().map(|(t, _, _)| *t).min();
        let escape = (self.escape.pending() && self.stp.is_none() && !self.resetting)
            .then_some(self.last_rx + GUARD_NS);
        let stale = self.stp.as_ref().and_then(|s| s.framer.expiry());
        (timer, escape, stale)
    }

    /// The earliest deadline or received byte (ns).
    fn next_internal(&self) -> Option<u64> {
        let (timer, escape, stale) = self.deadlines();
        [timer, escape, stale, self.rx.next_time()]
            .into_iter()
            .flatten()
            .min()
    }

    /// Runs everything due up to `until` (ns), in time order.
    fn advance(&mut self, until: u64) {
        loop {
            let (timer, escape, stale) = self.deadlines();
            let event = [timer, escape, stale].into_iter().flatten().min();
            let rx = self.rx.next_time();
            match (event, rx) {
                (Some(e), r) if e <= until && r.is_none_or(|r| e <= r) => {
                    self.now = self.now.max(e);
                    if timer == Some(e) {
                        self.fire_timer(e);
                    } else if escape == Some(e) {
                        self.escape_done();
                    } else if let Some(run) = &mut self.stp {
                        if let Some(v) = run.framer.expire(e) {
                            self.log.violation(v);
                        }
                    }
                }
                (_, Some(r)) if r <= until => {
                    let limit = event.map_or(until, |e| until.min(e.saturating_sub(1)));
                    if let Some(seg) = self.rx.pop(limit.max(r), PACED_SLICE) {
                        self.input(seg);
                    }
                }
                _ => break,
            }
        }
        self.now = self.now.max(until);
    }

    fn fire_timer(&mut self, at: u64) {
        let Some(k) = self
            .timers
            .iter()
            .enumerate()
            .filter(|(_, (t, _, _))| *t == at)
            .min_by_key(|(_, (_, s, _))| *s)
            .map(|(k, _)| k)
        else {
            return;
        };
        let (_, _, timer) = self.timers.remove(k);
        match timer {
            Timer::Boot { target, keep_baud } => self.boot(target, keep_baud),
            Timer::FlashDone(f) => self.flash_done(&f),
            Timer::FffDone => self.fff_done(),
            Timer::BusyEnd => self.busy_end(),
            Timer::Baud(b) => {
                self.baud = b;
                self.log.event(self.t_us(), format!("baud rate now {b}"));
            }
            Timer::Fault(k) => {
                if let Some(kind) = self.faults.fire(k) {
                    self.event_fault(kind, "time");
                }
            }
        }
    }

    /// A `reboot`, `hang` or `link-gone` fault fires now.
    fn event_fault(&mut self, kind: Kind, why: &str) {
        self.log
            .event(self.t_us(), format!("fault {kind:?} ({why})"));
        match kind {
            Kind::Reboot if !self.resetting && !self.silent && self.repl.is_none() => {
                let target = self.crash_target();
                self.interrupt("fault: modem rebooted");
                self.start_reset(target, false);
            }
            Kind::Hang => {
                if let Some(run) = &mut self.stp {
                    run.hung = true;
                } else {
                    self.hung = true;
                }
                self.busy = None;
            }
            Kind::LinkGone => self.vanish(),
            _ => {}
        }
    }

    fn vanish(&mut self) {
        self.gone = true;
        self.rx.clear();
        self.tx.clear();
        self.log.event(self.t_us(), "the link is gone".into());
    }

    // ----- output ------------------------------------------------------------------

    /// Sends bytes at the modem's rate, unless it cannot talk now.
    fn send(&mut self, bytes: &[u8]) {
        if self.gone || self.silent || self.hung || self.resetting || bytes.is_empty() {
            return;
        }
        self.tx
            .push(self.now, self.baud, self.cfg.baud_pacing, bytes);
    }

    /// Sends bytes any host rate understands (the REPL's USB port).
    fn send_any(&mut self, bytes: &[u8]) {
        if !self.gone {
            self.tx.push(self.now, 0, false, bytes);
        }
    }

    /// Starts a busy period: input waits until `now + ms`, then `then` happens.
    fn busy_for(&mut self, ms: u64, then: Then) {
        let until = self.now + ms * 1_000_000;
        self.busy = Some((until, then));
        self.schedule(until, Timer::BusyEnd);
    }

    fn busy_end(&mut self) {
        let Some((_, then)) = self.busy.take() else {
            return;
        };
        match then {
            Then::Line(line, req, hits) => self.handle_line(line, req, hits),
            Then::Send(bytes) => self.send(&bytes),
        }
        if self.stp.is_some() {
            self.stp_frames();
        }
        let backlog = std::mem::take(&mut self.backlog);
        if !backlog.is_empty() {
            self.input(Segment::instant(self.now, self.baud, backlog));
        }
    }

    // ----- input -------------------------------------------------------------------

    /// Handles bytes that arrived, one by one in AT mode, frame by frame in STP.
    fn input(&mut self, seg: Segment) {
        let mut i = 0;
        while i < seg.data.len() {
            self.now = self.now.max(seg.arrival(i));
            if self.gone {
                return;
            }
            let b = seg.data[i];
            if let Some(repl) = &mut self.repl {
                let step = repl.feed(b);
                self.send_any(&step.out);
                if let Some(line) = step.line {
                    self.repl_line(line);
                }
                i += 1;
                continue;
            }
            let understood = self.cfg.ignore_baud || seg.baud == 0 || seg.baud == self.baud;
            if self.resetting || !understood {
                self.log.dropped_bytes += 1;
                i += 1;
                continue;
            }
            if self.busy.is_some() {
                self.backlog.push(b);
                i += 1;
                continue;
            }
            if let Some(run) = &self.stp {
                let n = run.framer.need().min(seg.data.len() - i);
                self.now = self.now.max(seg.arrival(i + n - 1));
                self.last_rx = self.now;
                self.stp_input(&seg.data[i..i + n]);
                i += n;
                continue;
            }
            self.at_byte(b);
            i += 1;
        }
    }

    fn repl_line(&mut self, line: String) {
        self.requests += 1;
        let c = Command {
            t_us: self.t_us(),
            cmd: line,
            req: self.requests,
            baud: self.baud,
            state: self.mode,
            reply: String::new(),
            lines: Vec::new(),
            changes_modem: false,
            note: Some("MicroPython REPL".into()),
        };
        self.log.command(c);
    }

    /// One byte in AT command mode.
    fn at_byte(&mut self, b: u8) {
        let gap = self.now.saturating_sub(self.last_rx) >= GUARD_NS;
        self.last_rx = self.now;
        self.escape.feed(&[b], gap);
        if self.data_mode {
            self.log.dropped_bytes += 1;
            return;
        }
        let lf_of_crlf = b == b'\n' && self.lines.ended_cr;
        if self.echoes() && !lf_of_crlf {
            self.send(&[b]);
        }
        if let Some(line) = self.lines.feed(b) {
            self.command_line(line);
        }
    }

    /// True when this boot mode echoes: the persistent setting, never in FFH.
    fn echoes(&self) -> bool {
        self.echo && !matches!(self.mode, 0 | 1)
    }

    /// `+++` with guard silence on both sides.
    fn escape_done(&mut self) {
        self.escape.reset();
        self.lines.clear();
        if self.silent || self.hung {
            return;
        }
        let was_data = std::mem::replace(&mut self.data_mode, false);
        self.requests += 1;
        let c = Command {
            t_us: self.t_us(),
            cmd: "+++".into(),
            req: self.requests,
            baud: self.baud,
            state: self.mode,
            reply: "OK".into(),
            lines: Vec::new(),
            changes_modem: false,
            note: was_data.then(|| "left data mode".to_string()),
        };
        self.log.command(c);
        let out = self.render(&[], true, None);
        self.send(&out);
    }

    // ----- resets ------------------------------------------------------------------

    /// The mode a reset returns to: the selected boot, else the current mode (the
    /// updater in RAM is lost: 1 → 0; an interrupted FFF flash: 3 → 4).
    fn reset_target(&self) -> u8 {
        match (self.boot_select, self.mode) {
            (Some(s), _) => s,
            (None, 1) => 0,
            (None, 3) => 4,
            (None, m) => m,
        }
    }

    /// Where a reset nobody asked for (power cycle, crash) leaves the modem.
    fn crash_target(&self) -> u8 {
        if let Some(run) = &self.stp {
            // docs/PROTOCOL.md section 4: an interrupted image transfer leaves the modem in upgrade mode.
            return match run.kind {
                transfer::Kind::OnTheFly | transfer::Kind::Store => 4,
                transfer::Kind::Updater => 0,
            };
        }
        let flashing_otf = self
            .timers
            .iter()
            .any(|(_, _, t)| matches!(t, Timer::FlashDone(_)));
        if self.mode == 3 || self.fff.is_some() || flashing_otf {
            return 4;
        }
        self.reset_target()
    }

    /// Cuts whatever the modem was doing (transfer, flashing, delayed replies).
    fn interrupt(&mut self, why: &str) {
        self.abort_transfer(why);
        let flashing = self.fff.take().is_some()
            || self
                .timers
                .iter()
                .any(|(_, _, t)| matches!(t, Timer::FlashDone(_) | Timer::FffDone));
        if flashing {
            self.upgrade = Some(Upgrade::Fail);
            self.app_intact = false;
            self.log
                .event(self.t_us(), format!("flashing interrupted ({why})"));
        }
        self.timers.retain(|(_, _, t)| matches!(t, Timer::Fault(_)));
        self.busy = None;
        self.backlog.clear();
    }

    /// Starts a reset into `target`: silence, then `+SYSSTART`.
    fn start_reset(&mut self, target: u8, keep_baud: bool) {
        self.abort_transfer("modem reset");
        self.timers
            .retain(|(_, _, t)| !matches!(t, Timer::BusyEnd | Timer::Baud(_) | Timer::Boot { .. }));
        self.busy = None;
        self.backlog.clear();
        self.resetting = true;
        self.mode = target;
        self.lines.clear();
        self.escape.reset();
        let due = self.now + self.cfg.reboot_ms * 1_000_000;
        self.schedule(due, Timer::Boot { target, keep_baud });
        self.log
            .event(self.t_us(), format!("reset, booting into mode {target}"));
    }

    fn boot(&mut self, target: u8, keep_baud: bool) {
        self.resetting = false;
        self.mode = target;
        if !keep_baud {
            self.baud = self.boot_baud(target);
        }
        self.boot_select = None;
        self.data_mode = false;
        self.log.states.push((self.t_us(), target));
        self.log
            .event(self.t_us(), format!("+SYSSTART in boot mode {target}"));
        self.send(b"\r\n+SYSSTART\r\n");
        if target == 3 && self.fff.is_some() {
            let due = self.now + self.cfg.upgrade_ms * 1_000_000;
            self.schedule(due, Timer::FffDone);
        }
    }

    fn boot_baud(&self, target: u8) -> u32 {
        if target == 0 || self.faults.has(|k| k == Kind::Only115200) {
            FFH_BAUD
        } else {
            FAST_BAUD
        }
    }

    /// Copies the modem's fields into the log's status.
    fn sync(&mut self) {
        self.log.requests = self.requests;
        self.log.status = Status {
            state: self.mode,
            baud: self.baud,
            echo: self.echo,
            software_build: self.software_build,
            bootloader0: self.cfg.bootloader0,
            bootrom: self.bootrom,
            upgrade: self.upgrade.map(Upgrade::word),
            data_mode: self.data_mode,
            link_gone: self.gone,
        };
    }
}

#[cfg(test)]
mod tests;
