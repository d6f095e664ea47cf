//! The hardware boundary: the small traits the engine needs from a platform.
//!
//! A platform (the host CLI, the MicroPython module, a test) implements [`Link`],
//! [`Clock`], [`Cancel`] and [`Events`], on one type or as [`Parts`]; either is a [`Hal`]
//! (a supertrait with a blanket implementation), which [`crate::Updater`] takes. Images
//! are [`ImageSource`]s. What the engine does with the platform (its waits, notes and
//! signs of life: [`crate::watch`]) is not here.
//! The engine is generic over these (no trait objects): on the board there is one
//! implementation of each, the calls are direct and the stack of every call chain is
//! known from the code alone.

use crate::error::Error;
use crate::msg::Msg;

/// The serial link to the modem (a UART on the board, a tty or pty on a computer).
pub trait Link {
    /// Writes all of `data`.
    fn write_all(&mut self, data: &[u8]) -> Result<(), Error>;
    /// Reads what is available into `buf`, waiting at most `timeout_ms` for the first byte.
    /// Returns the number of bytes read; 0 means nothing came (possibly before the timeout:
    /// the engine reads again until its own deadline). The engine checks that the count is
    /// not larger than `buf`.
    fn read(&mut self, buf: &mut [u8], timeout_ms: u32) -> Result<usize, Error>;
    /// Changes the local baud rate.
    fn set_baud(&mut self, baud: u32) -> Result<(), Error>;
    /// Throws away whatever was received and not read yet.
    fn discard_input(&mut self) -> Result<(), Error>;
}

/// A millisecond clock that can sleep. It wraps around after 2^32 ms: the engine only
/// ever subtracts two readings.
pub trait Clock {
    /// Milliseconds since an arbitrary start (wrapping).
    fn now_ms(&mut self) -> u32;
    /// Sleeps for `ms` milliseconds (a cancel request may end it early).
    fn sleep_ms(&mut self, ms: u32);
}

/// A firmware file or stream, read once from start to end.
pub trait ImageSource {
    /// Total size in bytes, known before the transfer starts.
    fn size(&self) -> u32;
    /// Reads the next bytes into `buf`; 0 means the end. The engine checks that the count
    /// is not larger than `buf` (a stream object on the board may report anything).
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Error>;
    /// The name the user gave (a path, UTF-8), used to recognise upgdiff files.
    fn name(&self) -> &[u8] {
        b""
    }
    /// Confirms that the image is the one the user named by a digest (a SHA-256 given with
    /// it), at the moment the engine chooses (see [`Confirm`]); a source with no digest to
    /// check has nothing to do. The platform only computes and compares: a difference is
    /// [`crate::error::FileProblem::DigestMismatch`], a source that cannot be read twice
    /// when asked [`Confirm::Ahead`] is [`crate::error::FileProblem::NotRereadable`].
    fn confirm(&mut self, how: Confirm) -> Result<(), Error> {
        let _ = how;
        Ok(())
    }
}

/// When the engine asks an image source to confirm its digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirm {
    /// Before anything changes the modem, for a flow that flashes as it streams
    /// (ON_THE_FLY and every resume or recovery flow): read the rest of the image once,
    /// check the whole, then go back to where the reading was (a file seeks, a URL asks
    /// again), so that the transfer reads it from there.
    Ahead,
    /// After the modem received the whole image and before it is committed (FFF, before
    /// `AT+SMUPGRADE`): check what was read.
    Received,
}

/// Lets the user stop a long operation (Ctrl-C).
pub trait Cancel {
    /// True when the user asked to stop.
    fn cancelled(&mut self) -> bool;
}

/// What the engine reports while it works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event<'a> {
    /// A new stage of the work starts.
    Stage(Stage),
    /// A line for the user, as the field updater printed it (UTF-8, ASCII in practice).
    Message(&'a [u8]),
    /// A detail shown only with `debug` (commands and replies).
    Debug(&'a [u8]),
    /// A transfer starts: the file kind and its size; progress events follow.
    TransferStart {
        /// What is sent.
        what: Payload,
        /// Total bytes.
        total: u32,
    },
    /// Bytes of the current transfer acknowledged by the modem so far.
    Progress {
        /// Bytes done.
        done: u32,
        /// Total bytes.
        total: u32,
    },
    /// The current transfer ended (all bytes acknowledged).
    TransferEnd,
    /// One more wait step while the modem works (the familiar dots).
    Tick,
    /// A long wait goes on (sent every [`crate::watch::NOTE_EVERY_MS`] of silence): a line saying what
    /// the updater waits for and since when.
    Waiting {
        /// What it waits for (a `wait_*` sentence).
        what: Msg,
        /// Seconds since the wait began.
        seconds: u32,
    },
    /// The engine is alive (at least every [`crate::watch::ALIVE_EVERY_MS`], in every wait and
    /// transfer): a board's `main.py` feeds its watchdog here.
    Alive,
}

/// The kind of file a transfer carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Payload {
    /// The firmware image (`.dup`).
    Firmware,
    /// `updater.elf`.
    Updater,
    /// The bootrom package.
    Bootrom,
}

/// The stages of an update, in the order they can happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Checking the files given.
    CheckFiles,
    /// Finding the modem's state.
    Detect,
    /// Preparing the modem (AT setup, radio off).
    Prepare,
    /// Switching the modem to upgrade mode.
    SwitchToUpgrade,
    /// Flashing the bootrom package.
    Bootrom,
    /// Loading updater.elf in recovery mode.
    LoadUpdater,
    /// Sending the firmware image.
    Transfer,
    /// The modem flashes the image and restarts.
    Flashing,
    /// Back to application mode.
    Finish,
}

/// Receives events from the engine.
pub trait Events {
    /// Called for every event.
    fn event(&mut self, event: &Event<'_>);
}

/// Everything the engine needs from a platform: a [`Link`], a [`Clock`], a [`Cancel`]
/// check and an [`Events`] sink. Nothing to implement: any type with the four is a
/// `Hal` (as in `embedded-io`, the capabilities are the small traits and this one only
/// names their sum), be it one type with the four (the MicroPython module's) or
/// [`Parts`].
pub trait Hal: Link + Clock + Cancel + Events {}

impl<T: Link + Clock + Cancel + Events + ?Sized> Hal for T {}

/// A platform made of four parts (they may be borrowed: `&mut T` implements each trait).
pub struct Parts<L, C, E, X> {
    /// The serial link.
    pub link: L,
    /// The clock.
    pub clock: C,
    /// The event sink.
    pub events: E,
    /// The cancel check.
    pub cancel: X,
}

impl<L: Link, C, E, X> Link for Parts<L, C, E, X> {
    fn write_all(&mut self, data: &[u8]) -> Result<(), Error> {
        self.link.write_all(data)
    }
    fn read(&mut self, buf: &mut [u8], timeout_ms: u32) -> Result<usize, Error> {
        self.link.read(buf, timeout_ms)
    }
    fn set_baud(&mut self, baud: u32) -> Result<(), Error> {
        self.link.set_baud(baud)
    }
    fn discard_input(&mut self) -> Result<(), Error> {
        self.link.discard_input()
    }
}

impl<L, C: Clock, E, X> Clock for Parts<L, C, E, X> {
    fn now_ms(&mut self) -> u32 {
        self.clock.now_ms()
    }
    fn sleep_ms(&mut self, ms: u32) {
        self.clock.sleep_ms(ms)
    }
}

impl<L, C, E: Events, X> Events for Parts<L, C, E, X> {
    fn event(&mut self, event: &Event<'_>) {
        self.events.event(event)
    }
}

impl<L, C, E, X: Cancel> Cancel for Parts<L, C, E, X> {
    fn cancelled(&mut self) -> bool {
        self.cancel.cancelled()
    }
}

impl<T: Link + ?Sized> Link for &mut T {
    fn write_all(&mut self, data: &[u8]) -> Result<(), Error> {
        (**self).write_all(data)
    }
    fn read(&mut self, buf: &mut [u8], timeout_ms: u32) -> Result<usize, Error> {
        (**self).read(buf, timeout_ms)
    }
    fn set_baud(&mut self, baud: u32) -> Result<(), Error> {
        (**self).set_baud(baud)
    }
    fn discard_input(&mut self) -> Result<(), Error> {
        (**self).discard_input()
    }
}

impl<T: Clock + ?Sized> Clock for &mut T {
    fn now_ms(&mut self) -> u32 {
        (**self).now_ms()
    }
    fn sleep_ms(&mut self, ms: u32) {
        (**self).sleep_ms(ms)
    }
}

impl<T: Events + ?Sized> Events for &mut T {
    fn event(&mut self, event: &Event<'_>) {
        (**self).event(event)
    }
}

impl<T: Cancel + ?Sized> Cancel for &mut T {
    fn cancelled(&mut self) -> bool {
        (**self).cancelled()
    }
}

impl<T: ImageSource + ?Sized> ImageSource for &mut T {
    fn size(&self) -> u32 {
        (**self).size()
    }
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        (**self).read(buf)
    }
    fn name(&self) -> &[u8] {
        (**self).name()
    }
    fn confirm(&mut self, how: Confirm) -> Result<(), Error> {
        (**self).confirm(how)
    }
}
