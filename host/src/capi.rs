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

use crate::port::Port;
use crate::{state_line, StdClock};
use core::ffi::{c_char, c_void, CStr};
use sqnsupgrade::console::{Console, TextOut};
use sqnsupgrade::error::{Error, FileProblem, FileRole, PortProblem};
use sqnsupgrade::hal::{Cancel, Clock, Event, Events, Parts, Stage};
use sqnsupgrade::report::{self, Command, Frontend, Record, Request, UserOptions};
use sqnsupgrade::state::State;
use sqnsupgrade::stp::FIELD_BLOCK_SIZE;
use sqnsupgrade::updater::{Failure, Method, Updater, Workspace, FAST_BAUD};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Version of this ABI; it changes whenever a function or a structure changes.
pub const SQN_ABI_VERSION: u32 = 2;

/// Status: success.
pub const SQN_OK: i32 = 0;
/// Status: the modem failed (or the port could not be opened).
pub const SQN_MODEM_FAILED: i32 = 1;
/// Status: a bad argument or file; nothing that changes the modem was sent.
pub const SQN_BAD_INPUT: i32 = 2;
/// Status: stopped by [`sqn_host_cancel`].
pub const SQN_CANCELLED: i32 = 130;

/// Event: console text to print as it is (`text`: messages, dots, the progress bar, the
/// failure lines; exactly what the CLI and the board print). A caller that shows output
/// writes these pieces and nothing else.
pub const SQN_EVENT_TEXT: u32 = 9;
/// Event: transfer progress: `done` of `total` bytes acknowledged by the modem; `text` "".
pub const SQN_EVENT_PROGRESS: u32 = 4;
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
    /// The method flags as the user gave them: 1 FFF (`force_fff=True`), 2 ON_THE_FLY
    /// (`load_fff=False`); 0 automatic (FFF up to 4 MiB in application mode, else
    /// ON_THE_FLY). Both at once is refused by the engine.
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
    /// Non-zero: flash a `.dup` even when it is shorter than its header announces.
    pub allow_truncated: u8,
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
            allow_truncated: 0,
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

/// The caller's callback, as raw events.
struct Callback {
    callback: SqnSink,
    user: *mut c_void,
    text: Vec<u8>,
}

impl Callback {
    fn emit(&mut self, kind: u32, text: &[u8], done: u32, total: u32) {
        let Some(callback) = self.callback else {
            return;
        };
        self.text.clear();
        self.text
            .extend(text.iter().map(|&b| if b == 0 { b' ' } else { b }));
        self.text.push(0);
        // SAFETY: the caller gave a valid callback for the duration of the call; `text` is
        // NUL-terminated and outlives the call.
        unsafe { callback(self.user, kind, self.text.as_ptr().cast(), done, total) };
    }
}

/// The console's text goes to the callback as [`SQN_EVENT_TEXT`] pieces.
struct TextEvents<'c>(&'c mut Callback);

impl TextOut for TextEvents<'_> {
    fn text(&mut self, text: &[u8]) {
        self.0.emit(SQN_EVENT_TEXT, text, 0, 0);
    }
}

/// Forwards the engine's events to the caller: the console text the engine renders (the
/// same as the CLI's and the board's), plus stages and progress as numbers.
struct Sink {
    callback: Callback,
    debug: bool,
    /// Where the console is in its line and its bar (the console itself is rebuilt
    /// around each event, borrowing the callback).
    console: Console<NoText>,
}

/// A console's state without an output (see [`Sink`]).
struct NoText;

impl TextOut for NoText {
    fn text(&mut self, _: &[u8]) {}
}

impl Sink {
    fn new(callback: SqnSink, user: *mut c_void, debug: bool) -> Sink {
        Sink {
            callback: Callback {
                callback,
                user,
                text: Vec::new(),
            },
            debug,
            console: Console::new(NoText, debug),
        }
    }

    /// Runs `f` with the console writing to the callback.
    fn with_console(&mut self, f: impl FnOnce(&mut Console<TextEvents<'_>>)) {
        let state = core::mem::replace(&mut self.console, Console::new(NoText, self.debug));
        let mut console = state.with_output(TextEvents(&mut self.callback));
        f(&mut console);
        self.console = console.with_output(NoText);
    }

    fn message(&mut self, text: &str) {
        self.with_console(|c| c.event(&Event::Message(text.as_bytes())));
    }

    /// Ends the open line and prints the four failure lines.
    fn failure(&mut self, f: &Failure, req: &Request<'_>) {
        let mut lines = String::new();
        report::write_failure(f, req, &mut lines);
        self.with_console(|c| {
            c.close_line();
            c.line_parts(b"", lines.trim_end().as_bytes());
        });
    }

    fn close(&mut self) {
        self.with_console(|c| c.close_line());
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
        self.with_console(|c| c.event(event));
        match *event {
            Event::Stage(stage) => {
                self.callback
                    .emit(SQN_EVENT_STAGE, stage_name(stage).as_bytes(), 0, 0)
            }
            Event::Progress { done, total } => {
                self.callback.emit(SQN_EVENT_PROGRESS, b"", done, total)
            }
            _ => {}
        }
    }
}

// ----- results ------------------------------------------------------------------------

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

/// The outcome of one call: the engine's record, and on failure the four lines it
/// rendered for CPython.
fn outcome(record: &Record, failure: Option<(&Failure, &Request<'_>)>) -> SqnOutcome {
    let state = |s: Option<State>| s.map_or(-1, |s| i32::from(s.number()));
    let mut out = SqnOutcome {
        status: i32::from(record.status),
        state_before: state(record.state_before),
        state_after: state(record.state_after),
        method: match record.method {
            Some(Method::Fff) => 1,
            Some(Method::OnTheFly) => 2,
            None => 0,
        },
        bytes_sent: record.bytes,
        build_before: record.build_before.unwrap_or(0),
        build_after: record.build_after.unwrap_or(0),
        modem_changed: u32::from(record.modem_changed),
        elapsed_ms: u64::from(record.millis),
        ..SqnOutcome::default()
    };
    copy_text(&mut out.imei, &String::from_utf8_lossy(&record.imei));
    copy_text(
        &mut out.firmware,
        &String::from_utf8_lossy(&record.firmware),
    );
    if let Some((f, req)) = failure {
        let mut text = String::new();
        report::write_error(f, req, &mut text);
        copy_text(&mut out.error, &text);
        text.clear();
        report::write_hint(f, &mut text);
        copy_text(&mut out.hint, &text);
        text.clear();
        report::write_modem(f, &mut text);
        copy_text(&mut out.modem, &text);
        text.clear();
        report::write_next(report::next_step(f, req), req, &mut text);
        copy_text(&mut out.next, &text);
    }
    out
}

// ----- the operations ----------------------------------------------------------------

/// The caller's options as the user gave them (the engine checks them).
fn user_options(o: &SqnHostOptions) -> UserOptions {
    UserOptions {
        fff: o.method & 1 != 0,
        on_the_fly: o.method & 2 != 0,
        block_size: match o.block_size {
            0 => None,
            n => Some(n),
        },
        reply_timeout_s: o.reply_timeout_s,
        resume: o.resume != 0,
        verbose: o.verbose != 0,
        allow_truncated: o.allow_truncated != 0,
    }
}

/// A NUL-terminated argument as UTF-8; `None` for a null pointer or an empty string,
/// `Err` for text that is not UTF-8.
///
/// # Safety
/// `p` is null or points to a NUL-terminated string that lives for `'a`.
unsafe fn arg<'a>(p: *const c_char) -> Result<Option<&'a [u8]>, ()> {
    if p.is_null() {
        return Ok(None);
    }
    // SAFETY: guaranteed by the caller.
    let bytes = unsafe { CStr::from_ptr(p) };
    match bytes.to_str() {
        Ok("") => Ok(None),
        Ok(s) => Ok(Some(s.as_bytes())),
        Err(_) => Err(()),
    }
}

/// Runs one operation: checks the options, opens the port, runs the engine.
fn operate(req: &Request<'_>, flow_control: bool, sink: &mut Sink) -> SqnOutcome {
    let out = operate_inner(req, flow_control, sink);
    sink.close();
    out
}

fn operate_inner(req: &Request<'_>, flow_control: bool, sink: &mut Sink) -> SqnOutcome {
    let fail = |f: Failure, sink: &mut Sink| {
        sink.failure(&f, req);
        outcome(&Record::from_failure(req.command, &f), Some((&f, req)))
    };
    let options = match req.options.check() {
        Ok(o) => o,
        Err(e) => return fail(Failure::untouched(e), sink),
    };
    if req.command == Command::Run && req.firmware.is_none() {
        let missing = Error::File {
            role: FileRole::Firmware,
            problem: FileProblem::Missing,
        };
        return fail(Failure::untouched(missing), sink);
    }
    if req.command == Command::Run && flow_control {
        sink.message("flow control is not supported; continuing without");
    }
    let Some(port) = req.port else {
        return fail(
            Failure::untouched(Error::Port(PortProblem::NoneFound)),
            sink,
        );
    };
    let mut link = match Port::open(&String::from_utf8_lossy(port), FAST_BAUD) {
        Ok(p) => p,
        Err(e) => return fail(Failure::untouched(e), sink),
    };
    let hal = Parts {
        link: &mut link,
        clock: CancellableClock(StdClock::default()),
        events: &mut *sink,
        cancel: Cancelled,
    };
    let mut ws = Box::new(Workspace::new());
    let mut updater = Updater::new(hal, options, &mut ws);
    let result = match req.command {
        Command::Info => updater.info().map(|info| {
            let mut r = Record::from_state(Command::Info, info.state);
            r.take_versions(&info.versions, info.imei.as_deref());
            (r, None)
        }),
        Command::Run => crate::run_files(
            &mut updater,
            &String::from_utf8_lossy(req.firmware.unwrap_or(b"")),
            req.updater.map(String::from_utf8_lossy).as_deref(),
            req.bootrom.map(String::from_utf8_lossy).as_deref(),
        )
        .map(|o| (Record::from_outcome(&o), Some(crate::done_line(&o)))),
        _ => updater.state().map(|s| {
            (
                Record::from_state(Command::State, Some(s)),
                Some(state_line(Some(s))),
            )
        }),
    };
    match result {
        Ok((record, summary)) => {
            if let Some(summary) = summary {
                sink.message(&summary);
            }
            outcome(&record, None)
        }
        Err(f) => fail(f, sink),
    }
}

/// Releases the one-operation-at-a-time flag when dropped.
struct BusyGuard;

impl Drop for BusyGuard {
    fn drop(&mut self) {
        BUSY.store(false, Ordering::SeqCst);
    }
}

/// The files of a `run`.
struct Files {
    firmware: *const c_char,
    updater: *const c_char,
    bootrom: *const c_char,
}

/// The common frame of every operation: reads the arguments, takes the busy flag, runs
/// the operation with no panic crossing the boundary, writes the outcome.
///
/// # Safety
/// Pointer arguments as documented on the public functions.
unsafe fn entry(
    command: Command,
    port: *const c_char,
    files: Option<Files>,
    options: *const SqnHostOptions,
    sink: SqnSink,
    user: *mut c_void,
    out: *mut SqnOutcome,
) -> i32 {
    let body = || {
        // SAFETY: `options` is null or valid for reads (the caller's contract).
        let options = unsafe { options.as_ref() }.copied().unwrap_or_default();
        let mut sink = Sink::new(sink, user, options.debug != 0);
        let mut req = Request {
            options: user_options(&options),
            ..Request::new(command, Frontend::CPython)
        };
        // SAFETY: null or valid C strings (the caller's contract).
        let args = unsafe {
            (|| -> Result<(), FileRole> {
                req.port = arg(port).map_err(|_| FileRole::Firmware)?;
                if let Some(f) = &files {
                    req.firmware = arg(f.firmware).map_err(|_| FileRole::Firmware)?;
                    req.updater = arg(f.updater).map_err(|_| FileRole::Updater)?;
                    req.bootrom = arg(f.bootrom).map_err(|_| FileRole::Bootrom)?;
                }
                Ok(())
            })()
        };
        if let Err(role) = args {
            let f = Failure::untouched(Error::File {
                role,
                problem: FileProblem::Unreadable,
            });
            sink.failure(&f, &req);
            return outcome(&Record::from_failure(command, &f), Some((&f, &req)));
        }
        if BUSY.swap(true, Ordering::SeqCst) {
            let mut o = SqnOutcome {
                status: i32::from(report::status::BUSY),
                ..SqnOutcome::default()
            };
            copy_text(
                &mut o.error,
                "another sqnsupgrade operation is running in this process",
            );
            copy_text(&mut o.modem, "not changed");
            return o;
        }
        let _busy = BusyGuard;
        CANCEL.store(false, Ordering::SeqCst);
        operate(&req, options.flow_control != 0, &mut sink)
    };
    let result =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)).unwrap_or_else(|_| {
            let mut o = SqnOutcome {
                status: i32::from(report::status::MODEM_FAILURE),
                ..SqnOutcome::default()
            };
            copy_text(&mut o.error, "internal error in the updater library");
            o
        });
    // SAFETY: `out` is null or valid for writes (the caller's contract).
    if let Some(o) = unsafe { out.as_mut() } {
        *o = result;
    }
    result.status
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
    let files = Files {
        firmware,
        updater,
        bootrom,
    };
    // SAFETY: the caller's contract, passed on.
    unsafe {
        entry(
            Command::Run,
            port,
            Some(files),
            options,
            sink,
            user,
            outcome,
        )
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
    unsafe { entry(Command::Info, port, None, options, sink, user, outcome) }
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
    unsafe { entry(Command::State, port, None, options, sink, user, outcome) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_cut_at_a_char_boundary() {
        let mut buf = [1 as c_char; 4];
        copy_text(&mut buf, "aé€");
        assert_eq!(buf, [b'a' as c_char, 0xc3u8 as c_char, 0xa9u8 as c_char, 0]);
        copy_text(&mut buf, "");
        assert_eq!(buf, [0; 4]);
    }

    #[test]
    fn options_are_checked_by_the_engine() {
        let ok = user_options(&SqnHostOptions::default()).check().unwrap();
        assert_eq!(ok.stp.block_size, Some(FIELD_BLOCK_SIZE as u16));
        let both = SqnHostOptions {
            method: 3,
            ..SqnHostOptions::default()
        };
        assert!(user_options(&both).check().is_err());
        let max = SqnHostOptions {
            block_size: 0,
            ..SqnHostOptions::default()
        };
        assert_eq!(user_options(&max).check().unwrap().stp.block_size, None);
    }

    #[test]
    fn a_missing_port_is_a_bad_input_with_the_call_that_continues() {
        let req = Request {
            firmware: Some(b"CATM1-41065.dup"),
            ..Request::new(Command::Run, Frontend::CPython)
        };
        let mut sink = Sink::new(None, std::ptr::null_mut(), false);
        let o = operate(&req, false, &mut sink);
        assert_eq!(o.status, i32::from(report::status::BAD_INPUT));
        let text = |f: &[c_char]| {
            unsafe { CStr::from_ptr(f.as_ptr()) }
                .to_str()
                .unwrap()
                .to_string()
        };
        assert_eq!(text(&o.modem), "not changed");
        assert_eq!(text(&o.next), "sqnsupgrade.run('CATM1-41065.dup')");
    }
}
