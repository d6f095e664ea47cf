//! The hardware boundary: the small traits the engine needs from a platform.
//!
//! A platform (the host CLI, the MicroPython module, a test) implements these and hands
//! them to [`crate::Updater`]. Nothing else in the engine touches the outside world.

use crate::error::Error;

/// The serial link to the modem (a UART on the board, a tty or pty on a computer).
pub trait Link {
    /// Writes all of `data`.
    fn write_all(&mut self, data: &[u8]) -> Result<(), Error>;
    /// Reads what is available into `buf`, waiting at most `timeout_ms` for the first byte.
    /// Returns the number of bytes read; 0 means nothing came in time.
    fn read(&mut self, buf: &mut [u8], timeout_ms: u32) -> Result<usize, Error>;
    /// Changes the local baud rate.
    fn set_baud(&mut self, baud: u32) -> Result<(), Error>;
    /// Throws away whatever was received and not read yet.
    fn discard_input(&mut self) -> Result<(), Error>;
}

/// A monotonic millisecond clock that can sleep.
pub trait Clock {
    /// Milliseconds since an arbitrary start; never goes back.
    fn now_ms(&mut self) -> u64;
    /// Sleeps for `ms` milliseconds.
    fn sleep_ms(&mut self, ms: u32);
}

/// A firmware file or stream, read once from start to end.
pub trait ImageSource {
    /// Total size in bytes, known before the transfer starts.
    fn size(&self) -> u32;
    /// Reads the next bytes into `buf`; 0 means the end.
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Error>;
    /// The name the user gave (a path), used to recognise upgdiff files and in messages.
    fn name(&self) -> &str {
        ""
    }
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
    /// A line for the user, as the field updater printed it.
    Message(&'a str),
    /// A detail shown only with `debug` (commands and replies).
    Debug(&'a str),
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

/// The platform, borrowed for one operation.
pub struct Hal<'a> {
    /// The serial link.
    pub link: &'a mut dyn Link,
    /// The clock.
    pub clock: &'a mut dyn Clock,
    /// The event sink.
    pub events: &'a mut dyn Events,
    /// The cancel check.
    pub cancel: &'a mut dyn Cancel,
}
