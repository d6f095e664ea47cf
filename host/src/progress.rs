//! Progress a person can read on a computer. On a terminal: a bar with the percentage,
//! the bytes, the rate and the time left (indicatif), the familiar messages printed above
//! it. On a pipe or in a log: a plain line at every 10 % and at least every 10 s. Every
//! other event (messages, the modem's dots, the waits, the failure lines) is the engine's
//! familiar console text, as on the board.

use crate::{sentence, Terminal};
use indicatif::{HumanCount, ProgressBar, ProgressDrawTarget, ProgressStyle};
use sqnsupgrade::console::Console;
use sqnsupgrade::hal::{Event, Events, Payload};
use sqnsupgrade::msg::{Arg, Msg};
use std::collections::VecDeque;
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// How often a pipe gets a line while bytes move, at the least.
pub const LINE_EVERY: Duration = Duration::from_secs(10);

/// The rate a line says is that of the last few seconds: a pause of the modem (erasing
/// around 7-10 %) weighs on it only while it lasts, and the time left follows from it.
pub const RATE_WINDOW: Duration = Duration::from_secs(5);

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
    /// (when, bytes done) of the progress events of the last [`RATE_WINDOW`], oldest first.
    recent: VecDeque<(Instant, u64)>,
    bar: Option<ProgressBar>,
}

impl Transfer {
    fn new(what: Payload, total: u64, now: Instant, bar: Option<ProgressBar>) -> Transfer {
        Transfer {
            what,
            total,
            done: 0,
            started: now,
            last_line: now,
            next_tenth: 1,
            recent: VecDeque::from([(now, 0)]),
            bar,
        }
    }

    /// `done` bytes at `now`: kept for the rate, with the last sample older than the
    /// window (so that the window is always covered).
    fn record(&mut self, now: Instant, done: u64) {
        self.done = done.min(self.total);
        self.recent.push_back((now, self.done));
        while self.recent.len() > 2
            && self
                .recent
                .get(1)
                .is_some_and(|&(t, _)| now.duration_since(t) >= RATE_WINDOW)
        {
            self.recent.pop_front();
        }
    }

    /// Bytes per second over the last [`RATE_WINDOW`] or so (0 when nothing moved).
    fn recent_rate(&self, now: Instant) -> f64 {
        let Some(&(since, from)) = self.recent.front() else {
            return 0.0;
        };
        let secs = now.duration_since(since).as_secs_f64();
        if secs > 0.0 {
            (self.done - from) as f64 / secs
        } else {
            0.0
        }
    }
}

impl HostEvents {
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
        // `Sending the image: 5996938 bytes`: the first line on a pipe, the bar's head on a
        // terminal.
        let head = sentence(Msg::SaySending, &[Arg::Msg(name(what)), Arg::Num(total)]);
        let total = u64::from(total);
        let bar = if self.terminal {
            let target = if self.out.stderr {
                ProgressDrawTarget::stderr()
            } else {
                ProgressDrawTarget::stdout()
            };
            let bar = ProgressBar::with_draw_target(Some(total), target);
            bar.set_style(
                ProgressStyle::with_template(
                    "{msg} [{bar:32.cyan/blue}] {percent:>3}% {bytes} {binary_bytes_per_sec} ETA {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("#>-"),
            );
            bar.set_message(head);
            Some(bar)
        } else {
            self.line(&head);
            None
        };
        self.transfer = Some(Transfer::new(what, total, now, bar));
    }

    fn update(&mut self, done: u32) {
        let Some(t) = self.transfer.as_mut() else {
            return;
        };
        let now = Instant::now();
        t.record(now, u64::from(done));
        if let Some(bar) = &t.bar {
            bar.set_position(t.done);
            return;
        }
        let tenth = (t.done * 10).checked_div(t.total).unwrap_or(10);
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
        let now = Instant::now();
        t.record(now, t.total);
        if let Some(bar) = &t.bar {
            bar.set_position(t.total);
            bar.finish();
        } else if t.next_tenth <= 10 {
            self.line(&line(&t, now));
        }
        let secs = format!("{:.1}", t.started.elapsed().as_secs_f64());
        self.line(&sentence(
            Msg::SaySent,
            &[
                Arg::Msg(name(t.what)),
                Arg::Num(u32::try_from(t.total).unwrap_or(u32::MAX)),
                Arg::Text(secs.as_bytes()),
            ],
        ));
    }
}

/// What is being sent, as `Sending ...` and `Sent ...` name it.
fn name(what: Payload) -> Msg {
    match what {
        Payload::Firmware => Msg::PayloadFirmware,
        Payload::Updater => Msg::PayloadUpdater,
        Payload::Bootrom => Msg::PayloadBootrom,
    }
}

/// `  40% (2,398,775 of 5,996,938 bytes, 981.9 kB/s, 4 s left)` (1 kB = 1000 bytes): the
/// rate of the last few seconds, and the time left at that rate.
fn line(t: &Transfer, now: Instant) -> String {
    let percent = format!("{:>3}", (t.done * 100).checked_div(t.total).unwrap_or(100));
    let rate = t.recent_rate(now);
    let kbs = format!("{:.1}", rate / 1000.0);
    let rate = if rate > 0.0 && t.done < t.total {
        let left = format!("{:.0}", (t.total - t.done) as f64 / rate);
        let args = [Arg::Text(kbs.as_bytes()), Arg::Text(left.as_bytes())];
        sentence(Msg::ProgressRateLeft, &args)
    } else {
        sentence(Msg::ProgressRate, &[Arg::Text(kbs.as_bytes())])
    };
    let (done, total) = (
        HumanCount(t.done).to_string(),
        HumanCount(t.total).to_string(),
    );
    let args = [
        Arg::Text(percent.as_bytes()),
        Arg::Text(done.as_bytes()),
        Arg::Text(total.as_bytes()),
        Arg::Text(rate.as_bytes()),
    ];
    format!("  {}", sentence(Msg::SayProgress, &args))
}

impl Events for HostEvents {
    fn event(&mut self, event: &Event<'_>) {
        match *event {
            Event::TransferStart { what, total } => self.start(what, total),
            Event::Progress { done, .. } => self.update(done),
            Event::TransferEnd => self.end(),
            // The watchdog's beat: nothing to show (and no redraw of the bar).
            Event::Alive => {}
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
    fn the_first_and_last_lines_name_what_is_sent() {
        let start = |what| {
            sentence(
                Msg::SaySending,
                &[Arg::Msg(name(what)), Arg::Num(5_996_938)],
            )
        };
        assert_eq!(start(Payload::Firmware), "Sending the image: 5996938 bytes");
        assert_eq!(
            start(Payload::Updater),
            "Sending updater.elf: 5996938 bytes"
        );
        let end = sentence(
            Msg::SaySent,
            &[
                Arg::Msg(name(Payload::Bootrom)),
                Arg::Num(54_854),
                Arg::Text(b"1.5"),
            ],
        );
        assert_eq!(end, "Sent the bootrom package: 54854 bytes in 1.5 s");
    }

    #[test]
    fn a_line_says_percent_bytes_rate_and_time_left() {
        let start = Instant::now();
        let mut t = Transfer::new(Payload::Firmware, 1_000_000, start, None);
        for s in 1..=4 {
            t.record(start + Duration::from_secs(s), s * 100_000);
        }
        let l = line(&t, start + Duration::from_secs(4));
        assert_eq!(
            l,
            "   40% (400,000 of 1,000,000 bytes, 100.0 kB/s, 6 s left)"
        );
    }

    #[test]
    fn the_rate_is_the_recent_one_not_the_average_since_the_start() {
        // 100 kB in the first second, then the modem erases for 20 s, then 1 MB/s.
        let start = Instant::now();
        let at = |ms| start + Duration::from_millis(ms);
        let mut t = Transfer::new(Payload::Firmware, 20_000_000, start, None);
        t.record(at(1_000), 100_000);
        t.record(at(21_000), 120_000);
        for k in 1..=10u64 {
            t.record(at(21_000 + k * 1_000), 120_000 + k * 1_000_000);
        }
        let l = line(&t, at(31_000));
        // Over the whole run that would be 326 kB/s; the last 5 s moved 5 MB.
        assert!(
            l.contains("1000.0 kB/s") && l.ends_with(", 10 s left)"),
            "{l}"
        );
    }
}
