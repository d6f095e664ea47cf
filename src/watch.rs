//! The engine's side of the platform: how it waits. [`Watched`] wraps the platform so
//! that no wait, read or sleep, at any depth, goes without a note for the user every
//! [`NOTE_EVERY_MS`] and a sign of life every [`ALIVE_EVERY_MS`], and holds Ctrl-C back
//! where the engine must not stop; [`Deadline`] is a point on the wrapping clock. Policy,
//! not platform: a platform implements [`crate::hal`]'s traits and never sees these.

use crate::error::Error;
use crate::hal::{Cancel, Clock, Event, Events, Hal, Link};
use crate::msg::Msg;

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
    /// the modem must be brought back): [`Cancel::cancelled`] says false and sleeps last
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

impl<H: Hal> Link for Watched<H> {
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
}

impl<H: Hal> Clock for Watched<H> {
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
}

impl<H: Hal> Cancel for Watched<H> {
    fn cancelled(&mut self) -> bool {
        !self.hold_cancel && self.inner.cancelled()
    }
}

impl<H: Hal> Events for Watched<H> {
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

/// A point in time `limit_ms` after `start`, on the wrapping millisecond clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    start: u32,
    limit: u32,
}

impl Deadline {
    /// `limit_ms` from now.
    pub fn after<C: Clock + ?Sized>(clock: &mut C, limit_ms: u32) -> Deadline {
        Deadline {
            start: clock.now_ms(),
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
