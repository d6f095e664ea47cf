//! What the user asked for: the command, the front end, the options as given and their
//! checks, and the status codes every front end reports.

use crate::error::{Error, FileRole};
use crate::stp::{StpConfig, FIELD_BLOCK_SIZE, MAX_BLOCK_SIZE};
use crate::updater::{Failure, MethodChoice, Options, Timeouts};

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
    #[cfg(feature = "host")]
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
            #[cfg(feature = "host")]
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
    #[cfg(feature = "host")]
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
            #[cfg(feature = "host")]
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
#[cfg(feature = "host")]
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
