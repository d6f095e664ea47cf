//! The hardware boundary: the small traits the engine needs from a platform.
//!
//! A platform (the host CLI, the MicroPython module, a test) implements [`Link`],
//! [`Clock`], [`Cancel`] and [`Events`] and hands them to [`crate::Updater`] bundled as
//! [`Parts`], or implements the combined [`Hal`] on one type. Images are [`ImageSource`]s.
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
    /// A long wait goes on (sent every [`NOTE_EVERY_MS`] of silence): a line saying what
    /// the updater waits for and since when.
    Waiting {
        /// What it waits for (a `wait_*` sentence).
        what: Msg,
        /// Seconds since the wait began.
        seconds: u32,
    },
    /// The engine is alive (at least every [`ALIVE_EVERY_MS`], in every wait and
    /// transfer): a board's `main.py` feeds its watchdog here.
    Alive,
}

/// The longest silence a user sees during any wait.
pub const NOTE_EVERY_MS: u32 = 10_000;

/// The longest time between two [`Event::Alive`] (a watchdog of 1 s is fed four times as
/// often: no wait, read or sleep of the engine lasts longer than this).
pub const ALIVE_EVERY_MS: u32 = 250;

/// The platform as the engine uses it: whenever [`NOTE_EVERY_MS`] pass without a line
/// for the user (a message, a note, the progress bar moving), in any wait at any depth (a
/// reply, a reset, flashing, a sleep), it says what it waits for ([`Event::Waiting`]).
/// One place for the rule, so that no wait can forget it. It also holds Ctrl-C back
/// where the engine must not stop.
pub struct Watched<H> {
    /// The platform.
    pub inner: H,
    /// Ctrl-C is held back (read-only detection after a failure, a command after which
    /// the modem must be brought back): [`Hal::cancelled`] says false and sleeps last
    /// their whole time.
    pub hold_cancel: bool,
    last_line: u32,
    silent_since: u32,
    last_alive: u32,
    what: Msg,
}

impl<H: Hal> Watched<H> {
    /// Watches `inner`; the silence starts at [`Watched::restart`].
    pub fn new(inner: H) -> Watched<H> {
        Watched {
            inner,
            hold_cancel: false,
            last_line: 0,
            silent_since: 0,
            last_alive: 0,
            what: Msg::WaitReply,
        }
    }

    /// An operation starts: the silence is counted from now.
    pub fn restart(&mut self) {
        let now = self.inner.now_ms();
        self.last_line = now;
        self.silent_since = now;
        self.last_alive = now;
        self.what = Msg::WaitReply;
    }

    /// Says what the engine waits for from now on (a `wait_*` sentence), until the next
    /// message.
    pub fn waiting_for(&mut self, what: Msg) {
        self.what = what;
    }

    /// Milliseconds until the next note or sign of life is due.
    fn until_note(&mut self) -> u32 {
        let now = self.inner.now_ms();
        let quiet = now.wrapping_sub(self.last_line);
        let alive = now.wrapping_sub(self.last_alive);
        NOTE_EVERY_MS
            .saturating_sub(quiet)
            .min(ALIVE_EVERY_MS.saturating_sub(alive))
            .max(1)
    }

    #[inline(never)]
    fn beat(&mut self) {
        let now = self.inner.now_ms();
        if now.wrapping_sub(self.last_alive) >= ALIVE_EVERY_MS {
            self.last_alive = now;
            self.inner.event(&Event::Alive);
        }
        if now.wrapping_sub(self.last_line) >= NOTE_EVERY_MS {
            self.last_line = now;
            self.inner.event(&Event::Waiting {
                what: self.what,
                seconds: now.wrapping_sub(self.silent_since) / 1000,
            });
        }
    }
}

impl<H: Hal> Hal for Watched<H> {
    fn write_all(&mut self, data: &[u8]) -> Result<(), Error> {
        self.inner.write_all(data)
    }

    /// A read may end early, with nothing, when a note is due: every caller waits up to
    /// its own deadline and reads again.
    fn read(&mut self, buf: &mut [u8], timeout_ms: u32) -> Result<usize, Error> {
        let chunk = timeout_ms.min(self.until_note());
        let n = self.inner.read(buf, chunk)?;
        self.beat();
        Ok(n)
    }

    fn set_baud(&mut self, baud: u32) -> Result<(), Error> {
        self.inner.set_baud(baud)
    }

    fn discard_input(&mut self) -> Result<(), Error> {
        self.inner.discard_input()
    }

    fn now_ms(&mut self) -> u32 {
        self.inner.now_ms()
    }

    fn sleep_ms(&mut self, ms: u32) {
        let start = self.inner.now_ms();
        loop {
            let slept = self.inner.now_ms().wrapping_sub(start);
            if slept >= ms || !self.hold_cancel && self.inner.cancelled() {
                return;
            }
            let step = (ms - slept).min(self.until_note());
            self.inner.sleep_ms(step);
            self.beat();
        }
    }

    fn cancelled(&mut self) -> bool {
        !self.hold_cancel && self.inner.cancelled()
    }

    fn event(&mut self, event: &Event<'_>) {
        let now = self.inner.now_ms();
        match event {
            Event::Message(_) => {
                self.what = Msg::WaitReply;
                self.last_line = now;
                self.silent_since = now;
            }
            Event::TransferStart { .. }
            | Event::Progress { .. }
            | Event::TransferEnd
            | Event::Waiting { .. } => {
                self.last_line = now;
                self.silent_since = now;
            }
            _ => {}
        }
        self.inner.event(event)
    }
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

/// Everything the engine needs from a platform, in one trait.
pub trait Hal {
    /// [`Link::write_all`].
    fn write_all(&mut self, data: &[u8]) -> Result<(), Error>;
    /// [`Link::read`].
    fn read(&mut self, buf: &mut [u8], timeout_ms: u32) -> Result<usize, Error>;
    /// [`Link::set_baud`].
    fn set_baud(&mut self, baud: u32) -> Result<(), Error>;
    /// [`Link::discard_input`].
    fn discard_input(&mut self) -> Result<(), Error>;
    /// [`Clock::now_ms`].
    fn now_ms(&mut self) -> u32;
    /// [`Clock::sleep_ms`].
    fn sleep_ms(&mut self, ms: u32);
    /// [`Cancel::cancelled`].
    fn cancelled(&mut self) -> bool;
    /// [`Events::event`].
    fn event(&mut self, event: &Event<'_>);
}

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

impl<L: Link, C: Clock, E: Events, X: Cancel> Hal for Parts<L, C, E, X> {
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
    fn now_ms(&mut self) -> u32 {
        self.clock.now_ms()
    }
    fn sleep_ms(&mut self, ms: u32) {
        self.clock.sleep_ms(ms)
    }
    fn cancelled(&mut self) -> bool {
        self.cancel.cancelled()
    }
    fn event(&mut self, event: &Event<'_>) {
        self.events.event(event)
    }
}

impl<T: Hal + ?Sized> Hal for &mut T {
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
    fn now_ms(&mut self) -> u32 {
        (**self).now_ms()
    }
    fn sleep_ms(&mut self, ms: u32) {
        (**self).sleep_ms(ms)
    }
    fn cancelled(&mut self) -> bool {
        (**self).cancelled()
    }
    fn event(&mut self, event: &Event<'_>) {
        (**self).event(event)
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

/// A point in time `limit_ms` after `start`, on the wrapping millisecond clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    start: u32,
    limit: u32,
}

impl Deadline {
    /// `limit_ms` from now.
    pub fn after<H: Hal + ?Sized>(hal: &mut H, limit_ms: u32) -> Deadline {
        Deadline {
            start: hal.now_ms(),
            limit: limit_ms,
        }
    }

    /// Milliseconds left at `now` (0 once passed).
    pub fn remaining(&self, now: u32) -> u32 {
        self.limit.saturating_sub(now.wrapping_sub(self.start))
    }

    /// True once passed.
    pub fn passed(&self, now: u32) -> bool {
        self.remaining(now) == 0
    }
}
