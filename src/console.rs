//! The familiar console output, shared by every front-end: messages as lines, dots while
//! the modem works (joining the line before them, as in
//! `Resetting (DO NOT DISCONNECT POWER!!!)........`), and the progress bar drawn left to
//! right, `Sending N bytes: [########################################] 100%`, which reads
//! the same on a terminal, in a log file and on a board's REPL.

use crate::hal::{Event, Events};
use crate::text::{Sink, Text};

/// Where the text goes (stdout, MicroPython's console, ...).
pub trait TextOut {
    /// Writes `text` as is.
    fn text(&mut self, text: &str);
}

/// Width of the progress bar, as in the field updater.
pub const BAR_WIDTH: usize = 40;

/// Turns engine events into console text.
pub struct Console<O: TextOut> {
    out: O,
    debug: bool,
    total: u32,
    drawn: usize,
    open_line: bool,
}

impl<O: TextOut> Console<O> {
    /// A console writing to `out`; `debug` also prints commands and replies.
    pub fn new(out: O, debug: bool) -> Self {
        Console {
            out,
            debug,
            total: 0,
            drawn: 0,
            open_line: false,
        }
    }

    /// Ends the current line, if one is open; call it before printing anything else.
    pub fn close_line(&mut self) {
        if self.open_line {
            self.out.text("\n");
            self.open_line = false;
        }
    }

    fn bar(&mut self, done: u32) {
        let filled = bar_cells(done, self.total);
        while self.drawn < filled.min(BAR_WIDTH) {
            self.out.text("#");
            self.drawn += 1;
        }
    }
}

impl<O: TextOut> Events for Console<O> {
    fn event(&mut self, event: &Event<'_>) {
        match *event {
            Event::Message(text) => {
                self.close_line();
                self.out.text(text);
                self.open_line = true;
            }
            Event::Debug(text) if self.debug => {
                self.close_line();
                self.out.text("[debug] ");
                self.out.text(text);
                self.out.text("\n");
            }
            Event::Debug(_) | Event::Stage(_) => {}
            Event::TransferStart { total, .. } => {
                self.close_line();
                self.total = total;
                self.drawn = 0;
                self.open_line = true;
                let mut line: Text<40> = Text::new();
                line.put("Sending ");
                line.put_u32(total);
                line.put(" bytes: [");
                self.out.text(line.as_str());
            }
            Event::Progress { done, total } => {
                self.total = total;
                self.bar(done);
            }
            Event::TransferEnd => {
                self.bar(self.total);
                self.out.text("] 100%\n");
                self.open_line = false;
            }
            Event::Tick => {
                self.open_line = true;
                self.out.text(".");
            }
        }
    }
}

/// How many of the bar's cells `done` of `total` fills (32-bit arithmetic only: no 64-bit
/// division on the board).
pub fn bar_cells(done: u32, total: u32) -> usize {
    if total == 0 || done >= total {
        return BAR_WIDTH;
    }
    // Scale both down so that done * BAR_WIDTH cannot overflow.
    let shift = 32 - total.leading_zeros();
    let shift = shift.saturating_sub(25);
    let (d, t) = (done >> shift, (total >> shift).max(1));
    (d * BAR_WIDTH as u32 / t) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::string::String;

    struct Buf(String);
    impl TextOut for &mut Buf {
        fn text(&mut self, text: &str) {
            self.0.push_str(text);
        }
    }

    #[test]
    fn bar_arithmetic() {
        assert_eq!(bar_cells(0, 100), 0);
        assert_eq!(bar_cells(50, 100), 20);
        assert_eq!(bar_cells(99, 100), 39);
        assert_eq!(bar_cells(100, 100), 40);
        assert_eq!(bar_cells(2_998_469, 5_996_938), 20);
        assert_eq!(bar_cells(u32::MAX / 2, u32::MAX), 19);
        assert_eq!(bar_cells(5, 0), 40);
    }

    #[test]
    fn familiar_lines() {
        let mut buf = Buf(String::new());
        let mut c = Console::new(&mut buf, false);
        c.event(&Event::Message("Starting STP ON_THE_FLY"));
        c.event(&Event::TransferStart {
            what: crate::hal::Payload::Firmware,
            total: 1000,
        });
        for done in (0..=1000).step_by(100) {
            c.event(&Event::Progress { done, total: 1000 });
        }
        c.event(&Event::TransferEnd);
        c.event(&Event::Message("Resetting (DO NOT DISCONNECT POWER!!!)"));
        c.event(&Event::Tick);
        c.event(&Event::Tick);
        c.event(&Event::Debug("hidden"));
        c.event(&Event::Message("Upgrade completed!"));
        c.close_line();
        assert_eq!(
            buf.0,
            "Starting STP ON_THE_FLY\nSending 1000 bytes: [########################################] 100%\nResetting (DO NOT DISCONNECT POWER!!!)..\nUpgrade completed!\n"
        );
    }
}
