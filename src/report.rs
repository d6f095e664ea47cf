//! One report for every front end: the options a user gives and their checks, the status
//! codes, the result record, the four failure lines (`error:`, `hint:`, `modem:`,
//! `next:`) and the command that continues, written for the shell (the CLI), for CPython
//! and for MicroPython.
//!
//! The front ends print what this module gives them and decide nothing: the CLI, the
//! CPython library and the MicroPython module all call [`write_failure`] (or its parts)
//! with the user's [`Request`] and their [`Frontend`].
//!
//! The `next:` line is always one command that runs as printed (after the hint's advice,
//! such as a power cycle): the same command, the update with other files, or the state.
//! A placeholder in angle brackets (`<updater.elf>`) appears only where the user must
//! supply a file.

#[cfg(feature = "std")]
use crate::error::PortProblem;
use crate::error::{Error, FileProblem, FileRole};
use crate::msg::{self, Msg};
use crate::state::State;
use crate::stp::{StpConfig, FIELD_BLOCK_SIZE, MAX_BLOCK_SIZE};
use crate::text::Sink;
use crate::updater::{Failure, Method, MethodChoice, Options, Outcome, Timeouts};
use crate::version::Versions;

/// What the user runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// The update.
    Run,
    /// State, versions and IMEI.
    Info,
    /// The state only.
    State,
    /// Load updater.elf (recovery to mTools mode).
    Load,
    /// Prepare the modem for the USB method (the board's `uart()`).
    Uart,
    /// `ensure()`'s decision before an update (the board's `main.py`).
    Ensure,
    /// What `run` would do, without changing the modem (computers).
    #[cfg(feature = "std")]
    Check,
}

impl Command {
    /// The name in the result record (`run`, `info`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Command::Run => "run",
            Command::Info => "info",
            Command::State => "state",
            Command::Load => "load",
            Command::Uart => "uart",
            Command::Ensure => "ensure",
            #[cfg(feature = "std")]
            Command::Check => "check",
        }
    }
}

/// Where the user talks to the updater from: it decides how a command is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frontend {
    /// The `sqnsupgrade` command in a shell.
    Shell,
    /// `import sqnsupgrade` on a computer.
    CPython,
    /// `import sqnsupgrade` on the board.
    MicroPython,
}

/// The options as the user gives them, before any check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserOptions {
    /// Store first (FFF): `--fff`, `force_fff=True`.
    pub fff: bool,
    /// Flash while streaming (ON_THE_FLY): `--on-the-fly`, `load_fff=False`.
    pub on_the_fly: bool,
    /// The STP block size in bytes; `None` for the session's whole max transfer − 16.
    pub block_size: Option<u32>,
    /// Seconds to wait for each STP reply.
    pub reply_timeout_s: u32,
    /// The user says the modem is in upgrade mode (an interrupted update).
    pub resume: bool,
    /// Print the whole `showver` block.
    pub verbose: bool,
    /// Flash a `.dup` even when it is shorter than its header announces.
    pub allow_truncated: bool,
}

impl Default for UserOptions {
    fn default() -> Self {
        UserOptions {
            fff: false,
            on_the_fly: false,
            block_size: Some(FIELD_BLOCK_SIZE as u32),
            reply_timeout_s: 90,
            resume: false,
            verbose: false,
            allow_truncated: false,
        }
    }
}

impl UserOptions {
    /// The engine's options, or the option that cannot work (an input error: the modem is
    /// not touched).
    pub fn check(&self) -> Result<Options, Error> {
        use crate::error::OptionProblem;
        let block_size = match self.block_size {
            None => None,
            Some(n) if (16..=MAX_BLOCK_SIZE as u32).contains(&n) => Some(n as u16),
            Some(got) => return Err(Error::BadOption(OptionProblem::BlockSize { got })),
        };
        let method = match (self.fff, self.on_the_fly) {
            (true, true) => return Err(Error::BadOption(OptionProblem::BothMethods)),
            (true, false) => MethodChoice::Fff,
            (false, true) => MethodChoice::OnTheFly,
            (false, false) => MethodChoice::Auto,
        };
        if self.reply_timeout_s == 0 || self.reply_timeout_s > 86_400 {
            return Err(Error::BadOption(OptionProblem::ReplyTimeout {
                got: self.reply_timeout_s,
            }));
        }
        Ok(Options {
            method,
            resume: self.resume,
            verbose: self.verbose,
            allow_truncated: self.allow_truncated,
            stp: StpConfig {
                reply_timeout_ms: self.reply_timeout_s * 1000,
                block_size,
                ..StpConfig::default()
            },
            timeouts: Timeouts::default(),
        })
    }
}

/// What the user asked for, as typed: for the error's file name, the record and the
/// command that continues.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The command.
    pub command: Command,
    /// The front end.
    pub frontend: Frontend,
    /// The CLI as the user ran it (`sqnsupgrade`, or a path); unused by the Python ones.
    /// Paths and names are bytes (UTF-8 as the user gave them).
    pub program: &'a [u8],
    /// The serial port (a path, `COM9`), when one was given.
    pub port: Option<&'a [u8]>,
    /// The firmware image's path (or a stream's name).
    pub firmware: Option<&'a [u8]>,
    /// The image is a stream object (MicroPython `run(stream, size=N, name=...)`).
    pub firmware_stream: bool,
    /// The stream's size, for `size=`.
    pub firmware_size: u32,
    /// updater.elf's path.
    pub updater: Option<&'a [u8]>,
    /// The bootrom package's path.
    pub bootrom: Option<&'a [u8]>,
    /// The options given.
    pub options: UserOptions,
    /// The image's SHA-256 as the user typed it (`--sha256`, `sha256=`; computers): kept
    /// in the command that continues while that command names the same image, left out
    /// when it is not 64 hexadecimal digits (it was the problem).
    #[cfg(feature = "std")]
    pub sha256: Option<&'a [u8]>,
}

impl<'a> Request<'a> {
    /// A request for `command` from `frontend`, nothing else given yet.
    pub fn new(command: Command, frontend: Frontend) -> Request<'a> {
        Request {
            command,
            frontend,
            program: b"sqnsupgrade",
            port: None,
            firmware: None,
            firmware_stream: false,
            firmware_size: 0,
            updater: None,
            bootrom: None,
            options: UserOptions::default(),
            #[cfg(feature = "std")]
            sha256: None,
        }
    }

    /// The path the user gave for the file of `role`.
    pub fn path(&self, role: FileRole) -> Option<&'a [u8]> {
        match role {
            FileRole::Firmware => self.firmware,
            FileRole::Updater => self.updater,
            FileRole::Bootrom => self.bootrom,
        }
    }
}

/// The digest a SHA-256 given as text names: 64 hexadecimal digits (either case), else
/// the bad option (an input error: the modem is not touched).
#[cfg(feature = "std")]
pub fn sha256_digest(hex: &[u8]) -> Result<[u8; 32], Error> {
    let bad = Error::BadOption(crate::error::OptionProblem::Sha256);
    if hex.len() != 64 {
        return Err(bad);
    }
    let digit = |c: u8| char::from(c).to_digit(16).ok_or(bad);
    let mut digest = [0u8; 32];
    for (byte, pair) in digest.iter_mut().zip(hex.chunks_exact(2)) {
        *byte = (digit(pair[0])? * 16 + digit(pair[1])?) as u8;
    }
    Ok(digest)
}

/// The SHA-256 to repeat in the command that continues: the user's, when that command
/// names the same image and the digest is well formed.
#[cfg(feature = "std")]
fn sha256_for<'a>(firmware: Arg<'a>, req: &Request<'a>) -> Option<&'a [u8]> {
    let hex = req.sha256?;
    match firmware {
        Arg::Given(p) if Some(p) == req.firmware && sha256_digest(hex).is_ok() => Some(hex),
        _ => None,
    }
}

/// Status codes, the same everywhere (the CLI's exit status, `last_result()['status']`).
pub mod status {
    /// Success.
    pub const OK: u8 = 0;
    /// The modem failed: the failure lines say its state and what continues.
    pub const MODEM_FAILURE: u8 = 1;
    /// A file or option is wrong; the modem was not touched.
    pub const BAD_INPUT: u8 = 2;
    /// Another call is running (the board's module is not reentrant).
    pub const BUSY: u8 = 3;
    /// Stopped by the user (Ctrl-C).
    pub const CANCELLED: u8 = 130;
}

/// The status code of a failure: a bad input only while the modem was not touched (an FFF
/// image whose digest differs was stored, not committed: a modem failure's status).
pub fn failure_status(f: &Failure) -> u8 {
    match f.error {
        Error::Cancelled => status::CANCELLED,
        e if e.is_input_error() && !f.modem_changed => status::BAD_INPUT,
        _ => status::MODEM_FAILURE,
    }
}

/// A file argument of the command that continues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arg<'a> {
    /// Not given.
    Absent,
    /// The user's own file.
    Given(&'a [u8]),
    /// The user must supply it: the sentence names what (`<updater.elf>`).
    Placeholder(Msg),
}

/// The command that continues after a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextStep<'a> {
    /// The same command again, as given.
    Same,
    /// The update, with these files; `defaults` leaves out the options the user gave.
    Run {
        /// The firmware image.
        firmware: Arg<'a>,
        /// updater.elf.
        updater: Arg<'a>,
        /// The bootrom package.
        bootrom: Arg<'a>,
        /// Leave out the method and block options (they were the problem).
        defaults: bool,
    },
    /// Check the modem's state.
    State,
    /// The same command again, on a port the user names (from the list printed above, or
    /// the board's once it is plugged in) (computers only).
    #[cfg(feature = "std")]
    ChoosePort,
}

const FULL_IMAGE: Msg = Msg::NextFullImage;
const UPDATER_ELF: Msg = Msg::NextUpdater;
const BOOTROM: Msg = Msg::NextBootrom;

fn is_upgdiff(path: Option<&[u8]>) -> bool {
    path.is_some_and(|p| {
        crate::text::starts_with_ignore_case(crate::text::base_name(p), b"upgdiff")
    })
}

/// The firmware for a run that needs the full image.
fn full_image<'a>(req: &Request<'a>) -> Arg<'a> {
    match req.firmware {
        Some(p) if !is_upgdiff(Some(p)) => Arg::Given(p),
        _ => Arg::Placeholder(FULL_IMAGE),
    }
}

fn given<'a>(p: Option<&'a [u8]>) -> Arg<'a> {
    p.map_or(Arg::Absent, Arg::Given)
}

/// Decides the command that continues after `f`.
#[inline(never)]
pub fn next_step<'a>(f: &Failure, req: &Request<'a>) -> NextStep<'a> {
    let run = |firmware, updater, bootrom| NextStep::Run {
        firmware,
        updater,
        bootrom,
        defaults: false,
    };
    if req.command == Command::Ensure {
        // ensure()'s own check: after its last try, the update by hand with the image it
        // chose; otherwise the state first.
        return match (f.error, req.firmware) {
            (Error::GaveUp { .. }, Some(_)) => run(given(req.firmware), Arg::Absent, Arg::Absent),
            _ => NextStep::State,
        };
    }
    if !f.modem_changed {
        return match f.error {
            Error::UpdaterNeeded => run(
                full_image(req),
                match req.updater {
                    Some(u) => Arg::Given(u),
                    None => Arg::Placeholder(UPDATER_ELF),
                },
                given(req.bootrom),
            ),
            Error::BootromNeeded => run(
                given(req.firmware),
                given(req.updater),
                Arg::Placeholder(BOOTROM),
            ),
            Error::File {
                role: FileRole::Firmware,
                problem: FileProblem::DiffNeedsFullImage | FileProblem::DiffFromMismatch { .. },
            } => run(
                Arg::Placeholder(FULL_IMAGE),
                given(req.updater),
                given(req.bootrom),
            ),
            Error::File {
                role: FileRole::Firmware,
                problem: FileProblem::DiffWithUpdater,
            } => run(given(req.firmware), Arg::Absent, given(req.bootrom)),
            Error::FffNeedsApplicationMode
            | Error::BadOption(_)
            | Error::File {
                problem: FileProblem::TooBigForFff { .. },
                ..
            } => NextStep::Run {
                firmware: given(req.firmware),
                updater: given(req.updater),
                bootrom: given(req.bootrom),
                defaults: true,
            },
            Error::NoResponse | Error::LinkGone => NextStep::State,
            #[cfg(feature = "std")]
            // No port or several: the same command, naming the part that was missing.
            Error::Port(PortProblem::Several | PortProblem::NoneFound) => NextStep::ChoosePort,
            _ => NextStep::Same,
        };
    }
    if req.command != Command::Run {
        return match f.state {
            Some(_) => NextStep::Same,
            None => NextStep::State,
        };
    }
    match f.state {
        Some(State::Upgrade) | Some(State::MTools) => {
            run(full_image(req), Arg::Absent, Arg::Absent)
        }
        Some(State::Recovery) => run(
            full_image(req),
            match req.updater {
                Some(u) => Arg::Given(u),
                None => Arg::Placeholder(UPDATER_ELF),
            },
            given(req.bootrom),
        ),
        Some(State::Application) => match f.error {
            Error::WrongBuild { .. } => run(full_image(req), Arg::Absent, Arg::Absent),
            _ => NextStep::Same,
        },
        Some(State::Updater) | None => NextStep::State,
    }
}

/// Writes the error line's text (without `error: `): the file's path first when the error
/// is about a file.
#[inline(never)]
pub fn write_error(f: &Failure, req: &Request<'_>, out: &mut dyn Sink) {
    if let Some(path) = f.file_role().and_then(|role| req.path(role)) {
        if !path.is_empty() {
            out.put_bytes(path);
            out.put(": ");
        }
    }
    #[cfg(feature = "std")]
    if matches!(f.error, Error::Port(_)) {
        if let Some(port) = req.port {
            out.put_bytes(port);
            out.put(": ");
        }
    }
    f.error.write_message(out);
}

/// Writes the hint: what to do, from the error and the state the modem is really in.
#[inline(never)]
pub fn write_hint(f: &Failure, out: &mut dyn Sink) {
    let by_state = matches!(
        f.error,
        Error::Stp { .. }
            | Error::RebootedDuringTransfer { .. }
            | Error::Cancelled
            | Error::Timeout { .. }
            | Error::AtError { .. }
            | Error::UnexpectedReply { .. }
            | Error::UpgradeTimeout
            | Error::ImageRead
            | Error::StreamCount { .. }
            | Error::NotBackInApplication
    ) && f.modem_changed;
    let hint = if !by_state
        || matches!(f.error, Error::AtError { command } if command.starts_with("AT+SMSWBOOT=0"))
    {
        f.error.hint()
    } else {
        match f.state {
            Some(State::Upgrade) | Some(State::MTools) => Msg::HintStateUpgrade,
            Some(State::Updater) => Msg::HintStateFlashing,
            Some(State::Recovery) => Msg::HintStateRecovery,
            Some(State::Application) => Msg::HintStateApplication,
            None => Msg::HintStateUnknown,
        }
    };
    msg::write(out, hint, &[]);
}

/// Writes the modem line: `not changed`, the state number and name, or `unknown`.
#[inline(never)]
pub fn write_modem(f: &Failure, out: &mut dyn Sink) {
    if !f.modem_changed {
        msg::write(out, Msg::ModemNotChanged, &[]);
        return;
    }
    write_state(f.state, out);
}

/// `2 application mode (FFF)`, or `unknown (no answer)`.
pub fn write_state(state: Option<State>, out: &mut dyn Sink) {
    match state {
        Some(s) => {
            out.put_u32(u32::from(s.number()));
            out.put(" ");
            msg::write(out, s.name(), &[]);
        }
        None => msg::write(out, Msg::ModemUnknown, &[]),
    }
}

/// Writes `s` so that the shell of the system this runs on reads it back as one word: a
/// POSIX shell, or on Windows cmd.exe and PowerShell.
#[cfg(feature = "std")]
fn shell_word(s: &[u8], out: &mut dyn Sink) {
    if cfg!(windows) {
        windows_word(s, out)
    } else {
        posix_word(s, out)
    }
}

/// Writes `s` so that a POSIX shell reads it back as one word.
#[cfg(feature = "std")]
fn posix_word(s: &[u8], out: &mut dyn Sink) {
    let plain = !s.is_empty()
        && s.iter().all(|&b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'_' | b'.' | b'/' | b'-' | b':' | b'+' | b'=' | b'@' | b',' | b'%'
                )
        });
    if plain {
        out.put_bytes(s);
        return;
    }
    out.put("'");
    escape(s, out, |b| (b == b'\'').then_some("'\\''"));
    out.put("'");
}

/// Writes `s` so that cmd.exe and PowerShell pass it to the program as one argument (as
/// the C runtime's and Rust's argument parsing read it back): as it is when it is made of
/// letters, digits and `_ . \ / : - +` (`C:\Users\me\CATM1-41065.dup`, `COM9`), else in
/// double quotes, with a `"` as `\"` and the backslashes before one doubled.
#[cfg(feature = "std")]
fn windows_word(s: &[u8], out: &mut dyn Sink) {
    let plain = !s.is_empty()
        && s.iter().all(|&b| {
            b.is_ascii_alphanumeric()
                || matches!(b, b'_' | b'.' | b'\\' | b'/' | b':' | b'-' | b'+')
        });
    if plain {
        out.put_bytes(s);
        return;
    }
    out.put("\"");
    let mut backslashes = 0;
    for &b in s {
        match b {
            b'\\' => backslashes += 1,
            b'"' => {
                for _ in 0..backslashes * 2 + 1 {
                    out.put("\\");
                }
                out.put("\"");
                backslashes = 0;
            }
            _ => {
                for _ in 0..backslashes {
                    out.put("\\");
                }
                out.put_bytes(&[b]);
                backslashes = 0;
            }
        }
    }
    // Before the closing quote, backslashes count double.
    for _ in 0..backslashes * 2 {
        out.put("\\");
    }
    out.put("\"");
}

/// Writes `s` as a Python string literal.
fn py_str(s: &[u8], out: &mut dyn Sink) {
    out.put("'");
    escape(s, out, |b| match b {
        b'\\' => Some("\\\\"),
        b'\'' => Some("\\'"),
        b'\n' => Some("\\n"),
        b'\r' => Some("\\r"),
        b'\t' => Some("\\t"),
        _ => None,
    });
    out.put("'");
}

/// Writes `s` with the ASCII bytes `esc` maps replaced (byte-wise: no string searching).
fn escape(s: &[u8], out: &mut dyn Sink, esc: fn(u8) -> Option<&'static str>) {
    let mut start = 0;
    for (i, &b) in s.iter().enumerate() {
        if let Some(rep) = esc(b) {
            out.put_bytes(s.get(start..i).unwrap_or(&[]));
            out.put(rep);
            start = i + 1;
        }
    }
    out.put_bytes(s.get(start..).unwrap_or(&[]));
}

/// Writes a file argument: the user's path through `quote`, a placeholder as it is.
fn write_arg(arg: Arg<'_>, out: &mut dyn Sink, quote: fn(&[u8], &mut dyn Sink)) {
    match arg {
        Arg::Absent => {}
        Arg::Given(p) => quote(p, out),
        Arg::Placeholder(m) => msg::write(out, m, &[]),
    }
}

/// Writes the shell command for `step` (the CLI exists on computers only: a firmware
/// build leaves this out).
#[cfg(feature = "std")]
fn write_shell(step: NextStep<'_>, req: &Request<'_>, out: &mut dyn Sink) {
    shell_word(req.program, out);
    if let Some(port) = req.port {
        out.put(" --port ");
        shell_word(port, out);
    } else if step == NextStep::ChoosePort {
        out.put(" --port ");
        msg::write(out, Msg::NextPort, &[]);
    }

    let (firmware, updater, bootrom, defaults) = match step {
        NextStep::State => {
            out.put(" state");
            return;
        }
        NextStep::Same | NextStep::ChoosePort => match req.command {
            Command::Run => (
                given(req.firmware),
                given(req.updater),
                given(req.bootrom),
                false,
            ),
            Command::Load => {
                out.put(" load ");
                shell_word(req.updater.unwrap_or(b""), out);
                return;
            }
            other => {
                out.put(" ");
                out.put(other.name());
                return;
            }
        },
        NextStep::Run {
            firmware,
            updater,
            bootrom,
            defaults,
        } => (firmware, updater, bootrom, defaults),
    };
    out.put(" run ");
    let firmware = match firmware {
        Arg::Absent => Arg::Placeholder(FULL_IMAGE),
        other => other,
    };
    write_arg(firmware, out, shell_word);
    for (flag, arg) in [(" --updater ", updater), (" --bootrom ", bootrom)] {
        if arg != Arg::Absent {
            out.put(flag);
            write_arg(arg, out, shell_word);
        }
    }
    let o = &req.options;
    if !defaults {
        if o.fff {
            out.put(" --fff");
        }
        if o.on_the_fly {
            out.put(" --on-the-fly");
        }
        match o.block_size {
            None => out.put(" --block-size max"),
            Some(n) if n != FIELD_BLOCK_SIZE as u32 => {
                out.put(" --block-size ");
                out.put_u32(n);
            }
            Some(_) => {}
        }
    }
    if o.reply_timeout_s != UserOptions::default().reply_timeout_s && o.reply_timeout_s != 0 {
        out.put(" --reply-timeout ");
        out.put_u32(o.reply_timeout_s);
    }
    if o.allow_truncated {
        out.put(" --allow-truncated");
    }
    if let Some(hex) = sha256_for(firmware, req) {
        out.put(" --sha256 ");
        out.put_bytes(hex);
    }
}

/// A Python call's arguments, comma-separated as they are written.
struct PyArgs<'o> {
    out: &'o mut dyn Sink,
    first: bool,
}

impl PyArgs<'_> {
    fn next(&mut self) -> &mut dyn Sink {
        if !self.first {
            self.out.put(", ");
        }
        self.first = false;
        &mut *self.out
    }

    fn text(&mut self, keyword: &str, value: &[u8]) {
        let out = self.next();
        out.put(keyword);
        py_str(value, out);
    }

    /// A file argument; a placeholder in quotes, so that the call stays valid Python.
    fn file(&mut self, keyword: &str, arg: Arg<'_>) {
        if arg == Arg::Absent {
            return;
        }
        let out = self.next();
        out.put(keyword);
        match arg {
            Arg::Placeholder(m) => {
                out.put("'");
                msg::write(out, m, &[]);
                out.put("'");
            }
            _ => write_arg(arg, out, py_str),
        }
    }

    fn flag(&mut self, text: &str) {
        self.next().put(text);
    }
}

/// Writes the Python call (CPython or MicroPython) for `step`: on a computer the port is
/// the first argument, on the board `port=` (when one was given) comes last.
#[inline(never)]
fn write_python(step: NextStep<'_>, req: &Request<'_>, out: &mut dyn Sink) {
    let board = req.frontend == Frontend::MicroPython;
    // Only a computer lists ports (a board's firmware has no such step).
    #[cfg(feature = "std")]
    let (choose_port, step) = match step {
        NextStep::ChoosePort => (true, NextStep::Same),
        other => (false, other),
    };
    #[cfg(not(feature = "std"))]
    let choose_port = false;
    let (name, files) = match step {
        #[cfg(feature = "std")]
        NextStep::ChoosePort => ("", None), // made Same above
        NextStep::State => ("state", None),
        NextStep::Same if req.command != Command::Run => (req.command.name(), None),
        NextStep::Same => (
            "run",
            Some((
                given(req.firmware),
                given(req.updater),
                given(req.bootrom),
                false,
            )),
        ),
        NextStep::Run {
            firmware,
            updater,
            bootrom,
            defaults,
        } => ("run", Some((firmware, updater, bootrom, defaults))),
    };
    out.put("sqnsupgrade.");
    out.put(name);
    out.put("(");
    let mut args = PyArgs { out, first: true };
    if let (Some(port), false) = (req.port, board) {
        args.text("", port);
    } else if choose_port && !board {
        args.file("", Arg::Placeholder(Msg::NextPort));
    }
    if step == NextStep::Same && req.command == Command::Load {
        args.text("", req.updater.unwrap_or(b""));
    }
    if let Some((firmware, updater, bootrom, defaults)) = files {
        let stream = board && req.firmware_stream && matches!(firmware, Arg::Given(_));
        if stream {
            msg::write(args.next(), Msg::NextStream, &[]);
        } else {
            args.file(
                "",
                match firmware {
                    Arg::Absent => Arg::Placeholder(FULL_IMAGE),
                    other => other,
                },
            );
        }
        args.file("", updater);
        args.file("bootrom=", bootrom);
        if stream {
            let out = args.next();
            out.put("size=");
            out.put_u32(req.firmware_size);
            if let Some(name) = req.firmware.filter(|n| !n.is_empty()) {
                args.text("name=", name);
            }
        }
        let o = &req.options;
        if !defaults {
            if o.fff {
                args.flag("force_fff=True");
            }
            if o.on_the_fly {
                args.flag("load_fff=False");
            }
            if board && o.block_size != Some(FIELD_BLOCK_SIZE as u32) {
                let out = args.next();
                out.put("block_size=");
                match o.block_size {
                    Some(n) => out.put_u32(n),
                    None => out.put("None"),
                }
            }
        }
        if o.allow_truncated {
            args.flag("allow_truncated=True");
        }
        #[cfg(feature = "std")]
        if let Some(hex) = sha256_for(firmware, req) {
            args.text("sha256=", hex);
        }
    }
    if let (Some(port), true) = (req.port, board) {
        args.text("port=", port);
    }
    args.out.put(")");
}

/// Writes the command that continues, for the request's front end.
pub fn write_next(step: NextStep<'_>, req: &Request<'_>, out: &mut dyn Sink) {
    match req.frontend {
        #[cfg(feature = "std")]
        Frontend::Shell => write_shell(step, req, out),
        _ => write_python(step, req, out),
    }
}

/// Writes the four failure lines, each ending with a newline.
pub fn write_failure(f: &Failure, req: &Request<'_>, out: &mut dyn Sink) {
    out.put("error: ");
    write_error(f, req, out);
    out.put("\nhint: ");
    write_hint(f, out);
    out.put("\nmodem: ");
    write_modem(f, out);
    out.put("\nnext: ");
    write_next(next_step(f, req), req, out);
    out.put("\n");
}

/// The result record of one call: the same keys on the board and on a computer (`ok`,
/// `status`, `command`, `state_before`, `state_after`, `modem_changed`, `method`,
/// `build_before`, `build_after`, `firmware`, `imei`, `bytes`, `seconds`, and the failure
/// lines `error`, `hint`, `modem`, `next`, rendered with [`write_failure`]'s parts).
#[derive(Debug, Clone, Default)]
pub struct Record {
    /// The status code ([`status`]).
    pub status: u8,
    /// The command.
    pub command: Option<Command>,
    /// The state before (when it was found).
    pub state_before: Option<State>,
    /// The state after.
    pub state_after: Option<State>,
    /// True once a command that changes the modem was sent.
    pub modem_changed: bool,
    /// FFF or ON_THE_FLY, for an update.
    pub method: Option<Method>,
    /// The software build before.
    pub build_before: Option<u32>,
    /// The software build after.
    pub build_after: Option<u32>,
    /// The firmware line (`LR5.1.1.0-41065`), empty when unknown.
    pub firmware: heapless::Vec<u8, 32>,
    /// The IMEI, empty when unknown.
    pub imei: heapless::Vec<u8, 16>,
    /// Bytes the modem acknowledged.
    pub bytes: u32,
    /// How long the call took, in milliseconds.
    pub millis: u32,
}

impl Record {
    /// A successful update.
    #[inline(never)]
    pub fn from_outcome(o: &Outcome) -> Record {
        let mut r = Record {
            status: status::OK,
            command: Some(Command::Run),
            state_before: Some(o.state_before),
            state_after: o.state_after,
            modem_changed: true,
            method: Some(o.method),
            build_before: o.before.software_build,
            bytes: o.bytes_sent,
            millis: o.elapsed_ms.min(u64::from(u32::MAX)) as u32,
            ..Record::default()
        };
        r.take_versions(&o.after, o.imei.as_deref());
        r
    }

    /// A call that found the modem in `state` (info, state, load, uart).
    #[inline(never)]
    pub fn from_state(command: Command, state: Option<State>) -> Record {
        Record {
            status: status::OK,
            command: Some(command),
            state_before: state,
            state_after: state,
            ..Record::default()
        }
    }

    /// A failed call.
    #[inline(never)]
    pub fn from_failure(command: Command, f: &Failure) -> Record {
        Record {
            status: failure_status(f),
            command: Some(command),
            state_before: f.state_before,
            state_after: f.state,
            modem_changed: f.modem_changed,
            method: f.method,
            build_before: f.build_before,
            bytes: f.bytes_sent,
            millis: f.elapsed_ms,
            ..Record::default()
        }
    }

    /// Takes the versions and the IMEI the modem reported.
    pub fn take_versions(&mut self, v: &Versions, imei: Option<&[u8]>) {
        self.build_after = v.software_build;
        self.firmware.clone_from(&v.lr);
        self.imei = heapless::Vec::from_slice(imei.unwrap_or(&[])).unwrap_or_default();
    }

    /// True for success.
    pub fn ok(&self) -> bool {
        self.status == status::OK
    }

    /// The method's name in the record (`FFF`, `ON_THE_FLY`), "" when none.
    pub fn method_name(&self) -> &'static str {
        match self.method {
            Some(Method::Fff) => "FFF",
            Some(Method::OnTheFly) => "ON_THE_FLY",
            None => "",
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::format;
    use std::string::String;

    fn failure(error: Error, state: Option<State>, changed: bool) -> Failure {
        Failure {
            error,
            state,
            modem_changed: changed,
            ..Failure::untouched(error)
        }
    }

    fn next(f: &Failure, req: &Request<'_>) -> String {
        let mut s = String::new();
        write_next(next_step(f, req), req, &mut s);
        s
    }

    fn shell<'a>(firmware: &'a str, updater: Option<&'a str>) -> Request<'a> {
        let (firmware, updater) = (firmware.as_bytes(), updater.map(str::as_bytes));
        Request {
            port: Some(b"/dev/ttyUSB0"),
            firmware: Some(firmware),
            updater,
            ..Request::new(Command::Run, Frontend::Shell)
        }
    }

    #[test]
    fn shell_next_steps_run_as_printed() {
        let req = shell("/home/me/My Files/CATM1-41065.dup", None);
        // Quoted for the shell of the system the test runs on.
        let quoted = if cfg!(windows) {
            "\"/home/me/My Files/CATM1-41065.dup\""
        } else {
            "'/home/me/My Files/CATM1-41065.dup'"
        };
        let stp = Error::Stp {
            problem: crate::error::StpProblem::NoReply,
            offset: 4032,
        };
        assert_eq!(
            next(&failure(stp, Some(State::Upgrade), true), &req),
            format!("sqnsupgrade --port /dev/ttyUSB0 run {quoted}")
        );
        assert_eq!(
            next(
                &failure(Error::UpdaterNeeded, Some(State::Recovery), false),
                &req
            ),
            format!("sqnsupgrade --port /dev/ttyUSB0 run {quoted} --updater <updater.elf>")
        );
        let diff = shell("upgdiff_38638-to-41065.dup", None);
        assert_eq!(
            next(&failure(stp, Some(State::Upgrade), true), &diff),
            "sqnsupgrade --port /dev/ttyUSB0 run <full image .dup>"
        );
        assert_eq!(
            next(&failure(stp, Some(State::Updater), true), &req),
            "sqnsupgrade --port /dev/ttyUSB0 state"
        );
        assert_eq!(
            next(&failure(Error::NoResponse, None, false), &req),
            "sqnsupgrade --port /dev/ttyUSB0 state"
        );
        let quote = shell("it's.dup", None);
        let mut s = String::new();
        posix_word(b"it's.dup", &mut s);
        assert_eq!(s, "'it'\\''s.dup'");
        let its = if cfg!(windows) {
            "run \"it's.dup\""
        } else {
            "run 'it'\\''s.dup'"
        };
        assert!(next(
            &failure(Error::Cancelled, Some(State::Upgrade), true),
            &quote
        )
        .ends_with(its));
    }

    #[test]
    fn windows_words_read_back_as_one_argument() {
        let word = |w: &str| {
            let mut s = String::new();
            windows_word(w.as_bytes(), &mut s);
            s
        };
        assert_eq!(word("COM9"), "COM9");
        assert_eq!(
            word(r"C:\Users\me\Downloads\CATM1-41065.dup"),
            r"C:\Users\me\Downloads\CATM1-41065.dup"
        );
        assert_eq!(
            word(r"C:\Users\John Smith\CATM1-41065.dup"),
            r#""C:\Users\John Smith\CATM1-41065.dup""#
        );
        assert_eq!(word("it's.dup"), r#""it's.dup""#);
        assert_eq!(word(""), r#""""#);
        // Backslashes before a quote, or before the closing one, count double.
        assert_eq!(word(r"a b\"), r#""a b\\""#);
        assert_eq!(word(r#"a\"b"#), r#""a\\\"b""#);
        // %PATH% is quoted, not left plain.
        assert!(word("%PATH%").starts_with('"'));
    }

    #[test]
    fn bad_options_are_left_out_of_the_next_step() {
        let mut req = shell("CATM1-41065.dup", None);
        req.options.block_size = Some(0);
        let e = req.options.check().unwrap_err();
        assert!(e.is_input_error());
        let f = failure(e, None, false);
        assert_eq!(
            next(&f, &req),
            "sqnsupgrade --port /dev/ttyUSB0 run CATM1-41065.dup"
        );
        req.options.block_size = None;
        req.options.reply_timeout_s = 0;
        assert!(matches!(
            req.options.check(),
            Err(Error::BadOption(
                crate::error::OptionProblem::ReplyTimeout { got: 0 }
            ))
        ));
    }

    #[test]
    fn a_sha256_is_64_hex_digits_and_follows_its_image_into_the_next_step() {
        let hex = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
        let digest = sha256_digest(hex.to_uppercase().as_bytes()).unwrap();
        assert_eq!(digest[..3], [0x9f, 0x86, 0xd0]);
        assert_eq!(digest[31], 0x08);
        let bad = Error::BadOption(crate::error::OptionProblem::Sha256);
        for wrong in [&hex[1..], &hex.replace('f', "g"), "", &format!("{hex}0")] {
            assert_eq!(sha256_digest(wrong.as_bytes()), Err(bad), "{wrong}");
        }
        assert!(bad.is_input_error());
        let mut req = shell("CATM1-41065.dup", None);
        req.sha256 = Some(hex.as_bytes());
        let stopped = failure(Error::Cancelled, Some(State::Upgrade), true);
        assert_eq!(
            next(&stopped, &req),
            format!("sqnsupgrade --port /dev/ttyUSB0 run CATM1-41065.dup --sha256 {hex}")
        );
        let mut py = req;
        py.frontend = Frontend::CPython;
        assert_eq!(
            next(&stopped, &py),
            format!("sqnsupgrade.run('/dev/ttyUSB0', 'CATM1-41065.dup', sha256='{hex}')")
        );
        // Another image (the full one instead of an upgdiff): its digest is not this one.
        let mut diff = shell("upgdiff_38638-to-41065.dup", None);
        diff.sha256 = Some(hex.as_bytes());
        assert_eq!(
            next(&stopped, &diff),
            "sqnsupgrade --port /dev/ttyUSB0 run <full image .dup>"
        );
        // A malformed one was the problem: left out.
        req.sha256 = Some(b"9f86");
        let f = failure(sha256_digest(b"9f86").unwrap_err(), None, false);
        let mut lines = String::new();
        write_failure(&f, &req, &mut lines);
        assert_eq!(
            lines,
            "error: the SHA-256 given is not 64 hexadecimal digits\n\
             hint: give the image's SHA-256 as 64 hexadecimal digits (as sha256sum prints it), or leave it out\n\
             modem: not changed\n\
             next: sqnsupgrade --port /dev/ttyUSB0 run CATM1-41065.dup\n"
        );
    }

    #[test]
    fn python_next_steps() {
        let mut req = Request {
            port: Some(b"COM9"),
            firmware: Some(b"C:\\fw\\CATM1-41065.dup"),
            ..Request::new(Command::Run, Frontend::CPython)
        };
        let f = failure(Error::UpdaterNeeded, Some(State::Recovery), false);
        assert_eq!(
            next(&f, &req),
            "sqnsupgrade.run('COM9', 'C:\\\\fw\\\\CATM1-41065.dup', '<updater.elf>')"
        );
        req.frontend = Frontend::MicroPython;
        req.port = None;
        req.firmware = Some(b"/sd/CATM1-41065.dup");
        req.updater = Some(b"/flash/updater.elf");
        assert_eq!(
            next(&f, &req),
            "sqnsupgrade.run('/sd/CATM1-41065.dup', '/flash/updater.elf')"
        );
        req.firmware_stream = true;
        req.firmware_size = 5996938;
        req.firmware = Some(b"CATM1-41065.dup");
        req.updater = None;
        let stp = failure(Error::Cancelled, Some(State::Upgrade), true);
        assert_eq!(
            next(&stp, &req),
            "sqnsupgrade.run(<the image stream, from its start>, size=5996938, name='CATM1-41065.dup')"
        );
        let state = Request::new(Command::State, Frontend::MicroPython);
        assert_eq!(
            next(&failure(Error::NoResponse, None, false), &state),
            "sqnsupgrade.state()"
        );
    }

    #[test]
    fn four_lines() {
        let req = shell("CATM1-41065.dup", None);
        let f = failure(
            Error::File {
                role: FileRole::Firmware,
                problem: FileProblem::Html,
            },
            None,
            false,
        );
        let mut s = String::new();
        write_failure(&f, &req, &mut s);
        assert_eq!(
            s,
            "error: CATM1-41065.dup: firmware image: looks like a web page (HTML), not the file\n\
             hint: download the file itself, not the page that links to it\n\
             modem: not changed\n\
             next: sqnsupgrade --port /dev/ttyUSB0 run CATM1-41065.dup\n"
        );
    }
}

/// A value of the result record.
#[cfg(feature = "std")]
#[derive(Debug, Clone, PartialEq)]
pub enum Field {
    /// true / false.
    Bool(bool),
    /// A whole number.
    Int(i64),
    /// Seconds.
    Float(f64),
    /// Text.
    Text(std::string::String),
    /// Not known (None, null).
    Null,
}

#[cfg(feature = "std")]
impl Record {
    /// The record's keys and values, in order: the one definition behind `last_result()`
    /// on a computer and `--json` (the board's module builds the same keys from the same
    /// record). `failure` adds the four lines.
    pub fn fields(
        &self,
        failure: Option<(&Failure, &Request<'_>)>,
    ) -> std::vec::Vec<(&'static str, Field)> {
        use std::string::{String, ToString};
        let opt_num = |n: Option<u32>| n.map_or(Field::Null, |n| Field::Int(i64::from(n)));
        let state = |s: Option<State>| s.map_or(Field::Null, |s| Field::Int(i64::from(s.number())));
        let text = |b: &[u8]| Field::Text(String::from_utf8_lossy(b).into_owned());
        let (mut error, mut hint, mut modem, mut next) =
            (String::new(), String::new(), String::new(), String::new());
        if let Some((f, req)) = failure {
            write_error(f, req, &mut error);
            write_hint(f, &mut hint);
            write_modem(f, &mut modem);
            write_next(next_step(f, req), req, &mut next);
        }
        std::vec![
            ("ok", Field::Bool(self.ok())),
            ("status", Field::Int(i64::from(self.status))),
            (
                "command",
                self.command
                    .map_or(Field::Null, |c| Field::Text(c.name().to_string())),
            ),
            ("state_before", state(self.state_before)),
            ("state_after", state(self.state_after)),
            ("modem_changed", Field::Bool(self.modem_changed)),
            (
                "method",
                match self.method_name() {
                    "" => Field::Null,
                    m => Field::Text(m.to_string()),
                },
            ),
            ("build_before", opt_num(self.build_before)),
            ("build_after", opt_num(self.build_after)),
            ("firmware", text(&self.firmware)),
            ("imei", text(&self.imei)),
            ("bytes", Field::Int(i64::from(self.bytes))),
            ("seconds", Field::Float(f64::from(self.millis) / 1000.0)),
            ("error", Field::Text(error)),
            ("hint", Field::Text(hint)),
            ("modem", Field::Text(modem)),
            ("next", Field::Text(next)),
        ]
    }
}

/// `fields` as one JSON object (`--json`).
#[cfg(feature = "std")]
pub fn to_json(fields: &[(&str, Field)]) -> std::string::String {
    use std::string::String;
    fn string(s: &str, out: &mut String) {
        out.push('"');
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if (c as u32) < 0x20 => out.push_str(&std::format!("\\u{:04x}", c as u32)),
                c => out.push(c),
            }
        }
        out.push('"');
    }
    let mut out = String::from("{");
    for (i, (key, value)) in fields.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        string(key, &mut out);
        out.push_str(": ");
        match value {
            Field::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Field::Int(n) => out.push_str(&std::format!("{n}")),
            Field::Float(x) => out.push_str(&std::format!("{x:.3}")),
            Field::Text(t) => string(t, &mut out),
            Field::Null => out.push_str("null"),
        }
    }
    out.push('}');
    out
}

/// What a plan does, in a sentence (`check`).
#[cfg(feature = "std")]
pub fn plan_msg(plan: crate::updater::Plan) -> Msg {
    use crate::updater::Plan;
    match plan {
        Plan::Normal(Method::Fff) => Msg::PlanFff,
        Plan::Normal(Method::OnTheFly) => Msg::PlanOnTheFly,
        Plan::MTools => Msg::PlanMtools,
        Plan::Resume => Msg::PlanResume,
        Plan::Recovery => Msg::PlanRecovery,
        Plan::Bootrom => Msg::PlanBootrom,
    }
}

/// The plan's name in `--json` (`FFF`, `ON_THE_FLY`, `mtools`, `resume`, `recovery`,
/// `bootrom`).
#[cfg(feature = "std")]
pub fn plan_name(plan: crate::updater::Plan) -> &'static str {
    use crate::updater::Plan;
    match plan {
        Plan::Normal(Method::Fff) => "FFF",
        Plan::Normal(Method::OnTheFly) => "ON_THE_FLY",
        Plan::MTools => "mtools",
        Plan::Resume => "resume",
        Plan::Recovery => "recovery",
        Plan::Bootrom => "bootrom",
    }
}
