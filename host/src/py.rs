//! The CPython extension module `sqnsupgrade` (feature `python`), built by maturin from the
//! repository's `pyproject.toml`: `pip install .` on a computer gives
//!
//! ```python
//! import sqnsupgrade
//! sqnsupgrade.run('/dev/ttyUSB0', 'CATM1-41065.dup')   # True or False
//! sqnsupgrade.info('/dev/ttyUSB0'); sqnsupgrade.state('/dev/ttyUSB0')
//! sqnsupgrade.last_result()                            # the same keys as on the board
//! ```
//!
//! and the `sqnsupgrade` command (a console script calling the module's `main()`).
//!
//! This layer only converts arguments and results: the same engine as the CLI's runs the
//! call, the engine's [`Console`] renders what users read (written to Python's
//! `sys.stdout`), and the engine's report ([`report`], [`Frontend::CPython`]) decides the
//! status, the record and the four failure lines.
//!
//! The engine runs with the GIL released. Ctrl-C: CPython's own SIGINT handler only notes
//! the signal; the engine's cancel check (between reads, at most 500 ms apart, and during
//! its sleeps) attaches to the interpreter at most every [`CHECK_EVERY`] and runs
//! `PyErr_CheckSignals`. The first exception a signal handler raises (KeyboardInterrupt)
//! is kept, the engine stops at its next safe point (an open transfer ends with its RESET,
//! the modem's state is asked, the four lines are printed, status 130) and the kept
//! exception is raised when the call returns. A second Ctrl-C during that stop is noted
//! and dropped, as on the board: the stop completes (about 10 s at most). SIGTERM and
//! SIGHUP, where they would end the process, raise KeyboardInterrupt too while a call runs
//! (Python's own Ctrl-C handler, set for the call and taken back after it): a process
//! stopped by a service manager or a closed terminal ends the transfer cleanly.

use crate::port::{self, Port, PORT_ENV};
use crate::record::{self, Lines};
use crate::{state_line, StdClock};
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use sqnsupgrade::console::{Console, TextOut};
use sqnsupgrade::error::{Error, FileProblem, FileRole, PortProblem};
use sqnsupgrade::hal::{Cancel, Clock, Event, Events, Parts};
use sqnsupgrade::msg::Msg;
use sqnsupgrade::report::{self, Command, Frontend, Record, Request, UserOptions, Value};
use sqnsupgrade::updater::{Failure, Updater, Workspace, FAST_BAUD};
use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// The longest time between two looks at Python's pending signals while the engine runs
/// (it asks far more often, between every read: the GIL is taken at most this often).
pub const CHECK_EVERY: Duration = Duration::from_millis(50);

/// The engine's sleeps are cut in slices this long, to look at the signals in between.
const SLEEP_SLICE_MS: u32 = 50;

const VERSION: &str = env!("CARGO_PKG_VERSION");

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

// ----- one call: the engine without the GIL, Python around it ---------------------------

/// What links one running call to Python: the exception to raise when it returns and the
/// engine's stop request. Shared by the console, the clock and the cancel check.
struct Call {
    /// Set once the user asked to stop: the engine stops at its next safe point.
    stop: AtomicBool,
    /// The first exception a Python signal handler (or stdout) raised: KeyboardInterrupt
    /// for Ctrl-C. Raised when the call returns.
    kept: Mutex<Option<PyErr>>,
    /// When the signals were last looked at.
    checked: Mutex<Option<Instant>>,
}

impl Call {
    fn new() -> Call {
        Call {
            stop: AtomicBool::new(false),
            kept: Mutex::new(None),
            checked: Mutex::new(None),
        }
    }

    /// Keeps `e` (the first one only) and asks the engine to stop. Called attached.
    fn keep(&self, e: PyErr) {
        self.stop.store(true, Ordering::SeqCst);
        let mut kept = lock(&self.kept);
        if kept.is_none() {
            *kept = Some(e);
        }
    }

    /// Runs Python's pending signal handlers, at most every [`CHECK_EVERY`]; true when one
    /// of them raised now (the exception is kept).
    fn poll_signals(&self) -> bool {
        {
            let mut checked = lock(&self.checked);
            if checked.is_some_and(|t| t.elapsed() < CHECK_EVERY) {
                return false;
            }
            *checked = Some(Instant::now());
        }
        Python::attach(|py| match py.check_signals() {
            Ok(()) => false,
            Err(e) => {
                self.keep(e);
                true
            }
        })
    }

    fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// Writes console text to `sys.stdout` (looked up each time: pytest's capture and any
    /// replacement the caller made are honoured) and flushes it. A KeyboardInterrupt (or
    /// another exception that is not an `Exception`) raised meanwhile is kept like one
    /// from the signal check; a broken stdout does not break the update.
    fn write(&self, text: &[u8]) {
        let text = String::from_utf8_lossy(text);
        Python::attach(|py| {
            let written = (|| -> PyResult<()> {
                let out = py.import("sys")?.getattr("stdout")?;
                if !out.is_none() {
                    out.call_method1("write", (&*text,))?;
                    out.call_method0("flush")?;
                }
                Ok(())
            })();
            if let Err(e) = written {
                if !e.is_instance_of::<PyException>(py) {
                    self.keep(e);
                }
            }
        });
    }

    /// The exception to raise now that the call returned, if any.
    fn take(&self) -> Option<PyErr> {
        lock(&self.kept).take()
    }
}

/// The console's output: Python's `sys.stdout`.
#[derive(Clone, Copy)]
struct PyOut<'c>(&'c Call);

impl TextOut for PyOut<'_> {
    fn text(&mut self, text: &[u8]) {
        self.0.write(text);
    }
}

/// The cancel check: Python's pending signals.
struct PyCancel<'c>(&'c Call);

impl Cancel for PyCancel<'_> {
    fn cancelled(&mut self) -> bool {
        self.0.poll_signals();
        self.0.stopping()
    }
}

/// The system clock; a sleep ends early when a Python signal handler raises during it
/// (the engine then sees the stop at its cancel check, or sleeps on where it holds Ctrl-C
/// back).
struct PyClock<'c> {
    call: &'c Call,
    clock: StdClock,
}

impl Clock for PyClock<'_> {
    fn now_ms(&mut self) -> u32 {
        self.clock.now_ms()
    }

    fn sleep_ms(&mut self, ms: u32) {
        let start = self.clock.now_ms();
        loop {
            let slept = self.clock.now_ms().wrapping_sub(start);
            if slept >= ms {
                return;
            }
            let slice = (ms - slept).min(SLEEP_SLICE_MS);
            std::thread::sleep(Duration::from_millis(u64::from(slice)));
            if self.call.poll_signals() {
                return;
            }
        }
    }
}

// ----- the record of the last call --------------------------------------------------------

/// What `last_result()` tells: the engine's record and, after a failure, its lines.
struct Last {
    record: Record,
    lines: Option<Lines>,
}

static LAST: Mutex<Option<Last>> = Mutex::new(None);

/// One call at a time per process (the CLI's Ctrl-C flag and the port are not shared).
static BUSY: AtomicBool = AtomicBool::new(false);

/// Releases [`BUSY`] when dropped.
struct BusyGuard;

impl Drop for BusyGuard {
    fn drop(&mut self) {
        BUSY.store(false, Ordering::SeqCst);
    }
}

// ----- the operations -----------------------------------------------------------------------

/// A call's arguments, converted.
struct Args {
    command: Command,
    port: Option<String>,
    firmware: Option<String>,
    updater: Option<String>,
    bootrom: Option<String>,
    /// The image's SHA-256 as given (`sha256=`).
    sha256: Option<String>,
    options: UserOptions,
    debug: bool,
    flow_control: bool,
    /// An argument that is not text (a path that is not UTF-8): the engine's error for it.
    bad: Option<Error>,
}

impl Args {
    fn new(command: Command, port: Option<PathBuf>) -> Args {
        let mut args = Args {
            command,
            port: None,
            firmware: None,
            updater: None,
            bootrom: None,
            sha256: None,
            options: UserOptions::default(),
            debug: false,
            flow_control: false,
            bad: None,
        };
        args.port = args.text(port, Error::Port(PortProblem::Unavailable));
        args
    }

    /// A path as text; `None` for an empty one. One that is not UTF-8 is `error`.
    fn text(&mut self, path: Option<PathBuf>, error: Error) -> Option<String> {
        match path.map(|p| p.into_os_string().into_string()) {
            Some(Ok(s)) if !s.is_empty() => Some(s),
            Some(Err(_)) => {
                self.bad.get_or_insert(error);
                None
            }
            _ => None,
        }
    }

    fn file(&mut self, path: Option<PathBuf>, role: FileRole) -> Option<String> {
        let unreadable = Error::File {
            role,
            problem: FileProblem::Unreadable,
        };
        self.text(path, unreadable)
    }

    fn request(&self) -> Request<'_> {
        Request {
            port: self.port.as_deref().map(str::as_bytes),
            firmware: self.firmware.as_deref().map(str::as_bytes),
            updater: self.updater.as_deref().map(str::as_bytes),
            bootrom: self.bootrom.as_deref().map(str::as_bytes),
            options: self.options,
            sha256: self.sha256.as_deref().map(str::as_bytes),
            ..Request::new(self.command, Frontend::CPython)
        }
    }
}

/// Runs one call (without the GIL): prints what the console renders, returns the record.
fn operate(args: &Args, call: &Call) -> Last {
    let mut out = PyOut(call);
    if args.command == Command::Run {
        sqnsupgrade::console::welcome(&mut out);
    }
    if BUSY.swap(true, Ordering::SeqCst) {
        return Last {
            record: Record {
                status: report::status::BUSY,
                command: Some(args.command),
                ..Record::default()
            },
            lines: Some(Lines {
                error: crate::sentence(Msg::ErrBusy, &[]),
                hint: String::new(),
                modem: crate::sentence(Msg::ModemNotChanged, &[]),
                next: String::new(),
            }),
        };
    }
    let _busy = BusyGuard;
    let req = args.request();
    let mut console = Console::new(out, args.debug);
    let result = match args.bad {
        Some(e) => Err(Failure::untouched(e)),
        None => engine(args, &req, call, &mut console),
    };
    console.close_line();
    match result {
        Ok((record, summary)) => {
            if let Some(summary) = summary {
                console.event(&Event::Message(summary.as_bytes()));
                console.close_line();
            }
            Last {
                record,
                lines: None,
            }
        }
        Err(f) => {
            let lines = Lines::of(&f, &req);
            console.line_parts(b"", lines.text().trim_end().as_bytes());
            Last {
                record: Record::from_failure(req.command, &f),
                lines: Some(lines),
            }
        }
    }
}

/// The engine's part: checks the options, opens the port, runs the command. Returns the
/// record and the closing line to print.
fn engine(
    args: &Args,
    req: &Request<'_>,
    call: &Call,
    console: &mut Console<PyOut<'_>>,
) -> Result<(Record, Option<String>), Failure> {
    let options = req.options.check().map_err(Failure::untouched)?;
    let sha256 = req
        .sha256
        .map(report::sha256_digest)
        .transpose()
        .map_err(Failure::untouched)?;
    let run = args.command == Command::Run;
    if run && args.firmware.is_none() {
        return Err(Failure::untouched(Error::File {
            role: FileRole::Firmware,
            problem: FileProblem::Missing,
        }));
    }
    if run && args.flow_control {
        console.event(&Event::Message(
            crate::sentence(Msg::SayNoFlowControl, &[]).as_bytes(),
        ));
    }
    // No port: SQNSUPGRADE_PORT, else the one Pycom board connected (as the CLI).
    let environment = std::env::var(PORT_ENV).ok();
    let found = if args.port.is_none() && environment.as_deref().is_none_or(str::is_empty) {
        port::list()
    } else {
        Vec::new()
    };
    let (port, _) = port::choose(args.port.as_deref(), environment.as_deref(), &found)
        .map_err(Failure::untouched)?;
    let mut link = Port::open(&port, FAST_BAUD).map_err(Failure::untouched)?;
    let hal = Parts {
        link: &mut link,
        clock: PyClock {
            call,
            clock: StdClock::default(),
        },
        events: &mut *console,
        cancel: PyCancel(call),
    };
    let mut ws = Box::new(Workspace::new());
    let mut updater = Updater::new(hal, options, &mut ws);
    match args.command {
        Command::Info => updater.info().map(|info| {
            let mut r = Record::from_state(Command::Info, info.state);
            r.take_versions(&info.versions, info.imei.as_deref());
            (r, None)
        }),
        Command::Run => crate::run_files(
            &mut updater,
            args.firmware.as_deref().unwrap_or(""),
            args.updater.as_deref(),
            args.bootrom.as_deref(),
            sha256,
        )
        .map(|o| (Record::from_outcome(&o), Some(crate::done_line(&o)))),
        _ => updater.state().map(|s| {
            (
                Record::from_state(Command::State, Some(s)),
                Some(state_line(Some(s))),
            )
        }),
    }
}

/// SIGTERM and SIGHUP made to act as Ctrl-C while a call runs, and what they did before.
struct StopSignals<'py> {
    signal: Option<Bound<'py, PyModule>>,
    /// Each signal changed, with its previous handler.
    changed: Vec<(Bound<'py, PyAny>, Bound<'py, PyAny>)>,
}

impl<'py> StopSignals<'py> {
    /// SIGTERM and SIGHUP raise KeyboardInterrupt (`signal.default_int_handler`, Python's
    /// own Ctrl-C handler) where they would end the process (`SIG_DFL`): the call stops at
    /// its next safe point as for Ctrl-C. A handler of the program's own, or an ignored
    /// signal (`nohup`), is left as it is. Python sets handlers from the main thread only:
    /// elsewhere nothing changes (as for SIGINT).
    fn install(py: Python<'py>) -> StopSignals<'py> {
        let mut stop = StopSignals {
            signal: py.import("signal").ok(),
            changed: Vec::new(),
        };
        let Some(signal) = &stop.signal else {
            return stop;
        };
        let (Ok(default), Ok(ctrl_c)) = (
            signal.getattr("SIG_DFL"),
            signal.getattr("default_int_handler"),
        ) else {
            return stop;
        };
        // SIGHUP does not exist on Windows.
        for name in ["SIGTERM", "SIGHUP"] {
            let Ok(number) = signal.getattr(name) else {
                continue;
            };
            let Ok(previous) = signal.call_method1("getsignal", (&number,)) else {
                continue;
            };
            if !previous.eq(&default).unwrap_or(false) {
                continue;
            }
            if signal.call_method1("signal", (&number, &ctrl_c)).is_ok() {
                stop.changed.push((number, previous));
            }
        }
        stop
    }

    /// Puts the previous handlers back.
    fn restore(self) {
        if let Some(signal) = &self.signal {
            for (number, previous) in &self.changed {
                let _ = signal.call_method1("signal", (number, previous));
            }
        }
    }
}

/// Runs `args` with the GIL released, keeps the record for `last_result()`, then raises
/// what Ctrl-C, SIGTERM or SIGHUP (or another signal handler) raised meanwhile.
fn call(py: Python<'_>, args: &Args) -> PyResult<Record> {
    let call = Call::new();
    let signals = StopSignals::install(py);
    let last = py.detach(|| operate(args, &call));
    // A signal that came after the engine's last look is handled before its handler goes.
    if let Err(e) = py.check_signals() {
        call.keep(e);
    }
    signals.restore();
    let record = last.record.clone();
    *lock(&LAST) = Some(last);
    match call.take() {
        Some(e) => Err(e),
        None => Ok(record),
    }
}

/// A flag as Python reads one: any object's truth value (`resume=1` works as before).
#[derive(Clone, Copy)]
struct Flag(bool);

impl FromPyObject<'_, '_> for Flag {
    type Error = PyErr;

    fn extract(obj: Borrowed<'_, '_, PyAny>) -> PyResult<Flag> {
        obj.is_truthy().map(Flag)
    }
}

// ----- the Python functions -----------------------------------------------------------------

/// Updates the modem behind `port` with the firmware image `ffile` (a `.dup`: full image or
/// upgdiff); True on success.
///
/// `mfile` is updater.elf (recovery mode), `bootrom` the bootrom package (recovery on
/// bootloader 33080). `load_fff=False` flashes while streaming (ON_THE_FLY);
/// `force_fff=True` stores first (FFF, files up to 4 MiB); by default files up to 4 MiB go
/// FFF, bigger ones ON_THE_FLY. `resume=True`: the modem is in upgrade mode after an
/// interrupted update. `debug` prints every AT command and reply, `verbose` the whole
/// version block. `fc` (RTS/CTS) is not supported: a message says so. `allow_truncated`
/// flashes a `.dup` shorter than its header announces. `block_size`: STP block size in
/// bytes (16 to 8176; None for the session's max). `reply_timeout`: seconds to wait for
/// each STP reply (0: the default, 90). `sha256`: the image's SHA-256 (64 hex digits; for
/// a package, the package file's): an image with another digest is refused before
/// anything changes the modem (FFF: after the transfer, before the modem commits it).
///
/// On failure it prints `error:`, `hint:`, `modem:` (its state now) and `next:` (the call
/// that continues) and returns False; Ctrl-C (and SIGTERM or SIGHUP, where they would end
/// the process) stops at the next safe point, prints the same lines and raises
/// KeyboardInterrupt. `last_result()` tells more.
#[pyfunction]
#[pyo3(
    name = "run",
    signature = (port, ffile, mfile=None, resume=Flag(false), debug=Flag(false),
                 verbose=Flag(false), load_fff=Flag(true), fc=Flag(false),
                 force_fff=Flag(false), bootrom=None, allow_truncated=Flag(false),
                 block_size=Some(2016), reply_timeout=0, sha256=None),
    text_signature = "(port, ffile, mfile=None, resume=False, debug=False, verbose=False, load_fff=True, fc=False, force_fff=False, bootrom=None, allow_truncated=False, block_size=2016, reply_timeout=0, sha256=None)"
)]
#[allow(clippy::too_many_arguments)]
fn py_run(
    py: Python<'_>,
    port: Option<PathBuf>,
    ffile: Option<PathBuf>,
    mfile: Option<PathBuf>,
    resume: Flag,
    debug: Flag,
    verbose: Flag,
    load_fff: Flag,
    fc: Flag,
    force_fff: Flag,
    bootrom: Option<PathBuf>,
    allow_truncated: Flag,
    block_size: Option<u32>,
    reply_timeout: u32,
    sha256: Option<String>,
) -> PyResult<bool> {
    let mut args = Args::new(Command::Run, port);
    args.firmware = args.file(ffile, FileRole::Firmware);
    args.updater = args.file(mfile, FileRole::Updater);
    args.bootrom = args.file(bootrom, FileRole::Bootrom);
    // The user's options as given: the engine checks them (both methods at once, the
    // block size's range, ...).
    args.options = UserOptions {
        fff: force_fff.0,
        on_the_fly: !load_fff.0,
        block_size,
        reply_timeout_s: match reply_timeout {
            0 => UserOptions::default().reply_timeout_s,
            n => n,
        },
        resume: resume.0,
        verbose: verbose.0,
        allow_truncated: allow_truncated.0,
    };
    args.sha256 = sha256;
    args.debug = debug.0;
    args.flow_control = fc.0;
    Ok(call(py, &args)?.ok())
}

/// Prints the modem's state and, in application mode, its versions and IMEI (`verbose`:
/// the whole version block; `debug`: every AT command and reply). True when the modem
/// answered. Sends nothing that changes the modem.
#[pyfunction]
#[pyo3(
    name = "info",
    signature = (port, verbose=Flag(false), debug=Flag(false)),
    text_signature = "(port, verbose=False, debug=False)"
)]
fn py_info(py: Python<'_>, port: Option<PathBuf>, verbose: Flag, debug: Flag) -> PyResult<bool> {
    let mut args = Args::new(Command::Info, port);
    args.options.verbose = verbose.0;
    args.debug = debug.0;
    Ok(call(py, &args)?.ok())
}

/// Prints the modem's versions: on a computer the same as `info(port)`.
#[pyfunction]
#[pyo3(name = "version", signature = (port), text_signature = "(port)")]
fn py_version(py: Python<'_>, port: Option<PathBuf>) -> PyResult<bool> {
    py_info(py, port, Flag(false), Flag(false))
}

/// Prints and returns the modem's state number (0 recovery, 1 mTools, 2 application,
/// 3 updater, 4 upgrade), or None when it does not answer. Read-only.
#[pyfunction]
#[pyo3(
    name = "state",
    signature = (port, debug=Flag(false)),
    text_signature = "(port, debug=False)"
)]
fn py_state(py: Python<'_>, port: Option<PathBuf>, debug: Flag) -> PyResult<Option<u8>> {
    let mut args = Args::new(Command::State, port);
    args.debug = debug.0;
    let record = call(py, &args)?;
    Ok(record
        .state_after
        .filter(|_| record.ok())
        .map(|s| s.number()))
}

/// A dict about the last call (None before the first), with the same keys as on the
/// board: ok, status (0 success, 1 modem failure, 2 bad input, 3 busy, 130 stopped),
/// command, state_before, state_after (state numbers or None), modem_changed, method
/// ('FFF', 'ON_THE_FLY' or None), build_before, build_after (or None), firmware (the LR
/// line, or ''), imei (or ''), bytes, seconds, the failure lines error, hint, modem,
/// next ('' on success), and choice (the image `ensure` chose, or None). The keys and
/// values are the engine's (`sqnsupgrade::report::keys`), as `--json`'s and the board's.
#[pyfunction]
#[pyo3(name = "last_result", text_signature = "()")]
fn py_last_result(py: Python<'_>) -> PyResult<Option<Bound<'_, PyDict>>> {
    let last = lock(&LAST);
    let Some(Last { record, lines }) = last.as_ref() else {
        return Ok(None);
    };
    let d = PyDict::new(py);
    for (key, value) in record::values(record, lines.as_ref()) {
        match value {
            Value::Null => d.set_item(key, py.None())?,
            Value::Bool(b) => d.set_item(key, b)?,
            Value::Int(n) => d.set_item(key, n)?,
            Value::Text(t) => d.set_item(key, String::from_utf8_lossy(t))?,
            Value::Millis(ms) => d.set_item(key, f64::from(ms) / 1000.0)?,
        }
    }
    Ok(Some(d))
}

/// The `sqnsupgrade` command line (the console script): runs the Rust CLI with `argv`
/// (the program's name first; `sys.argv` when None) and returns its exit status (0, 1, 2
/// or 130). Ctrl-C, SIGTERM and SIGHUP are the CLI's own while it runs (the first stops at
/// a safe point, a second ends the process); Python's handlers are put back afterwards
/// (when called from the main thread). Meant for the console script: one command per
/// process.
#[pyfunction]
#[pyo3(name = "main", signature = (argv=None), text_signature = "(argv=None)")]
fn py_main(py: Python<'_>, argv: Option<Vec<OsString>>) -> PyResult<u8> {
    let sys = py.import("sys")?;
    let argv = match argv {
        Some(a) => a,
        None => sys.getattr("argv")?.extract()?,
    };
    // What Python printed so far comes first.
    for stream in ["stdout", "stderr"] {
        if let Ok(s) = sys.getattr(stream) {
            let _ = s.call_method0("flush");
        }
    }
    // The CLI handles SIGINT, SIGTERM and SIGHUP while it runs: Python's handlers are put
    // back afterwards.
    let signal = py.import("signal")?;
    let mut handlers = Vec::new();
    for name in ["SIGINT", "SIGTERM", "SIGHUP"] {
        if let Ok(number) = signal.getattr(name) {
            let handler = signal.call_method1("getsignal", (&number,))?;
            handlers.push((number, handler));
        }
    }
    let code = py.detach(|| {
        let code = crate::cli::exit_status(argv);
        use std::io::Write;
        let _ = std::io::stdout().flush();
        code
    });
    for (number, handler) in &handlers {
        if !handler.is_none() {
            // Best effort: Python allows it on the main thread only.
            let _ = signal.call_method1("signal", (number, handler));
        }
    }
    Ok(code)
}

/// sqnsupgrade: update the Sequans SQN3330 LTE modem of Pycom GPy, FiPy and G01 boards
/// from a computer (the board in mirror mode: `import sqnsupgrade; sqnsupgrade.uart()` on
/// its REPL, then close that terminal), for example
/// `sqnsupgrade.run('/dev/ttyUSB0', 'CATM1-41065.dup')`.
///
/// Functions: run, info, version, state, last_result, main (the `sqnsupgrade` command).
/// The Rust engine does the work; failures print error, hint, modem and next (the call
/// that continues), and last_result() holds the same text.
#[pymodule]
#[pyo3(name = "sqnsupgrade")]
fn sqnsupgrade_module(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("VERSION", VERSION)?;
    m.add("__version__", VERSION)?;
    m.add_function(wrap_pyfunction!(py_run, m)?)?;
    m.add_function(wrap_pyfunction!(py_info, m)?)?;
    m.add_function(wrap_pyfunction!(py_version, m)?)?;
    m.add_function(wrap_pyfunction!(py_state, m)?)?;
    m.add_function(wrap_pyfunction!(py_last_result, m)?)?;
    m.add_function(wrap_pyfunction!(py_main, m)?)?;
    // What the package's `__init__.py` (maturin's) takes over with `import *`.
    let names = [
        "VERSION",
        "__version__",
        "run",
        "info",
        "version",
        "state",
        "last_result",
        "main",
    ];
    m.add("__all__", names)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_that_is_not_text_is_the_engines_file_error() {
        use std::os::unix::ffi::OsStringExt;
        let mut args = Args::new(Command::Run, Some(PathBuf::from("/dev/ttyUSB0")));
        let odd = PathBuf::from(OsString::from_vec(b"fw\xff.dup".to_vec()));
        assert_eq!(args.file(Some(odd), FileRole::Firmware), None);
        assert_eq!(args.file(Some(PathBuf::new()), FileRole::Updater), None);
        assert!(matches!(
            args.bad,
            Some(Error::File {
                role: FileRole::Firmware,
                problem: FileProblem::Unreadable
            })
        ));
        assert_eq!(args.port.as_deref(), Some("/dev/ttyUSB0"));
    }

    #[test]
    fn the_failure_lines_are_the_reports_for_cpython() {
        let args = Args {
            firmware: Some("CATM1-41065.dup".into()),
            ..Args::new(Command::Run, None)
        };
        let req = args.request();
        let f = Failure::untouched(Error::Port(PortProblem::Missing));
        let lines = Lines::of(&f, &req);
        assert_eq!(lines.modem, "not changed");
        assert_eq!(lines.next, "sqnsupgrade.run('CATM1-41065.dup')");
        assert_eq!(
            Record::from_failure(req.command, &f).status,
            report::status::BAD_INPUT
        );
    }
}
