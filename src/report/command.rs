//! The command that continues, written for the front end: a shell command (the CLI, on
//! computers only) or a Python call (CPython, MicroPython).

use crate::msg::{self, Msg};
use crate::text::Sink;

use super::next::{given, Arg, NextStep, FULL_IMAGE};
use super::quote::*;
#[cfg(feature = "host")]
use super::request::sha256_digest;
use super::request::{Command, Frontend, Request};
use crate::stp::FIELD_BLOCK_SIZE;

/// The SHA-256 to repeat in the command that continues: the user's, when that command
/// names the same image and the digest is well formed.
#[cfg(feature = "host")]
fn sha256_for<'a>(firmware: Arg<'a>, req: &Request<'a>) -> Option<&'a [u8]> {
    let hex = req.sha256?;
    match firmware {
        Arg::Given(p) if Some(p) == req.firmware && sha256_digest(hex).is_ok() => Some(hex),
        _ => None,
    }
}

/// Writes the shell command for `step` (the CLI exists on computers only: a firmware
/// build leaves this out).
#[cfg(feature = "host")]
fn write_shell(step: NextStep<'_>, req: &Request<'_>, out: &mut dyn Sink) {
    shell_word(req.program, out);
    if let Some(port) = req.port {
        out.put(" --port ");
        shell_word(port, out);
    } else if step == NextStep::ChoosePort {
        out.put(" --port ");
        msg::write(out, Msg::NextPort, &[]);
    }

    let (firmware, updater, bootrom, defaults) = match step {
        NextStep::State => {
            out.put(" state");
            return;
        }
        NextStep::Same | NextStep::ChoosePort => match req.command {
            Command::Run => (
                given(req.firmware),
                given(req.updater),
                given(req.bootrom),
                false,
            ),
            Command::Load => {
                out.put(" load ");
                shell_word(req.updater.unwrap_or(b""), out);
                return;
            }
            other => {
                out.put(" ");
                out.put(other.name());
                return;
            }
        },
        NextStep::Run {
            firmware,
            updater,
            bootrom,
            defaults,
        } => (firmware, updater, bootrom, defaults),
    };
    out.put(" run ");
    let firmware = match firmware {
        Arg::Absent => Arg::Placeholder(FULL_IMAGE),
        other => other,
    };
    write_arg(firmware, out, shell_word);
    for (flag, arg) in [(" --updater ", updater), (" --bootrom ", bootrom)] {
        if arg != Arg::Absent {
            out.put(flag);
            write_arg(arg, out, shell_word);
        }
    }
    let o = &req.options;
    if !defaults {
        if o.fff {
            out.put(" --fff");
        }
        if o.on_the_fly {
            out.put(" --on-the-fly");
        }
        match o.block_size {
            None => out.put(" --block-size max"),
            Some(n) if n != FIELD_BLOCK_SIZE as u32 => {
                out.put(" --block-size ");
                out.put_u32(n);
            }
            Some(_) => {}
        }
    }
    if o.reply_timeout_s != super::UserOptions::default().reply_timeout_s && o.reply_timeout_s != 0
    {
        out.put(" --reply-timeout ");
        out.put_u32(o.reply_timeout_s);
    }
    if o.allow_truncated {
        out.put(" --allow-truncated");
    }
    if let Some(hex) = sha256_for(firmware, req) {
        out.put(" --sha256 ");
        out.put_bytes(hex);
    }
}

/// A Python call's arguments, comma-separated as they are written.
struct PyArgs<'o> {
    out: &'o mut dyn Sink,
    first: bool,
}

impl PyArgs<'_> {
    fn next(&mut self) -> &mut dyn Sink {
        if !self.first {
            self.out.put(", ");
        }
        self.first = false;
        &mut *self.out
    }

    fn text(&mut self, keyword: &str, value: &[u8]) {
        let out = self.next();
        out.put(keyword);
        py_str(value, out);
    }

    /// A file argument; a placeholder in quotes, so that the call stays valid Python.
    fn file(&mut self, keyword: &str, arg: Arg<'_>) {
        if arg == Arg::Absent {
            return;
        }
        let out = self.next();
        out.put(keyword);
        match arg {
            Arg::Placeholder(m) => {
                out.put("'");
                msg::write(out, m, &[]);
                out.put("'");
            }
            _ => write_arg(arg, out, py_str),
        }
    }

    fn flag(&mut self, text: &str) {
        self.next().put(text);
    }
}

/// Writes the Python call (CPython or MicroPython) for `step`: on a computer the port is
/// the first argument, on the board `port=` (when one was given) comes last.
#[inline(never)]
fn write_python(step: NextStep<'_>, req: &Request<'_>, out: &mut dyn Sink) {
    let board = req.frontend == Frontend::MicroPython;
    // Only a computer lists ports (a board's firmware has no such step).
    #[cfg(feature = "host")]
    let (choose_port, step) = match step {
        NextStep::ChoosePort => (true, NextStep::Same),
        other => (false, other),
    };
    #[cfg(not(feature = "host"))]
    let choose_port = false;
    let (name, files) = match step {
        #[cfg(feature = "host")]
        NextStep::ChoosePort => ("", None), // made Same above
        NextStep::State => ("state", None),
        NextStep::Same if req.command != Command::Run => (req.command.name(), None),
        NextStep::Same => (
            "run",
            Some((
                given(req.firmware),
                given(req.updater),
                given(req.bootrom),
                false,
            )),
        ),
        NextStep::Run {
            firmware,
            updater,
            bootrom,
            defaults,
        } => ("run", Some((firmware, updater, bootrom, defaults))),
    };
    out.put("sqnsupgrade.");
    out.put(name);
    out.put("(");
    let mut args = PyArgs { out, first: true };
    if let (Some(port), false) = (req.port, board) {
        args.text("", port);
    } else if choose_port && !board {
        args.file("", Arg::Placeholder(Msg::NextPort));
    }
    if step == NextStep::Same && req.command == Command::Load {
        args.text("", req.updater.unwrap_or(b""));
    }
    if let Some((firmware, updater, bootrom, defaults)) = files {
        let stream = board && req.firmware_stream && matches!(firmware, Arg::Given(_));
        if stream {
            msg::write(args.next(), Msg::NextStream, &[]);
        } else {
            args.file(
                "",
                match firmware {
                    Arg::Absent => Arg::Placeholder(FULL_IMAGE),
                    other => other,
                },
            );
        }
        args.file("", updater);
        args.file("bootrom=", bootrom);
        if stream {
            let out = args.next();
            out.put("size=");
            out.put_u32(req.firmware_size);
            if let Some(name) = req.firmware.filter(|n| !n.is_empty()) {
                args.text("name=", name);
            }
        }
        let o = &req.options;
        if !defaults {
            if o.fff {
                args.flag("force_fff=True");
            }
            if o.on_the_fly {
                args.flag("load_fff=False");
            }
            if board && o.block_size != Some(FIELD_BLOCK_SIZE as u32) {
                let out = args.next();
                out.put("block_size=");
                match o.block_size {
                    Some(n) => out.put_u32(n),
                    None => out.put("None"),
                }
            }
        }
        if o.allow_truncated {
            args.flag("allow_truncated=True");
        }
        #[cfg(feature = "host")]
        if let Some(hex) = sha256_for(firmware, req) {
            args.text("sha256=", hex);
        }
    }
    if let (Some(port), true) = (req.port, board) {
        args.text("port=", port);
    }
    args.out.put(")");
}

/// Writes the command that continues, for the request's front end.
pub fn write_next(step: NextStep<'_>, req: &Request<'_>, out: &mut dyn Sink) {
    match req.frontend {
        #[cfg(feature = "host")]
        Frontend::Shell => write_shell(step, req, out),
        _ => write_python(step, req, out),
    }
}
