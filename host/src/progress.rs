//! Progress a person can read on a computer. On a terminal: a bar with the percentage,
//! the bytes, the rate and the time left (indicatif), the familiar messages printed above
//! it. On a pipe or in a log: a plain line at every 10 % and at least every 10 s. Every
//! other event (messages, the modem's dots, the waits, the failure lines) is the engine's
//! familiar console text, as on the board.

use crate::Terminal;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sqnsupgrade::console::Console;
use sqnsupgrade::hal::{Event, Events, Payload};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// How often a pipe gets a line while bytes move, at the least.
pub const LINE_EVERY: Duration = Duration::from_secs(10);

/// The engine's events for a person at a computer.
pub struct HostEvents {
    console: Console<Terminal>,
    out: Terminal,
    terminal: bool,
    transfer: Option<Transfer>,
}

struct Transfer {
    what: Payload,
    total: u64,
    done: u64,
    started: Instant,
    last_line: Instant,
    /// The next multiple of 10 % that gets a line (pipes).
    next_tenth: u64,
    bar: Option<ProgressBar>,
}

impl HostEvents {
    /// Events printed on standard output (a bar when it is a terminal); `debug` also prints
    /// the AT commands and replies.
    pub fn stdout(debug: bool) -> HostEvents {
        HostEvents::new(debug, Terminal { stderr: false })
    }

    /// Events printed on `out`: a bar when it is a terminal, lines otherwise.
    pub fn new(debug: bool, out: Terminal) -> HostEvents {
        let terminal = if out.stderr {
            std::io::stderr().is_terminal()
        } else {
            std::io::stdout().is_terminal()
        };
        HostEvents {
            console: Console::new(out, debug),
            out,
            terminal,
            transfer: None,
        }
    }

    fn line(&self, text: &str) {
        let mut out = self.out;
        sqnsupgrade::console::TextOut::text(&mut out, text.as_bytes());
        sqnsupgrade::console::TextOut::text(&mut out, b"\n");
    }

    /// Ends the line the console has open (before the failure lines or a summary).
    pub fn close_line(&mut self) {
        self.console.close_line();
    }

    fn start(&mut self, what: Payload, total: u32) {
        self.console.close_line();
        let now = Instant::now();
        let total = u64::from(total);
        let name = match what {
            Payload::Firmware => "the image",
            Payload::Updater => "updater.elf",
            Payload::Bootrom => "the bootrom package",
        };
        let bar = if self.terminal {
            let target = if self.out.stderr {
                ProgressDrawTarget::stderr()
            } else {
                ProgressDrawTarget::stdout()
            };
            let bar = ProgressBar::with_draw_target(Some(total), target);
            bar.set_style(
                ProgressStyle::with_template(
                    "Sending {msg} [{bar:32.cyan/blue}] {percent:>3}% {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("#>-"),
            );
            bar.set_message(name);
            Some(bar)
        } else {
            self.line(&format!("Sending {name}: {total} bytes"));
            None
        };
        self.transfer = Some(Transfer {
            what,
            total,
            done: 0,
            started: now,
            last_line: now,
            next_tenth: 1,
            bar,
        });
    }

    fn update(&mut self, done: u32) {
        let Some(t) = self.transfer.as_mut() else {
            return;
        };
        t.done = u64::from(done).min(t.total);
        if let Some(bar) = &t.bar {
            bar.set_position(t.done);
            return;
        }
        let tenth = (t.done * 10).checked_div(t.total).unwrap_or(10);
        let now = Instant::now();
        if tenth >= t.next_tenth || now.duration_since(t.last_line) >= LINE_EVERY {
            t.next_tenth = tenth + 1;
            t.last_line = now;
            let text = line(t, now);
            self.line(&text);
        }
    }

    fn end(&mut self) {
        let Some(mut t) = self.transfer.take() else {
            return;
        };
        t.done = t.total;
        if let Some(bar) = &t.bar {
            bar.set_position(t.total);
            bar.finish();
        } else if t.next_tenth <= 10 {
            self.line(&line(&t, Instant::now()));
        }
        let secs = t.started.elapsed().as_secs_f64();
        let what = match t.what {
            Payload::Firmware => "image",
            Payload::Updater => "updater.elf",
            Payload::Bootrom => "bootrom package",
        };
        self.line(&format!(
            "Sent the {what}: {} bytes in {secs:.1} s",
            t.total
        ));
    }
}

/// `  40% (2,398,775 of 5,996,938 bytes, 81.9 kB/s, 44 s left)` (1 kB = 1000 bytes).
fn line(t: &Transfer, now: Instant) -> String {
    let percent = (t.done * 100).checked_div(t.total).unwrap_or(100);
    let secs = now.duration_since(t.started).as_secs_f64();
    let rate = if secs > 0.0 {
        t.done as f64 / secs
    } else {
        0.0
    };
    let left = if rate > 0.0 && t.done < t.total {
        format!(", {:.0} s left", (t.total - t.done) as f64 / rate)
    } else {
        String::new()
    };
    format!(
        "  {percent:>3}% ({} of {} bytes, {:.1} kB/s{left})",
        grouped(t.done),
        grouped(t.total),
        rate / 1000.0
    )
}

/// 5996938 → `5,996,938`.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl Events for HostEvents {
    fn event(&mut self, event: &Event<'_>) {
        match *event {
            Event::TransferStart { what, total } => self.start(what, total),
            Event::Progress { done, .. } => self.update(done),
            Event::TransferEnd => self.end(),
            _ => {
                // Anything said during a transfer is printed above the bar.
                let console = &mut self.console;
                match self.transfer.as_ref().and_then(|t| t.bar.as_ref()) {
                    Some(bar) => bar.suspend(|| {
                        console.event(event);
                        console.close_line();
                    }),
                    None => console.event(event),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_with_thousands() {
        assert_eq!(grouped(5_996_938), "5,996,938");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1000), "1,000");
        assert_eq!(grouped(0), "0");
    }

    #[test]
    fn a_line_says_percent_bytes_rate_and_time_left() {
        let start = Instant::now();
        let t = Transfer {
            what: Payload::Firmware,
            total: 1_000_000,
            done: 400_000,
            started: start,
            last_line: start,
            next_tenth: 5,
            bar: None,
        };
        let l = line(&t, start + Duration::from_secs(4));
        assert_eq!(
            l,
            "   40% (400,000 of 1,000,000 bytes, 100.0 kB/s, 6 s left)"
        );
    }
}
