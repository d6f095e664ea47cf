//! The one error type of the engine: every failure has a message and a hint for the user.
//!
//! Messages are written into a [`Sink`] (no `core::fmt` on the board); on a computer
//! `Display` renders the same text.

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
        waiting_for: &'static str,
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
    Link,
    /// The image stream failed while being read.
    ImageRead,
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
    /// What the user should do about it, in one line.
    pub fn hint(&self) -> &'static str {
        match self {
            Error::File { problem, .. } => problem.hint(),
            Error::NoResponse => {
                "unplug the board's power (the reset button is not enough), plug it in, and try again; on a board also check pycom.lte_modem_en_on_boot() and that nothing else uses the modem UART"
            }
            Error::Timeout { .. } => {
                "unplug the board's power, plug it in, then run the same command again: the state line tells which files it needs"
            }
            Error::AtError { command } if command.starts_with("AT+SMSWBOOT=0") => {
                "the bootloader did not accept the switch to recovery: unplug the power, then try an upgdiff_33080-to-*.dup without updater.elf"
            }
            Error::AtError { .. } | Error::UnexpectedReply { .. } => {
                "unplug the board's power (not just reset), plug it in and run the same command again"
            }
            Error::UpdaterNeeded => "give updater.elf as well: run(firmware.dup, updater.elf)",
            Error::BootromNeeded => {
                "give the bootrom package from Sequans' recovery kit (--bootrom FILE), or update with an upgdiff_33080-to-*.dup without updater.elf"
            }
            Error::FffNeedsApplicationMode => "leave out the FFF option: ON_THE_FLY is used in this mode",
            Error::Stp { .. } | Error::RebootedDuringTransfer { .. } => {
                "the modem keeps what it has in upgrade mode: run the same update again to send the image from the start"
            }
            Error::UpgradeFailed => {
                "check the image is for this modem (CAT-M1 LR5.x or NB-IoT LR6.x, upgdiff 'from' build), then run the update again with the full image"
            }
            Error::UpgradeTimeout => {
                "wait a few more minutes, then unplug the power, plug it in and check the state before running again"
            }
            Error::Cancelled => "run the same command again to continue",
            Error::Link => "check the cable and that no other program (a REPL terminal, Pymakr) has the port open",
            Error::ImageRead => "check the file or stream can be read to its end (SD card mounted, full download)",
            Error::StreamCount { link: false, .. } => "the stream object's readinto() must return how many bytes it put in the buffer (at most its length), or 0 at the end",
            Error::StreamCount { link: true, .. } => "the serial object's readinto() must return at most the buffer's length: check the UART driver",
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
        )
    }
}

impl FileProblem {
    fn hint(&self) -> &'static str {
        match self {
            FileProblem::Missing => "check the path; on a board mount the SD card (os.mount(SD(), '/sd')) and put the files in its root folder",
            FileProblem::Unreadable => "check the file's permissions, or copy it again",
            FileProblem::TooSmall { .. } | FileProblem::Truncated { .. } => {
                "the copy is incomplete: download or upload the file again and compare its size with the original"
            }
            FileProblem::Html => "download the file itself, not the page that links to it",
            FileProblem::NotDup => "use the .dup file from the firmware package (CATM1-*.dup, NB1-*.dup or upgdiff_*.dup)",
            FileProblem::NotElf => "use updater.elf from the same firmware package",
            FileProblem::ElfAsFirmware | FileProblem::DupAsUpdater => {
                "swap the two files: the .dup comes first, updater.elf second"
            }
            FileProblem::DiffWithUpdater => {
                "run the upgdiff without updater.elf, or use the full image (CATM1-*.dup / NB1-*.dup) with updater.elf"
            }
            FileProblem::DiffFromMismatch { .. } => {
                "use the upgdiff whose first number is the modem's build, or the full image"
            }
            FileProblem::DiffNeedsFullImage => "use the full image (CATM1-*.dup or NB1-*.dup)",
            FileProblem::TooBigForFff { .. } => "leave out the FFF option: files over 4 MiB go ON_THE_FLY",
        }
    }
}

impl FileProblem {
    /// Writes what is wrong, e.g. `ended after 100 of 300 bytes`.
    pub fn write_message<S: Sink + ?Sized>(&self, out: &mut S) {
        match *self {
            FileProblem::Missing => out.put("file not found"),
            FileProblem::Unreadable => out.put("cannot be read"),
            FileProblem::TooSmall { size } => {
                out.put("only ");
                out.put_u32(size);
                out.put(" bytes: too small to be firmware");
            }
            FileProblem::Html => out.put("looks like a web page (HTML), not the file"),
            FileProblem::NotDup => {
                out.put("is not a .dup firmware image (it does not start with UPGR)")
            }
            FileProblem::NotElf => out.put("is not an ELF file"),
            FileProblem::ElfAsFirmware => out.put("is updater.elf, given where the .dup goes"),
            FileProblem::DupAsUpdater => out.put("is a .dup image, given where updater.elf goes"),
            FileProblem::DiffWithUpdater => {
                out.put("is an upgdiff, which is never used with updater.elf")
            }
            FileProblem::DiffFromMismatch { from, modem } => {
                out.put("is an upgdiff from build ");
                out.put_u32(from);
                out.put(", but the modem runs build ");
                out.put_u32(modem);
            }
            FileProblem::DiffNeedsFullImage => {
                out.put("is an upgdiff, but the modem's mode needs the full image")
            }
            FileProblem::TooBigForFff { size } => {
                out.put("is ");
                out.put_u32(size);
                out.put(" bytes: too big for FFF (4 MiB at most)");
            }
            FileProblem::Truncated { expected, got } => {
                out.put("ended after ");
                out.put_u32(got);
                out.put(" of ");
                out.put_u32(expected);
                out.put(" bytes");
            }
        }
    }
}

impl Error {
    /// Writes the message users see after `error: `.
    pub fn write_message<S: Sink + ?Sized>(&self, out: &mut S) {
        match *self {
            Error::File { role, problem } => {
                out.put(role.label());
                out.put(": ");
                problem.write_message(out);
            }
            Error::NoResponse => out.put("Cannot determine modem state! The modem does not answer at 921600 or 115200 baud"),
            Error::Timeout { waiting_for } => {
                out.put("Timeout waiting for modem to respond! (");
                out.put(waiting_for);
                out.put(")");
            }
            Error::AtError { command } => {
                out.put("Received ERROR from ");
                out.put(command);
                out.put("! Aborting!");
            }
            Error::UnexpectedReply { command } => {
                out.put("unexpected reply to ");
                out.put(command);
            }
            Error::UpdaterNeeded => out.put("Your modem is in recovery mode! Use firmware.dup and updater.elf to flash new firmware."),
            Error::BootromNeeded => out.put("Unable to upgrade bootrom. The modem has the oldest bootloader (33080): recovery with updater.elf first needs the bootrom package"),
            Error::FffNeedsApplicationMode => out.put("FFF needs the modem in application mode"),
            Error::Stp { problem, offset } => {
                out.put("transfer failed after ");
                out.put_u32(offset);
                out.put(" bytes: ");
                out.put(match problem {
                    StpProblem::NoReply => "no reply from the modem",
                    StpProblem::BadReply => "the modem's replies kept failing their checks",
                    StpProblem::SessionRefused => "the modem refused the session",
                    StpProblem::BadResidue => "the modem reported an impossible residue",
                });
            }
            Error::RebootedDuringTransfer { offset } => {
                out.put("the modem restarted during the transfer, after ");
                out.put_u32(offset);
                out.put(" bytes");
            }
            Error::UpgradeFailed => out.put("the modem reports the upgrade failed (+SMUPGRADE: fail)"),
            Error::UpgradeTimeout => out.put("no upgrade result from the modem within 5 minutes"),
            Error::Cancelled => out.put("stopped by the user"),
            Error::Link => out.put("the serial link to the modem failed"),
            Error::ImageRead => out.put("the image could not be read"),
            Error::StreamCount { link, got, asked } => {
                out.put(if link { "the serial link returned " } else { "the stream returned " });
                out.put_count(got);
                out.put(" bytes for a read of ");
                out.put_u32(asked);
            }
        }
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
            .as_str(),
            "the stream returned -5 bytes for a read of 2016"
        );
        assert_eq!(
            message(Error::File {
                role: FileRole::Firmware,
                problem: FileProblem::Truncated {
                    expected: 300,
                    got: 100
                }
            })
            .as_str(),
            "firmware image: ended after 100 of 300 bytes"
        );
        assert_eq!(
            message(Error::Stp {
                problem: StpProblem::NoReply,
                offset: 4032
            })
            .as_str(),
            "transfer failed after 4032 bytes: no reply from the modem"
        );
    }
}
