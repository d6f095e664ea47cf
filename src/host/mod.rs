//! The host side (feature `host`, std): the engine's traits on a computer, used by the
//! `sqnsupgrade` CLI and the tests: a tty link ([`tty::Tty`]), files as images
//! ([`FileImage`]), the system clock, Ctrl-C, and a console that prints what users know.

pub mod tty;

use std::prelude::rust_2021::*;

use crate::error::{Error, FileProblem, FileRole};
use crate::hal::{Cancel, Clock, Event, Events, ImageSource, Payload};
use std::fs::File;
use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// A firmware file on disk.
pub struct FileImage {
    file: File,
    size: u32,
    name: String,
}

impl FileImage {
    /// Opens `path`; a missing or unreadable file is the engine's file error for `role`.
    pub fn open(path: &str, role: FileRole) -> Result<FileImage, Error> {
        let problem = |e: io::Error| {
            let problem = if e.kind() == io::ErrorKind::NotFound {
                FileProblem::Missing
            } else {
                FileProblem::Unreadable
            };
            Error::File { role, problem }
        };
        let file = File::open(path).map_err(problem)?;
        let meta = file.metadata().map_err(problem)?;
        if meta.is_dir() {
            return Err(Error::File {
                role,
                problem: FileProblem::Unreadable,
            });
        }
        let size = u32::try_from(meta.len()).map_err(|_| Error::File {
            role,
            problem: FileProblem::Unreadable,
        })?;
        Ok(FileImage {
            file,
            size,
            name: path.to_string(),
        })
    }
}

impl ImageSource for FileImage {
    fn size(&self) -> u32 {
        self.size
    }

    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        self.file.read(buf).map_err(|_| Error::ImageRead)
    }

    fn name(&self) -> &str {
        &self.name
    }
}

/// The system's monotonic clock.
pub struct StdClock(Instant);

impl Default for StdClock {
    fn default() -> Self {
        StdClock(Instant::now())
    }
}

impl Clock for StdClock {
    fn now_ms(&mut self) -> u64 {
        self.0.elapsed().as_millis() as u64
    }

    fn sleep_ms(&mut self, ms: u32) {
        // Sleep in slices so Ctrl-C is noticed quickly.
        let end = self.now_ms() + u64::from(ms);
        while !cancel_requested() {
            let now = self.now_ms();
            if now >= end {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis((end - now).min(50)));
        }
    }
}

static CANCEL: AtomicBool = AtomicBool::new(false);

extern "C" fn on_sigint(_: libc::c_int) {
    CANCEL.store(true, Ordering::SeqCst);
}

/// Makes Ctrl-C ask the engine to stop (instead of killing the process mid-transfer).
pub fn install_ctrl_c() {
    let handler: extern "C" fn(libc::c_int) = on_sigint;
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
    unsafe {
        libc::signal(libc::SIGINT, handler as libc::sighandler_t);
    }
}

/// True once Ctrl-C was pressed.
pub fn cancel_requested() -> bool {
    CANCEL.load(Ordering::SeqCst)
}

/// The Ctrl-C check as the engine's [`Cancel`].
pub struct CtrlC;

impl Cancel for CtrlC {
    fn cancelled(&mut self) -> bool {
        cancel_requested()
    }
}

/// Prints the engine's events the way the field updater did, with a progress bar.
pub struct Console<W: Write> {
    out: W,
    debug: bool,
    total: u32,
    shown_percent: Option<u32>,
    dots: bool,
    /// Bytes per transfer kind, for the summary.
    pub transfers: Vec<(Payload, u32)>,
}

impl<W: Write> Console<W> {
    /// A console writing to `out`; `debug` also prints commands and replies.
    pub fn new(out: W, debug: bool) -> Self {
        Console {
            out,
            debug,
            total: 0,
            shown_percent: None,
            dots: false,
            transfers: Vec::new(),
        }
    }

    fn end_dots(&mut self) {
        if self.dots {
            let _ = writeln!(self.out);
            self.dots = false;
        }
    }

    fn bar(&mut self, done: u32) {
        let percent = if self.total == 0 {
            100
        } else {
            (u64::from(done) * 100 / u64::from(self.total)) as u32
        };
        if self.shown_percent == Some(percent) {
            return;
        }
        self.shown_percent = Some(percent);
        let filled = (percent as usize * 40) / 100;
        let _ = write!(
            self.out,
            "\rSending {} bytes: [{}{}] {:3}%",
            self.total,
            "#".repeat(filled),
            " ".repeat(40 - filled),
            percent
        );
        let _ = self.out.flush();
    }
}

impl<W: Write> Events for Console<W> {
    fn event(&mut self, event: &Event<'_>) {
        match *event {
            Event::Message(text) => {
                self.end_dots();
                let _ = writeln!(self.out, "{text}");
            }
            Event::Debug(text) if self.debug => {
                self.end_dots();
                let _ = writeln!(self.out, "[debug] {text}");
            }
            Event::Debug(_) | Event::Stage(_) => {}
            Event::TransferStart { what, total } => {
                self.end_dots();
                self.total = total;
                self.shown_percent = None;
                self.transfers.push((what, total));
            }
            Event::Progress { done, total } => {
                self.total = total;
                self.bar(done);
            }
            Event::TransferEnd => {
                let _ = writeln!(self.out);
            }
            Event::Tick => {
                self.dots = true;
                let _ = write!(self.out, ".");
            }
        }
        let _ = self.out.flush();
    }
}
