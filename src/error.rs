//! The one error type of the engine: every failure has a message and a hint for the user.
//!
//! Messages are written into a [`Sink`] (no `core::fmt` on the board); on a computer
//! `Display` renders the same text.

use crate::msg::{self, Arg, Msg};
use crate::text::Sink;

/// Which of the user's files an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileRole {
    /// The firmware image (`.dup`, full or upgdiff).
    Firmware,
    /// `updater.elf` (mTools).
    Updater,
    /// The bootrom package for modems with bootloader 33080.
    Bootrom,
}

impl FileRole {
    /// The name users know the file by.
    pub fn label(self) -> &'static str {
        match self {
            FileRole::Firmware => "firmware image",
            FileRole::Updater => "updater.elf",
            FileRole::Bootrom => "bootrom package",
        }
    }
}

/// What is wrong with a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileProblem {
    /// The file does not exist.
    Missing,
    /// The file exists but cannot be read.
    Unreadable,
    /// Smaller than any firmware file (under 128 bytes).
    TooSmall {
        /// Its size.
        size: u32,
    },
    /// A web page saved instead of the file.
    Html,
    /// Not a `.dup` (does not start with `UPGR`).
    NotDup,
    /// Not an ELF file (does not start with `\x7fELF`).
    NotElf,
    /// `updater.elf` was given where the `.dup` goes.
    ElfAsFirmware,
    /// A `.dup` was given where `updater.elf` goes.
    DupAsUpdater,
    /// An upgdiff cannot be combined with updater.elf.
    DiffWithUpdater,
    /// The upgdiff applies to another build than the modem's.
    DiffFromMismatch {
        /// The build the upgdiff starts from.
        from: u32,
        /// The build the modem runs.
        modem: u32,
    },
    /// The modem is in recovery or upgrade mode: only a full image can be used.
    DiffNeedsFullImage,
    /// FFF was forced but the file is over 4 MiB.
    TooBigForFff {
        /// Its size.
        size: u32,
    },
    /// The file ended before its announced size.
    Truncated {
        /// Announced size.
        expected: u32,
        /// Bytes actually read.
        got: u32,
    },
    /// A `.dup` shorter than its own header announces: a copy or upload cut short.
    ShorterThanHeader {
        /// The size the header announces.
        announced: u32,
        /// The file's size.
        size: u32,
    },
    /// The image's SHA-256 is not the digest the user gave with it.
    DigestMismatch,
    /// A digest must be checked before a flow that flashes as it streams, but the image
    /// can be read only once (a socket, a plain stream).
    NotRereadable,
    /// The object given as the image has no way to be read (no `readinto` or `read`).
    NotAStream,
    /// The image's URL: the server answered this HTTP status instead of the file.
    HttpStatus {
        /// The status (404, 500...).
        status: u32,
    },
    /// The image's URL: no server answered (refused, unreachable, no network), with the
    /// platform's error number.
    NoServer {
        /// The error number (errno).
        errno: u32,
    },
    /// The image's URL: the server did not say the body's length (Content-Length).
    NoLength,
    /// The image's URL: redirected too many times (or to something that is not http/https).
    Redirects,
    /// The image's URL is https, and this firmware has no TLS (`ssl`).
    NoTls,
    /// Larger than 4 GiB: no firmware file is.
    #[cfg(feature = "host")]
    TooBig,
    /// Not a regular file (a FIFO, a device, a folder): it cannot be read twice or sized.
    #[cfg(feature = "host")]
    NotRegular,
    /// A firmware package (zip, or a folder given to `ensure()`) without a `.dup` image.
    NoImageInPackage,
    /// A zip that cannot be read.
    #[cfg(feature = "host")]
    BadPackage,
}

/// An option the user gave that cannot work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionProblem {
    /// The STP block size is outside 16 ..= 8176.
    BlockSize {
        /// What was given.
        got: u32,
    },
    /// A reply timeout of 0 seconds (or more than a day).
    ReplyTimeout {
        /// What was given, in seconds.
        got: u32,
    },
    /// FFF and ON_THE_FLY were both asked for.
    BothMethods,
    /// The SHA-256 given with the image is not 64 hexadecimal digits (`--sha256`,
    /// `sha256=`; on a board the shim finds it and passes `SQN_OPEN_BAD_SHA256`).
    Sha256,
}

/// Why no serial port could be used (a computer's problem: the board's UART is always
/// there).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortProblem {
    /// The port cannot be opened for another reason.
    Unavailable,
    /// There is no such port.
    Missing,
    /// Another program has it open (exclusive access is refused).
    Busy,
    /// The user may not open it.
    Denied,
    /// No port was given and no Pycom board is connected.
    NoneFound,
    /// No port was given and several Pycom boards are connected.
    Several,
}

/// What a wait that timed out was for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Awaited {
    /// The reply to an AT command.
    Command(&'static str),
    /// Something the modem does (a restart, flashing).
    Wait(Msg),
}

/// Where STP went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StpProblem {
    /// No reply in time (after all tries).
    NoReply,
    /// Replies kept failing their checks (signature, CRC, op, sid or tid).
    BadReply,
    /// The modem refused to open the session.
    SessionRefused,
    /// The modem reported a residue larger than the block.
    BadResidue,
}

/// Everything that can go wrong, with what to tell the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// A problem with one of the user's files (found before the modem is touched).
    File {
        /// Which file.
        role: FileRole,
        /// What is wrong.
        problem: FileProblem,
    },
    /// The modem answers neither at 921600 nor at 115200.
    NoResponse,
    /// The modem stopped answering while waiting for something.
    Timeout {
        /// What was awaited.
        waiting_for: Awaited,
    },
    /// The modem answered ERROR to a command that must succeed.
    AtError {
        /// The command.
        command: &'static str,
    },
    /// The modem answered something unexpected.
    UnexpectedReply {
        /// The command.
        command: &'static str,
    },
    /// Recovery mode needs updater.elf, and none was given.
    UpdaterNeeded,
    /// Bootloader 33080 needs the bootrom package before updater.elf can load.
    BootromNeeded,
    /// FFF was asked for, but the modem is not in application mode.
    FffNeedsApplicationMode,
    /// The binary transfer failed.
    Stp {
        /// What went wrong.
        problem: StpProblem,
        /// Bytes of the file the modem had acknowledged.
        offset: u32,
    },
    /// The modem restarted in the middle of a transfer.
    RebootedDuringTransfer {
        /// Bytes the modem had acknowledged.
        offset: u32,
    },
    /// The modem reported `+SMUPGRADE: fail`.
    UpgradeFailed,
    /// No upgrade result within the time limit.
    UpgradeTimeout,
    /// Stopped by the user (Ctrl-C).
    Cancelled,
    /// The serial link failed (port closed, unplugged, or the stream raised).
    Link {
        /// The operating system's error code behind it (errno; a Windows error code), 0
        /// when there is none (the stream raised, the board's UART said nothing more).
        os: u32,
    },
    /// The image stream failed while being read.
    ImageRead,
    /// An option cannot work (found before the modem is touched).
    BadOption(OptionProblem),
    /// The port is a MicroPython prompt, not the modem: the board is not in mirror mode.
    MicroPythonPrompt,
    /// The serial link went away (USB unplugged, the device vanished).
    LinkGone,
    /// No serial port could be used (on a computer only: a board's firmware has no such
    /// error, and no code for it).
    #[cfg(feature = "host")]
    Port(PortProblem),
    /// After the update the modem did not come back in application mode.
    NotBackInApplication,
    /// After the update the modem runs another build than the image's.
    WrongBuild {
        /// The build the image brings.
        expected: u32,
        /// The build the modem reports.
        got: u32,
    },
    /// `ensure()` tried this many times already and stops (it never loops for ever).
    GaveUp {
        /// The attempts made.
        tries: u32,
    },
    /// A stream returned a count larger than the read asked for (or a negative one).
    StreamCount {
        /// True for the serial link, false for an image stream.
        link: bool,
        /// The count it returned (a negative count shows as a 32-bit two's complement).
        got: u32,
        /// The bytes asked for.
        asked: u32,
    },
}

impl Error {
    /// What the user should do about it, in one line (a sentence of the catalogue; the
    /// report may choose one by the modem's state instead).
    pub fn hint(&self) -> Msg {
        match *self {
            Error::File { problem, .. } => problem.hint(),
            Error::NoResponse => Msg::HintNoResponse,
            Error::Timeout { .. } => Msg::HintPowerCycle,
            Error::AtError { command } if command.starts_with("AT+SMSWBOOT=0") => {
                Msg::HintSwbootFfh
            }
            Error::AtError { .. } | Error::UnexpectedReply { .. } => Msg::HintAtError,
            Error::UpdaterNeeded => Msg::HintUpdaterNeeded,
            Error::BootromNeeded => Msg::HintBootromNeeded,
            Error::FffNeedsApplicationMode => Msg::HintFffNeedsApplication,
            Error::Stp { .. } | Error::RebootedDuringTransfer { .. } => Msg::HintStp,
            Error::UpgradeFailed => Msg::HintUpgradeFailed,
            Error::UpgradeTimeout => Msg::HintUpgradeTimeout,
            Error::Cancelled => Msg::HintCancelled,
            Error::Link { .. } => Msg::HintLink,
            Error::ImageRead => Msg::HintImageRead,
            Error::StreamCount { link: false, .. } => Msg::HintStreamCount,
            Error::StreamCount { link: true, .. } => Msg::HintLinkCount,
            Error::BadOption(OptionProblem::BlockSize { .. }) => Msg::HintBlockSize,
            Error::BadOption(OptionProblem::ReplyTimeout { .. }) => Msg::HintReplyTimeout,
            Error::BadOption(OptionProblem::BothMethods) => Msg::HintBothMethods,
            Error::BadOption(OptionProblem::Sha256) => Msg::HintSha256,
            Error::MicroPythonPrompt => Msg::HintMicropython,
            Error::LinkGone => Msg::HintLinkGone,
            #[cfg(feature = "host")]
            Error::Port(p) => p.msgs().1,
            Error::NotBackInApplication => Msg::HintPowerCycle,
            Error::WrongBuild { .. } => Msg::HintWrongBuild,
            Error::GaveUp { .. } => Msg::HintGaveUp,
        }
    }

    /// True for errors found before anything was sent that changes the modem.
    pub fn is_input_error(&self) -> bool {
        matches!(
            self,
            Error::File { .. }
                | Error::UpdaterNeeded
                | Error::BootromNeeded
                | Error::FffNeedsApplicationMode
                | Error::BadOption(_)
        ) || self.is_port_problem()
    }

    /// A port that could not be used (computers only).
    fn is_port_problem(&self) -> bool {
        #[cfg(feature = "host")]
        if let Error::Port(_) = self {
            return true;
        }
        false
    }
}

impl FileProblem {
    fn hint(&self) -> Msg {
        match self {
            FileProblem::Missing => Msg::HintFileMissing,
            FileProblem::Unreadable => Msg::HintFileUnreadable,
            FileProblem::TooSmall { .. } | FileProblem::Truncated { .. } => Msg::HintFileIncomplete,
            FileProblem::Html => Msg::HintFileHtml,
            FileProblem::NotDup => Msg::HintFileNotDup,
            FileProblem::NotElf => Msg::HintFileNotElf,
            FileProblem::ElfAsFirmware | FileProblem::DupAsUpdater => Msg::HintFileSwapped,
            FileProblem::DiffWithUpdater => Msg::HintFileDiffWithUpdater,
            FileProblem::DiffFromMismatch { .. } => Msg::HintFileDiffMismatch,
            FileProblem::DiffNeedsFullImage => Msg::HintFileDiffNeedsFull,
            FileProblem::TooBigForFff { .. } => Msg::HintFileTooBigForFff,
            FileProblem::ShorterThanHeader { .. } => Msg::HintFileShorterThanHeader,
            FileProblem::DigestMismatch => Msg::HintFileDigest,
            FileProblem::NotRereadable => Msg::HintFileNotRereadable,
            FileProblem::NotAStream => Msg::HintFileNotAStream,
            FileProblem::HttpStatus { .. } => Msg::HintFileHttpStatus,
            FileProblem::NoServer { .. } => Msg::HintFileNoServer,
            FileProblem::NoLength => Msg::HintFileNoLength,
            FileProblem::Redirects => Msg::HintFileRedirects,
            FileProblem::NoTls => Msg::HintFileNoTls,
            #[cfg(feature = "host")]
            FileProblem::TooBig => Msg::HintFileTooBig,
            #[cfg(feature = "host")]
            FileProblem::NotRegular => Msg::HintFileNotRegular,
            FileProblem::NoImageInPackage => Msg::HintFileNoImageInPackage,
            #[cfg(feature = "host")]
            FileProblem::BadPackage => Msg::HintFileBadPackage,
        }
    }
}

impl FileProblem {
    /// Writes what is wrong, e.g. `ended after 100 of 300 bytes`.
    pub fn write_message(&self, out: &mut dyn Sink) {
        let (m, a, b) = match *self {
            FileProblem::Missing => (Msg::FileMissing, 0, 0),
            FileProblem::Unreadable => (Msg::FileUnreadable, 0, 0),
            FileProblem::TooSmall { size } => (Msg::FileTooSmall, size, 0),
            FileProblem::Html => (Msg::FileHtml, 0, 0),
            FileProblem::NotDup => (Msg::FileNotDup, 0, 0),
            FileProblem::NotElf => (Msg::FileNotElf, 0, 0),
            FileProblem::ElfAsFirmware => (Msg::FileElfAsFirmware, 0, 0),
            FileProblem::DupAsUpdater => (Msg::FileDupAsUpdater, 0, 0),
            FileProblem::DiffWithUpdater => (Msg::FileDiffWithUpdater, 0, 0),
            FileProblem::DiffFromMismatch { from, modem } => (Msg::FileDiffMismatch, from, modem),
            FileProblem::DiffNeedsFullImage => (Msg::FileDiffNeedsFull, 0, 0),
            FileProblem::TooBigForFff { size } => (Msg::FileTooBigForFff, size, 0),
            FileProblem::Truncated { expected, got } => (Msg::FileTruncated, got, expected),
            FileProblem::ShorterThanHeader { announced, size } => {
                (Msg::FileShorterThanHeader, size, announced)
            }
            FileProblem::DigestMismatch => (Msg::FileDigest, 0, 0),
            FileProblem::NotRereadable => (Msg::FileNotRereadable, 0, 0),
            FileProblem::NotAStream => (Msg::FileNotAStream, 0, 0),
            FileProblem::HttpStatus { status } => (Msg::FileHttpStatus, status, 0),
            FileProblem::NoServer { errno } => (Msg::FileNoServer, errno, 0),
            FileProblem::NoLength => (Msg::FileNoLength, 0, 0),
            FileProblem::Redirects => (Msg::FileRedirects, 0, 0),
            FileProblem::NoTls => (Msg::FileNoTls, 0, 0),
            #[cfg(feature = "host")]
            FileProblem::TooBig => (Msg::FileTooBig, 0, 0),
            #[cfg(feature = "host")]
            FileProblem::NotRegular => (Msg::FileNotRegular, 0, 0),
            FileProblem::NoImageInPackage => (Msg::FileNoImageInPackage, 0, 0),
            #[cfg(feature = "host")]
            FileProblem::BadPackage => (Msg::FileBadPackage, 0, 0),
        };
        msg::write(out, m, &[Arg::Num(a), Arg::Num(b)]);
    }
}

impl PortProblem {
    /// The error and hint sentences.
    #[cfg(feature = "host")]
    fn msgs(self) -> (Msg, Msg) {
        match self {
            PortProblem::Unavailable => (Msg::ErrPort, Msg::HintPort),
            PortProblem::Missing => (Msg::ErrPortMissing, Msg::HintPortMissing),
            PortProblem::Busy => (Msg::ErrPortBusy, Msg::HintPortBusy),
            PortProblem::Denied => (Msg::ErrPortDenied, Msg::HintPortDenied),
            PortProblem::NoneFound => (Msg::ErrNoBoard, Msg::HintNoBoard),
            PortProblem::Several => (Msg::ErrSeveralBoards, Msg::HintSeveralBoards),
        }
    }
}

impl Error {
    /// Writes the message users see after `error: `.
    pub fn write_message(&self, out: &mut dyn Sink) {
        let num = Arg::Num;
        let (m, a, b) = match *self {
            Error::File { role, problem } => {
                out.put(role.label());
                out.put(": ");
                problem.write_message(out);
                return;
            }
            Error::Timeout { waiting_for } => (
                Msg::ErrTimeout,
                match waiting_for {
                    Awaited::Command(c) => Arg::Text(c.as_bytes()),
                    Awaited::Wait(w) => Arg::Msg(w),
                },
                num(0),
            ),
            Error::NoResponse => (Msg::ErrNoResponse, num(0), num(0)),
            Error::AtError { command } => (Msg::ErrAtError, Arg::Text(command.as_bytes()), num(0)),
            Error::UnexpectedReply { command } => {
                (Msg::ErrUnexpected, Arg::Text(command.as_bytes()), num(0))
            }
            Error::UpdaterNeeded => (Msg::InfoRecovery, num(0), num(0)),
            Error::BootromNeeded => (Msg::ErrBootromNeeded, num(0), num(0)),
            Error::FffNeedsApplicationMode => (Msg::ErrFffNeedsApplication, num(0), num(0)),
            Error::Stp { problem, offset } => (
                Msg::ErrStp,
                num(offset),
                Arg::Msg(match problem {
                    StpProblem::NoReply => Msg::StpNoReply,
                    StpProblem::BadReply => Msg::StpBadReply,
                    StpProblem::SessionRefused => Msg::StpRefused,
                    StpProblem::BadResidue => Msg::StpBadResidue,
                }),
            ),
            Error::RebootedDuringTransfer { offset } => (Msg::ErrRebooted, num(offset), num(0)),
            Error::UpgradeFailed => (Msg::ErrUpgradeFailed, num(0), num(0)),
            Error::UpgradeTimeout => (Msg::ErrUpgradeTimeout, num(0), num(0)),
            Error::Cancelled => (Msg::ErrCancelled, num(0), num(0)),
            Error::Link { os: 0 } => (Msg::ErrLink, num(0), num(0)),
            Error::Link { os } => (Msg::ErrLinkOs, num(os), num(0)),
            Error::ImageRead => (Msg::ErrImageRead, num(0), num(0)),
            Error::BadOption(OptionProblem::BlockSize { got }) => {
                (Msg::ErrBlockSize, num(got), num(0))
            }
            Error::BadOption(OptionProblem::ReplyTimeout { got }) => {
                (Msg::ErrReplyTimeout, num(got), num(0))
            }
            Error::BadOption(OptionProblem::BothMethods) => (Msg::ErrBothMethods, num(0), num(0)),
            Error::BadOption(OptionProblem::Sha256) => (Msg::ErrSha256, num(0), num(0)),
            Error::MicroPythonPrompt => (Msg::ErrMicropython, num(0), num(0)),
            Error::LinkGone => (Msg::ErrLinkGone, num(0), num(0)),
            #[cfg(feature = "host")]
            Error::Port(p) => (p.msgs().0, num(0), num(0)),
            Error::NotBackInApplication => (Msg::ErrNotBack, num(0), num(0)),
            Error::WrongBuild { expected, got } => (Msg::ErrWrongBuild, num(got), num(expected)),
            Error::GaveUp { tries } => (Msg::ErrGaveUp, num(tries), num(0)),
            Error::StreamCount { link, got, asked } => (
                if link {
                    Msg::ErrLinkCount
                } else {
                    Msg::ErrStreamCount
                },
                Arg::Count(got),
                num(asked),
            ),
        };
        msg::write(out, m, &[a, b]);
    }
}

#[cfg(feature = "std")]
impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let mut s = std::string::String::new();
        self.write_message(&mut s);
        f.write_str(&s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::Text;

    fn message(e: Error) -> Text<200> {
        let mut t = Text::new();
        e.write_message(&mut t);
        t
    }

    #[test]
    fn messages_with_numbers() {
        assert_eq!(
            message(Error::StreamCount {
                link: false,
                got: 0u32.wrapping_sub(5),
                asked: 2016
            })
            .as_bytes(),
            b"the stream returned -5 bytes for a read of 2016"
        );
        assert_eq!(
            message(Error::File {
                role: FileRole::Firmware,
                problem: FileProblem::Truncated {
                    expected: 300,
                    got: 100
                }
            })
            .as_bytes(),
            b"firmware image: ended after 100 of 300 bytes"
        );
        assert_eq!(
            message(Error::Stp {
                problem: StpProblem::NoReply,
                offset: 4032
            })
            .as_bytes(),
            b"transfer failed after 4032 bytes: no reply from the modem"
        );
        assert_eq!(
            message(Error::Link { os: 22 }).as_bytes(),
            b"the serial link to the modem failed (OS error 22)"
        );
        assert_eq!(
            message(Error::Link { os: 0 }).as_bytes(),
            b"the serial link to the modem failed"
        );
    }
}
