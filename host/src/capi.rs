//! A C ABI over the host side (feature `host`), for the CPython shim
//! (`python_shim/sqnsupgrade.py`, loaded with ctypes) and any other C caller.
//!
//! The library (`libsqnsupgrade.so`, crate type `cdylib`) runs the same engine as the
//! `sqnsupgrade` CLI: it opens the serial port, drives [`crate::Updater`], reports what
//! happens through a callback and fills a [`SqnOutcome`]. The caller only converts
//! arguments and prints: there is no protocol logic on the other side.
//!
//! ```c
//! typedef void (*sqn_sink)(void *user, uint32_t kind, const char *text,
//!                          uint32_t done, uint32_t total);
//! uint32_t    sqn_host_abi_version(void);            /* SQN_ABI_VERSION */
//! const char *sqn_host_version(void);                /* "0.1.0" */
//! size_t      sqn_host_options_size(void);           /* sizeof(SqnHostOptions) */
//! size_t      sqn_host_outcome_size(void);           /* sizeof(SqnOutcome) */
//! void        sqn_host_options_default(SqnHostOptions *options);
//! void        sqn_host_cancel(void);                 /* any thread, any time */
//! int32_t     sqn_host_run(const char *port, const char *firmware,
//!                          const char *updater /* NULL */, const char *bootrom /* NULL */,
//!                          const SqnHostOptions *options /* NULL: defaults */,
//!                          sqn_sink sink /* NULL */, void *user, SqnOutcome *outcome /* NULL */);
//! int32_t     sqn_host_info(const char *port, const SqnHostOptions *options,
//!                           sqn_sink sink, void *user, SqnOutcome *outcome);
//! int32_t     sqn_host_state(const char *port, const SqnHostOptions *options,
//!                            sqn_sink sink, void *user, SqnOutcome *outcome);
//! ```
//!
//! Every operation returns the CLI's exit status: [`SQN_OK`] (0), [`SQN_MODEM_FAILED`] (1,
//! the modem failed; the outcome says its state and the command that continues),
//! [`SQN_BAD_INPUT`] (2, a bad argument or file; the modem was not touched) or
//! [`SQN_CANCELLED`] (130, [`sqn_host_cancel`] was called).
//!
//! One operation runs at a time per process; a second concurrent call returns
//! [`SQN_BAD_INPUT`] at once. The sink is called on the calling thread, during the call.
//!
//! Ctrl-C: the library installs no signal handler (the host program keeps its own).
//! [`sqn_host_cancel`] sets a flag that the engine checks between reads (at most 500 ms
//! apart) and while it sleeps; the operation then ends with [`SQN_CANCELLED`]. The flag is
//! cleared when an operation starts, so a caller racing with the start should call
//! [`sqn_host_cancel`] again until the operation has returned.

use crate::tty::Tty;
use crate::{is_upgdiff, state_line, StdClock};
use core::ffi::{c_char, c_void, CStr};
use sqnsupgrade::error::{Error, FileRole};
use sqnsupgrade::hal::{Cancel, Clock, Event, Events, Hal, Parts, Stage};
use sqnsupgrade::state::State;
use sqnsupgrade::stp::{StpConfig, FIELD_BLOCK_SIZE, MAX_BLOCK_SIZE};
use sqnsupgrade::updater::{
    Failure, Method, MethodChoice, Next, Options, Updater, Workspace, FAST_BAUD,
};
use sqnsupgrade::version::Versions;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Version of this ABI; it changes whenever a function or a structure changes.
pub const SQN_ABI_VERSION: u32 = 1;

/// Status: success.
pub const SQN_OK: i32 = 0;
/// Status: the modem failed (or the port could not be opened).
pub const SQN_MODEM_FAILED: i32 = 1;
/// Status: a bad argument or file; nothing that changes the modem was sent.
pub const SQN_BAD_INPUT: i32 = 2;
/// Status: stopped by [`sqn_host_cancel`].
pub const SQN_CANCELLED: i32 = 130;

/// Event: a line for the user (`text`). The line is left open: dots of a following
/// [`SQN_EVENT_TICK`] join it, as in the field updater's output.
pub const SQN_EVENT_MESSAGE: u32 = 1;
/// Event: a command or reply (`text`), sent only when [`SqnHostOptions::debug`] is set.
pub const SQN_EVENT_DEBUG: u32 = 2;
/// Event: a transfer starts; `text` is `Sending N bytes`, `done` 0, `total` N.
pub const SQN_EVENT_TRANSFER_START: u32 = 3;
/// Event: transfer progress: `done` of `total` bytes acknowledged by the modem; `text` "".
pub const SQN_EVENT_PROGRESS: u32 = 4;
/// Event: the transfer ended (all bytes acknowledged); `done` = `total` = N, `text` "".
pub const SQN_EVENT_TRANSFER_END: u32 = 5;
/// Event: one more wait step while the modem works (print a dot); `text` "".
pub const SQN_EVENT_TICK: u32 = 6;
/// Event: a new stage starts; `text` names it (`check-files`, `detect`, `prepare`,
/// `switch-to-upgrade`, `bootrom`, `load-updater`, `transfer`, `flashing`, `finish`).
/// Informative only: printers may ignore it.
pub const SQN_EVENT_STAGE: u32 = 7;

/// The event callback: `user` is the caller's pointer, given back unchanged; `text` is a
/// NUL-terminated UTF-8 string valid only during the call; `done`/`total` are byte counts
/// for the transfer events (0 otherwise). Called on the thread running the operation.
pub type SqnSink = Option<
    unsafe extern "C" fn(user: *mut c_void, kind: u32, text: *const c_char, done: u32, total: u32),
>;

/// How an operation runs. Fill it with [`sqn_host_options_default`], then change fields.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SqnHostOptions {
    /// 0 automatic (FFF up to 4 MiB in application mode, else ON_THE_FLY), 1 FFF only,
    /// 2 ON_THE_FLY only (the field updater's `load_fff=False`).
    pub method: u32,
    /// STP block size in bytes, 16 to 8176; 0 uses the session's whole max transfer − 16.
    /// The default is 2016, what field units use.
    pub block_size: u32,
    /// Seconds to wait for each STP reply before resending; 0 means the default (90).
    pub reply_timeout_s: u32,
    /// Non-zero: the caller expects the modem in upgrade mode (an interrupted update).
    pub resume: u8,
    /// Non-zero: `info` prints the whole SYSTEM VERSION block (`showver`).
    pub verbose: u8,
    /// Non-zero: send every AT command and reply as [`SQN_EVENT_DEBUG`].
    pub debug: u8,
    /// Non-zero: RTS/CTS flow control was asked for. It is not supported: a message says
    /// so and the operation continues without it.
    pub flow_control: u8,
}

impl Default for SqnHostOptions {
    fn default() -> Self {
        SqnHostOptions {
            method: 0,
            block_size: FIELD_BLOCK_SIZE as u32,
            reply_timeout_s: 90,
            resume: 0,
            verbose: 0,
            debug: 0,
            flow_control: 0,
        }
    }
}

/// What an operation found and did. Every text is NUL-terminated UTF-8, cut to fit;
/// numbers the operation did not learn are -1 (states) or 0.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SqnOutcome {
    /// The status the function returned (0, 1, 2 or 130).
    pub status: i32,
    /// The modem's state (`AT+SMOD?` number) when the operation started; -1 unknown
    /// (always -1 after a failed `run`: the failure reports the state it left).
    pub state_before: i32,
    /// The modem's state at the end (for `info`/`state`: the state found); -1 unknown
    /// (no answer, or not asked after a failure that did not change the modem).
    pub state_after: i32,
    /// Method of the firmware transfer: 0 none, 1 FFF, 2 ON_THE_FLY.
    pub method: u32,
    /// Bytes the modem acknowledged (all files of a `run`; after a failed transfer, the
    /// bytes of that file acknowledged before it failed).
    pub bytes_sent: u32,
    /// Software build before a `run` (application mode only), 0 unknown.
    pub build_before: u32,
    /// Software build after a `run`, or found by `info`; 0 unknown.
    pub build_after: u32,
    /// 1 when a command that changes the modem had been sent, else 0.
    pub modem_changed: u32,
    /// How long the operation took, in milliseconds.
    pub elapsed_ms: u64,
    /// IMEI (after a `run`, or found by `info`), "" unknown.
    pub imei: [c_char; 24],
    /// The firmware's `LR` line (e.g. `LR5.1.1.0-38638`) after a `run` or from `info`.
    pub firmware: [c_char; 48],
    /// The modem line of a failure: `not changed`, or the state (`4 upgrade mode`, or
    /// `unknown (no answer)`); "" on success.
    pub modem: [c_char; 64],
    /// What went wrong ("" on success), with the path of the file it is about.
    pub error: [c_char; 256],
    /// What to do about it, in one line ("" on success).
    pub hint: [c_char; 256],
    /// The Python command that continues, e.g.
    /// `sqnsupgrade.run('/dev/ttyUSB0', 'CATM1-41065.dup')`, possibly after an instruction
    /// (`unplug the board's power, plug it in, then: …`); "" on success.
    pub next: [c_char; 256],
}

impl Default for SqnOutcome {
    fn default() -> Self {
        SqnOutcome {
            status: SQN_OK,
            state_before: -1,
            state_after: -1,
            method: 0,
            bytes_sent: 0,
            build_before: 0,
            build_after: 0,
            modem_changed: 0,
            elapsed_ms: 0,
            imei: [0; 24],
            firmware: [0; 48],
            modem: [0; 64],
            error: [0; 256],
            hint: [0; 256],
            next: [0; 256],
        }
    }
}

// ----- cancel, clock and events ------------------------------------------------------

static CANCEL: AtomicBool = AtomicBool::new(false);
static BUSY: AtomicBool = AtomicBool::new(false);

fn cancelled() -> bool {
    CANCEL.load(Ordering::SeqCst) || crate::cancel_requested()
}

/// The cancel check: [`sqn_host_cancel`] (or the CLI's Ctrl-C flag, if a program set it).
struct Cancelled;

impl Cancel for Cancelled {
    fn cancelled(&mut self) -> bool {
        cancelled()
    }
}

/// The system clock, whose sleeps end early on [`sqn_host_cancel`].
struct CancellableClock(StdClock);

impl Clock for CancellableClock {
    fn now_ms(&mut self) -> u32 {
        self.0.now_ms()
    }

    fn sleep_ms(&mut self, ms: u32) {
        let start = self.0.now_ms();
        while !cancelled() {
            let slept = self.0.now_ms().wrapping_sub(start);
            if slept >= ms {
                break;
            }
            std::thread::sleep(Duration::from_millis(u64::from((ms - slept).min(50))));
        }
    }
}

/// Forwards the engine's events to the caller's callback.
struct Sink {
    callback: SqnSink,
    user: *mut c_void,
    debug: bool,
    text: Vec<u8>,
}

impl Sink {
    fn emit(&mut self, kind: u32, text: &str, done: u32, total: u32) {
        let Some(callback) = self.callback else {
            return;
        };
        self.text.clear();
        self.text
            .extend(text.bytes().map(|b| if b == 0 { b' ' } else { b }));
        self.text.push(0);
        // SAFETY: the caller gave a valid callback for the duration of the call; `text` is
        // NUL-terminated and outlives the call.
        unsafe { callback(self.user, kind, self.text.as_ptr().cast(), done, total) };
    }

    fn message(&mut self, text: &str) {
        self.emit(SQN_EVENT_MESSAGE, text, 0, 0);
    }
}

fn stage_name(stage: Stage) -> &'static str {
    match stage {
        Stage::CheckFiles => "check-files",
        Stage::Detect => "detect",
        Stage::Prepare => "prepare",
        Stage::SwitchToUpgrade => "switch-to-upgrade",
        Stage::Bootrom => "bootrom",
        Stage::LoadUpdater => "load-updater",
        Stage::Transfer => "transfer",
        Stage::Flashing => "flashing",
        Stage::Finish => "finish",
    }
}

impl Events for Sink {
    fn event(&mut self, event: &Event<'_>) {
        match *event {
            Event::Stage(stage) => self.emit(SQN_EVENT_STAGE, stage_name(stage), 0, 0),
            Event::Message(text) => self.message(text),
            Event::Debug(text) => {
                if self.debug {
                    self.emit(SQN_EVENT_DEBUG, text, 0, 0);
                }
            }
            Event::TransferStart { total, .. } => {
                let text = format!("Sending {total} bytes");
                self.emit(SQN_EVENT_TRANSFER_START, &text, 0, total);
            }
            Event::Progress { done, total } => self.emit(SQN_EVENT_PROGRESS, "", done, total),
            Event::TransferEnd => self.emit(SQN_EVENT_TRANSFER_END, "", 0, 0),
            Event::Tick => self.emit(SQN_EVENT_TICK, "", 0, 0),
        }
    }
}

// ----- results ------------------------------------------------------------------------

/// What one operation is, for the error's file path and the command that continues.
enum Command<'s> {
    Run {
        firmware: &'s str,
        updater: Option<&'s str>,
        bootrom: Option<&'s str>,
    },
    Info,
    State,
}

/// The outcome while it is built (Rust strings, then copied into [`SqnOutcome`]).
struct Report {
    status: i32,
    state_before: Option<State>,
    state_after: Option<State>,
    method: u32,
    bytes_sent: u32,
    build_before: Option<u32>,
    build_after: Option<u32>,
    modem_changed: bool,
    elapsed_ms: u64,
    imei: String,
    firmware: String,
    modem: String,
    error: String,
    hint: String,
    next: String,
}

impl Report {
    /// Takes the versions and IMEI the modem reported.
    fn take_versions(&mut self, versions: &Versions, imei: Option<&heapless::String<16>>) {
        self.build_after = versions.software_build;
        self.firmware = versions.lr.as_str().to_string();
        self.imei = imei.map(|i| i.to_string()).unwrap_or_default();
    }

    fn new() -> Report {
        Report {
            status: SQN_OK,
            state_before: None,
            state_after: None,
            method: 0,
            bytes_sent: 0,
            build_before: None,
            build_after: None,
            modem_changed: false,
            elapsed_ms: 0,
            imei: String::new(),
            firmware: String::new(),
            modem: String::new(),
            error: String::new(),
            hint: String::new(),
            next: String::new(),
        }
    }

    /// A failure before the engine ran (bad argument, port not openable).
    fn early(status: i32, error: String, hint: &str, next: String) -> Report {
        Report {
            status,
            modem: "not changed".to_string(),
            error,
            hint: hint.to_string(),
            next,
            ..Report::new()
        }
    }

    fn write(&self, out: &mut SqnOutcome) {
        let state = |s: Option<State>| s.map_or(-1, |s| i32::from(s.number()));
        *out = SqnOutcome {
            status: self.status,
            state_before: state(self.state_before),
            state_after: state(self.state_after),
            method: self.method,
            bytes_sent: self.bytes_sent,
            build_before: self.build_before.unwrap_or(0),
            build_after: self.build_after.unwrap_or(0),
            modem_changed: u32::from(self.modem_changed),
            elapsed_ms: self.elapsed_ms,
            ..SqnOutcome::default()
        };
        copy_text(&mut out.imei, &self.imei);
        copy_text(&mut out.firmware, &self.firmware);
        copy_text(&mut out.modem, &self.modem);
        copy_text(&mut out.error, &self.error);
        copy_text(&mut out.hint, &self.hint);
        copy_text(&mut out.next, &self.next);
    }
}

/// Copies `text` into a fixed C buffer, cut at a character boundary, NUL-terminated.
fn copy_text(dst: &mut [c_char], text: &str) {
    let Some(room) = dst.len().checked_sub(1) else {
        return;
    };
    let mut end = text.len().min(room);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    for (d, &b) in dst.iter_mut().zip(text.as_bytes()[..end].iter()) {
        *d = if b == 0 { b' ' } else { b } as c_char;
    }
    for d in dst.iter_mut().skip(end) {
        *d = 0;
    }
}

/// `s` as a Python string literal in single quotes.
fn py_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// The Python call that repeats `command`, with `firmware` in place of the user's image.
fn python_call(command: &Command<'_>, port: &str, firmware: Option<&str>) -> String {
    let port = py_str(port);
    match command {
        Command::Run {
            firmware: given,
            updater,
            bootrom,
        } => {
            let mut call = format!(
                "sqnsupgrade.run({port}, {}",
                py_str(firmware.unwrap_or(given))
            );
            if let Some(u) = updater {
                call.push_str(&format!(", {}", py_str(u)));
            }
            if let Some(b) = bootrom {
                call.push_str(&format!(", bootrom={}", py_str(b)));
            }
            call.push(')');
            call
        }
        Command::Info => format!("sqnsupgrade.info({port})"),
        Command::State => format!("sqnsupgrade.state({port})"),
    }
}

/// The `next` line for a failure: the Python command that continues, with what to do
/// first when something must be done first.
fn next_text(next: Next, command: &Command<'_>, port: &str) -> String {
    let again = python_call(command, port, None);
    let full_image = || match command {
        Command::Run { firmware, .. } if !is_upgdiff(firmware) => python_call(command, port, None),
        _ => format!(
            "{}  # the full image, e.g. CATM1-38638.dup",
            python_call(command, port, Some("FULL_IMAGE.dup"))
        ),
    };
    match next {
        Next::FixInput => format!("fix the input, then: {again}"),
        Next::RunAgain => again,
        Next::RunFullImage => full_image(),
        Next::RunWithUpdater => {
            let firmware = match command {
                Command::Run { firmware, .. } if !is_upgdiff(firmware) => *firmware,
                _ => "FULL_IMAGE.dup",
            };
            let run = Command::Run {
                firmware,
                updater: Some(match command {
                    Command::Run {
                        updater: Some(u), ..
                    } => *u,
                    _ => "updater.elf",
                }),
                bootrom: match command {
                    Command::Run { bootrom, .. } => *bootrom,
                    _ => None,
                },
            };
            python_call(&run, port, None)
        }
        Next::PowerCycle => format!(
            "unplug the board's power, plug it in, then: {}",
            python_call(&Command::State, port, None)
        ),
    }
}

/// Fills the failure fields of `report` from the engine's [`Failure`].
fn failed(report: &mut Report, failure: &Failure, command: &Command<'_>, port: &str) {
    let path = match (command, failure.file_role()) {
        (
            Command::Run {
                firmware,
                updater,
                bootrom,
            },
            Some(role),
        ) => match role {
            FileRole::Firmware => Some(*firmware),
            FileRole::Updater => *updater,
            FileRole::Bootrom => *bootrom,
        },
        _ => None,
    };
    report.error = match path {
        Some(p) => format!("{p}: {failure}"),
        None => format!("{failure}"),
    };
    report.hint = failure.error.hint().to_string();
    report.modem_changed = failure.modem_changed;
    report.state_after = failure.state;
    report.modem = if failure.modem_changed {
        state_line(failure.state)
    } else {
        "not changed".to_string()
    };
    report.next = next_text(failure.next(), command, port);
    report.bytes_sent = match failure.error {
        Error::Stp { offset, .. } | Error::RebootedDuringTransfer { offset } => offset,
        _ => 0,
    };
    report.status = match failure.error {
        Error::Cancelled => SQN_CANCELLED,
        e if e.is_input_error() => SQN_BAD_INPUT,
        _ => SQN_MODEM_FAILED,
    };
}

// ----- the operations ----------------------------------------------------------------

/// The engine's options from the caller's.
fn engine_options(o: &SqnHostOptions) -> Result<Options, String> {
    let method = match o.method {
        0 => MethodChoice::Auto,
        1 => MethodChoice::Fff,
        2 => MethodChoice::OnTheFly,
        n => {
            return Err(format!(
                "method must be 0 (auto), 1 (FFF) or 2 (ON_THE_FLY), not {n}"
            ))
        }
    };
    let block_size = match o.block_size {
        0 => None,
        n if (16..=MAX_BLOCK_SIZE as u32).contains(&n) => Some(n as u16),
        n => {
            return Err(format!(
                "block size must be 0 (max) or from 16 to {MAX_BLOCK_SIZE}, not {n}"
            ))
        }
    };
    let defaults = StpConfig::default();
    let reply_timeout_ms = match o.reply_timeout_s {
        0 => defaults.reply_timeout_ms,
        s => s.saturating_mul(1000),
    };
    Ok(Options {
        method,
        resume: o.resume != 0,
        verbose: o.verbose != 0,
        stp: StpConfig {
            reply_timeout_ms,
            block_size,
            ..defaults
        },
        ..Options::default()
    })
}

/// A NUL-terminated argument as UTF-8; `None` for a null pointer.
///
/// # Safety
/// `p` is null or points to a NUL-terminated string that lives for `'a`.
unsafe fn arg<'a>(p: *const c_char, what: &str) -> Result<Option<&'a str>, String> {
    if p.is_null() {
        return Ok(None);
    }
    // SAFETY: guaranteed by the caller.
    let bytes = unsafe { CStr::from_ptr(p) };
    match bytes.to_str() {
        Ok("") => Err(format!("the {what} is empty")),
        Ok(s) => Ok(Some(s)),
        Err(_) => Err(format!("the {what} is not valid UTF-8")),
    }
}

/// The arguments of one call, checked.
struct Call<'a> {
    port: &'a str,
    command: Command<'a>,
    options: SqnHostOptions,
}

/// Runs one operation: opens the port, runs the engine, fills the report.
fn operate(call: &Call<'_>, sink: &mut Sink) -> Report {
    let started = Instant::now();
    let port = call.port;
    let again = python_call(&call.command, port, None);
    let options = match engine_options(&call.options) {
        Ok(o) => o,
        Err(e) => {
            return Report::early(
                SQN_BAD_INPUT,
                e,
                "use the default options (sqn_host_options_default)",
                format!("fix the input, then: {again}"),
            )
        }
    };
    if matches!(call.command, Command::Run { .. }) && call.options.flow_control != 0 {
        sink.message("flow control is not supported; continuing without");
    }
    let mut link = match Tty::open(port, FAST_BAUD) {
        Ok(t) => t,
        Err(e) => {
            return Report::early(
                SQN_MODEM_FAILED,
                format!("cannot open {port}: {e}"),
                "check the port name (ls /dev/tty*), that the board is in mirror mode (sqnsupgrade.uart() on the board) and that no terminal has it open",
                again,
            )
        }
    };
    let hal = Parts {
        link: &mut link,
        clock: CancellableClock(StdClock::default()),
        events: &mut *sink,
        cancel: Cancelled,
    };
    let mut ws = Box::new(Workspace::new());
    let mut updater = Updater::new(hal, options, &mut ws);
    let mut report = Report::new();
    let result = match &call.command {
        Command::State => updater.state().map(|state| {
            report.state_before = state;
            report.state_after = state;
            Some(state_line(state))
        }),
        Command::Info => updater.info().map(|info| {
            report.state_before = info.state;
            report.state_after = info.state;
            report.take_versions(&info.versions, info.imei.as_ref());
            None
        }),
        Command::Run {
            firmware,
            updater: elf,
            bootrom,
        } => run_update(&mut updater, &mut report, firmware, *elf, *bootrom),
    };
    match result {
        Ok(summary) => {
            if let Some(summary) = summary {
                sink.message(&summary);
            }
        }
        Err(failure) => failed(&mut report, &failure, &call.command, port),
    }
    if report.elapsed_ms == 0 {
        report.elapsed_ms = started.elapsed().as_millis() as u64;
    }
    report
}

fn run_update<H: Hal>(
    updater: &mut Updater<'_, H>,
    report: &mut Report,
    firmware: &str,
    elf: Option<&str>,
    bootrom: Option<&str>,
) -> Result<Option<String>, Failure> {
    let outcome = crate::run_files(updater, firmware, elf, bootrom)?;
    report.state_before = Some(outcome.state_before);
    report.state_after = outcome.state_after;
    report.modem_changed = true;
    report.method = match outcome.method {
        Method::Fff => 1,
        Method::OnTheFly => 2,
    };
    report.bytes_sent = outcome.bytes_sent;
    report.elapsed_ms = outcome.elapsed_ms.max(1);
    report.build_before = outcome.before.software_build;
    report.take_versions(&outcome.after, outcome.imei.as_ref());
    Ok(Some(crate::done_line(&outcome)))
}

/// Releases the one-operation-at-a-time flag when dropped.
struct BusyGuard;

impl Drop for BusyGuard {
    fn drop(&mut self) {
        BUSY.store(false, Ordering::SeqCst);
    }
}

/// The common frame of every operation: checks the arguments, takes the busy flag, runs
/// `command` with no panic crossing the boundary, writes the outcome.
///
/// # Safety
/// Pointer arguments as documented on the public functions.
unsafe fn entry<'a>(
    port: *const c_char,
    options: *const SqnHostOptions,
    sink: SqnSink,
    user: *mut c_void,
    outcome: *mut SqnOutcome,
    command: impl FnOnce() -> Result<Command<'a>, String>,
) -> i32 {
    let body = || {
        let mut sink = Sink {
            callback: sink,
            user,
            debug: false,
            text: Vec::new(),
        };
        // SAFETY: `options` is null or valid for reads (the caller's contract).
        let options = unsafe { options.as_ref() }.copied().unwrap_or_default();
        sink.debug = options.debug != 0;
        // SAFETY: `port` is null or a valid C string (the caller's contract).
        let checked = unsafe { arg(port, "port") }.and_then(|port| {
            let port = port.ok_or_else(|| "no port given".to_string())?;
            Ok((port, command()?))
        });
        match checked {
            Err(e) => Report::early(
                SQN_BAD_INPUT,
                e,
                "give the serial port and the files as non-empty text",
                String::new(),
            ),
            Ok(_) if BUSY.swap(true, Ordering::SeqCst) => Report::early(
                SQN_BAD_INPUT,
                "another sqnsupgrade operation is running in this process".to_string(),
                "wait for it to end, or cancel it (sqn_host_cancel)",
                String::new(),
            ),
            Ok((port, command)) => {
                let _busy = BusyGuard;
                CANCEL.store(false, Ordering::SeqCst);
                operate(
                    &Call {
                        port,
                        command,
                        options,
                    },
                    &mut sink,
                )
            }
        }
    };
    let report =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)).unwrap_or_else(|_| {
            Report::early(
                SQN_MODEM_FAILED,
                "internal error in the updater library".to_string(),
                "unplug the board's power, plug it in, check the state and run again",
                String::new(),
            )
        });
    // SAFETY: `outcome` is null or valid for writes (the caller's contract).
    if let Some(out) = unsafe { outcome.as_mut() } {
        report.write(out);
    }
    report.status
}

// ----- the exported functions ----------------------------------------------------------

/// The ABI version ([`SQN_ABI_VERSION`]); a caller built for another version must not
/// use the library.
#[no_mangle]
pub extern "C" fn sqn_host_abi_version() -> u32 {
    SQN_ABI_VERSION
}

/// The updater's version (`0.1.0`), a static NUL-terminated string.
#[no_mangle]
pub extern "C" fn sqn_host_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// `sizeof(SqnHostOptions)`, for callers that check their declaration.
#[no_mangle]
pub extern "C" fn sqn_host_options_size() -> usize {
    core::mem::size_of::<SqnHostOptions>()
}

/// `sizeof(SqnOutcome)`, for callers that check their declaration.
#[no_mangle]
pub extern "C" fn sqn_host_outcome_size() -> usize {
    core::mem::size_of::<SqnOutcome>()
}

/// Fills `options` with the defaults: automatic method, block size 2016, reply timeout
/// 90 s, every flag off. Does nothing when `options` is null.
///
/// # Safety
/// `options` is null or valid for writing one [`SqnHostOptions`].
#[no_mangle]
pub unsafe extern "C" fn sqn_host_options_default(options: *mut SqnHostOptions) {
    // SAFETY: guaranteed by the caller.
    if let Some(o) = unsafe { options.as_mut() } {
        *o = SqnHostOptions::default();
    }
}

/// Asks the running operation to stop; it returns [`SQN_CANCELLED`] soon (within about
/// half a second). Safe to call from any thread, at any time (also from a signal handler:
/// it only stores to an atomic flag). The flag is cleared when the next operation starts.
#[no_mangle]
pub extern "C" fn sqn_host_cancel() {
    CANCEL.store(true, Ordering::SeqCst);
}

/// The whole update, as the CLI's `run`: checks the files, finds the modem's state, then
/// runs the flow for it (FFF, ON_THE_FLY, mTools, resume, recovery, bootrom), reporting
/// through `sink` and filling `outcome`. Returns the status (0, 1, 2 or 130).
///
/// # Safety
/// `port` and `firmware` are NUL-terminated strings; `updater` and `bootrom` are null or
/// NUL-terminated strings; `options` is null (the defaults) or points to a
/// [`SqnHostOptions`]; `sink` is null or a function that may be called with `user` during
/// this call; `outcome` is null or valid for writing one [`SqnOutcome`]. Everything stays
/// valid until the function returns.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn sqn_host_run(
    port: *const c_char,
    firmware: *const c_char,
    updater: *const c_char,
    bootrom: *const c_char,
    options: *const SqnHostOptions,
    sink: SqnSink,
    user: *mut c_void,
    outcome: *mut SqnOutcome,
) -> i32 {
    // SAFETY: the caller's contract, passed on.
    unsafe {
        entry(port, options, sink, user, outcome, || {
            Ok(Command::Run {
                firmware: arg(firmware, "firmware path")?
                    .ok_or_else(|| "no firmware file given".to_string())?,
                updater: arg(updater, "updater.elf path")?,
                bootrom: arg(bootrom, "bootrom package path")?,
            })
        })
    }
}

/// `info()`: the modem's state and, in application mode, its versions and IMEI (the
/// `showver` block too when `options.verbose`), reported as messages; the outcome has the
/// state, the build, the `LR` line and the IMEI. Sends nothing that changes the modem.
///
/// # Safety
/// `port` is a NUL-terminated string; `options`, `sink` and `outcome` as for
/// [`sqn_host_run`].
#[no_mangle]
pub unsafe extern "C" fn sqn_host_info(
    port: *const c_char,
    options: *const SqnHostOptions,
    sink: SqnSink,
    user: *mut c_void,
    outcome: *mut SqnOutcome,
) -> i32 {
    // SAFETY: the caller's contract, passed on.
    unsafe { entry(port, options, sink, user, outcome, || Ok(Command::Info)) }
}

/// `state()`: the modem's state, in `outcome.state_after` (-1 when nothing answers, which
/// is still status 0) and as a message (`2 application mode (FFF)`). Read-only.
///
/// # Safety
/// As for [`sqn_host_info`].
#[no_mangle]
pub unsafe extern "C" fn sqn_host_state(
    port: *const c_char,
    options: *const SqnHostOptions,
    sink: SqnSink,
    user: *mut c_void,
    outcome: *mut SqnOutcome,
) -> i32 {
    // SAFETY: the caller's contract, passed on.
    unsafe { entry(port, options, sink, user, outcome, || Ok(Command::State)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_literals() {
        assert_eq!(py_str("/dev/ttyUSB0"), "'/dev/ttyUSB0'");
        assert_eq!(py_str("it's\\a\n"), "'it\\'s\\\\a\\n'");
    }

    #[test]
    fn next_commands() {
        let run = Command::Run {
            firmware: "CATM1-41065.dup",
            updater: None,
            bootrom: None,
        };
        let p = "/dev/ttyUSB0";
        assert_eq!(
            next_text(Next::RunAgain, &run, p),
            "sqnsupgrade.run('/dev/ttyUSB0', 'CATM1-41065.dup')"
        );
        assert_eq!(
            next_text(Next::RunWithUpdater, &run, p),
            "sqnsupgrade.run('/dev/ttyUSB0', 'CATM1-41065.dup', 'updater.elf')"
        );
        let diff = Command::Run {
            firmware: "/sd/upgdiff_38638-to-41065.dup",
            updater: None,
            bootrom: None,
        };
        assert_eq!(
            next_text(Next::RunFullImage, &diff, p),
            "sqnsupgrade.run('/dev/ttyUSB0', 'FULL_IMAGE.dup')  # the full image, e.g. CATM1-38638.dup"
        );
        assert_eq!(
            next_text(Next::PowerCycle, &Command::Info, p),
            "unplug the board's power, plug it in, then: sqnsupgrade.state('/dev/ttyUSB0')"
        );
    }

    #[test]
    fn text_is_cut_at_a_char_boundary() {
        let mut buf = [1 as c_char; 4];
        copy_text(&mut buf, "aé€");
        assert_eq!(buf, [b'a' as c_char, 0xc3u8 as c_char, 0xa9u8 as c_char, 0]);
        copy_text(&mut buf, "");
        assert_eq!(buf, [0; 4]);
    }

    #[test]
    fn options_are_checked() {
        let ok = engine_options(&SqnHostOptions::default()).unwrap();
        assert_eq!(ok.stp.block_size, Some(FIELD_BLOCK_SIZE as u16));
        let bad = SqnHostOptions {
            method: 7,
            ..SqnHostOptions::default()
        };
        assert!(engine_options(&bad).is_err());
        let max = SqnHostOptions {
            block_size: 0,
            ..SqnHostOptions::default()
        };
        assert_eq!(engine_options(&max).unwrap().stp.block_size, None);
    }
}
