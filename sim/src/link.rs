//! A host's serial port on an in-process [`Modem`], in virtual time: what a test host
//! reads and writes through. Time only moves when the host waits (reads with a
//! timeout, sleeps), and jumps straight to the modem's next event, so a 10-minute wait
//! costs microseconds.
//!
//! ```
//! use sqnsim::{link::Link, Config, Modem};
//!
//! let mut port = Link::new(Modem::new(Config::default()), 921_600);
//! port.write(b"AT\r\n").unwrap();
//! let reply = port.read_until(b"OK\r\n", 1_000).unwrap();
//! assert!(reply.ends_with(b"\r\nOK\r\n"));
//! port.sleep_ms(600_000); // ten minutes, at once
//! assert!(port.now_ms() >= 600_000);
//! ```

use std::io;

use crate::model::Modem;

/// The host end of the line.
#[derive(Debug)]
pub struct Link {
    modem: Modem,
    now_us: u64,
    baud: u32,
    inbox: Vec<u8>,
}

fn gone() -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, "the port is gone")
}

impl Link {
    /// A port on `modem`, the host's UART at `baud`, at time 0.
    pub fn new(modem: Modem, baud: u32) -> Link {
        Link {
            modem,
            now_us: 0,
            baud,
            inbox: Vec::new(),
        }
    }

    /// The modem behind the port.
    pub fn modem(&self) -> &Modem {
        &self.modem
    }

    /// The virtual time (µs).
    pub fn now_us(&self) -> u64 {
        self.now_us
    }

    /// The virtual time (ms).
    pub fn now_ms(&self) -> u64 {
        self.now_us / 1000
    }

    /// The host's rate.
    pub fn baud(&self) -> u32 {
        self.baud
    }

    /// Changes the host's rate (bytes already received stay).
    pub fn set_baud(&mut self, baud: u32) {
        self.pull();
        self.baud = baud;
    }

    fn pull(&mut self) {
        let out = self.modem.transmit(self.now_us, self.baud);
        self.inbox.extend_from_slice(&out);
    }

    fn check(&self) -> io::Result<()> {
        if self.modem.link_gone() {
            Err(gone())
        } else {
            Ok(())
        }
    }

    /// Writes bytes now (the UART takes them at once; with pacing the modem gets them
    /// one by one).
    pub fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.check()?;
        self.modem.receive(self.now_us, self.baud, bytes);
        self.check()
    }

    /// Moves the clock on to `t` (µs) or the modem's next event before it.
    fn step_towards(&mut self, deadline: u64) {
        let mut t = self
            .modem
            .next_event_us()
            .unwrap_or(deadline)
            .max(self.now_us + 1);
        // Nothing the host can see happens while the modem is still taking its bytes.
        t = t.max(self.modem.receiving_until_us().min(deadline));
        self.now_us = t.min(deadline).max(self.now_us);
        self.pull();
    }

    /// Waits up to `timeout_ms` for input; returns at most `max` bytes as soon as there
    /// are any (an empty vector on timeout).
    pub fn read(&mut self, max: usize, timeout_ms: u64) -> io::Result<Vec<u8>> {
        let deadline = self.now_us + timeout_ms * 1000;
        self.pull();
        loop {
            self.check()?;
            if !self.inbox.is_empty() || self.now_us >= deadline {
                let n = max.min(self.inbox.len());
                return Ok(self.inbox.drain(..n).collect());
            }
            self.step_towards(deadline);
        }
    }

    /// Reads exactly `n` bytes, or what came before `timeout_ms` passed without them.
    pub fn read_exact(&mut self, n: usize, timeout_ms: u64) -> io::Result<Vec<u8>> {
        let deadline = self.now_us + timeout_ms * 1000;
        let mut got = Vec::with_capacity(n);
        while got.len() < n {
            let left = deadline.saturating_sub(self.now_us).div_ceil(1000);
            let part = self.read(n - got.len(), left)?;
            if part.is_empty() {
                break;
            }
            got.extend_from_slice(&part);
        }
        Ok(got)
    }

    /// Reads until `pattern` was received (included) or `timeout_ms` passed.
    pub fn read_until(&mut self, pattern: &[u8], timeout_ms: u64) -> io::Result<Vec<u8>> {
        let deadline = self.now_us + timeout_ms * 1000;
        let mut got = Vec::new();
        loop {
            if let Some(p) = got.windows(pattern.len()).position(|w| w == pattern) {
                let rest = got.split_off(p + pattern.len());
                self.inbox.splice(0..0, rest);
                return Ok(got);
            }
            let left = deadline.saturating_sub(self.now_us).div_ceil(1000);
            let part = self.read(4096, left)?;
            if part.is_empty() {
                return Ok(got);
            }
            got.extend_from_slice(&part);
        }
    }

    /// Lets `ms` pass; what the modem sends meanwhile waits in the input buffer.
    pub fn sleep_ms(&mut self, ms: u64) {
        let deadline = self.now_us + ms * 1000;
        while self.now_us < deadline {
            self.step_towards(deadline);
        }
    }

    /// Throws away what was received so far.
    pub fn discard_input(&mut self) {
        self.pull();
        self.inbox.clear();
    }

    /// The port comes back after a `link-gone` (the modem restarts, as the board lost
    /// power with its cable).
    pub fn reconnect(&mut self) {
        self.inbox.clear();
        self.modem.reconnect(self.now_us);
    }

    /// Power-cycles the modem now.
    pub fn power_cycle(&mut self) {
        self.modem.power_cycle(self.now_us);
    }
}
