//! The four failure lines (`error:`, `hint:`, `modem:`, `next:`), the same on every front
//! end.

use crate::error::Error;
use crate::msg::{self, Msg};
use crate::state::State;
use crate::text::Sink;
use crate::updater::Failure;

use super::command::write_next;
use super::next::next_step;
use super::request::Request;

/// Writes the error line's text (without `error: `): the file's path first when the error
/// is about a file.
#[inline(never)]
pub fn write_error(f: &Failure, req: &Request<'_>, out: &mut dyn Sink) {
    if let Some(path) = f.file_role().and_then(|role| req.path(role)) {
        if !path.is_empty() {
            out.put_bytes(path);
            out.put(": ");
        }
    }
    #[cfg(feature = "host")]
    if matches!(f.error, Error::Port(_)) {
        if let Some(port) = req.port {
            out.put_bytes(port);
            out.put(": ");
        }
    }
    f.error.write_message(out);
}

/// Writes the hint: what to do, from the error and the state the modem is really in.
#[inline(never)]
pub fn write_hint(f: &Failure, out: &mut dyn Sink) {
    let by_state = matches!(
        f.error,
        Error::Stp { .. }
            | Error::RebootedDuringTransfer { .. }
            | Error::Cancelled
            | Error::Timeout { .. }
            | Error::AtError { .. }
            | Error::UnexpectedReply { .. }
            | Error::UpgradeTimeout
            | Error::ImageRead
            | Error::StreamCount { .. }
            | Error::NotBackInApplication
    ) && f.modem_changed;
    let hint = if !by_state
        || matches!(f.error, Error::AtError { command } if command.starts_with("AT+SMSWBOOT=0"))
    {
        f.error.hint()
    } else {
        match f.state {
            Some(State::Upgrade) | Some(State::MTools) => Msg::HintStateUpgrade,
            Some(State::Updater) => Msg::HintStateFlashing,
            Some(State::Recovery) => Msg::HintStateRecovery,
            Some(State::Application) => Msg::HintStateApplication,
            None => Msg::HintStateUnknown,
        }
    };
    msg::write(out, hint, &[]);
}

/// Writes the modem line: `not changed`, the state number and name, or `unknown`.
#[inline(never)]
pub fn write_modem(f: &Failure, out: &mut dyn Sink) {
    if !f.modem_changed {
        msg::write(out, Msg::ModemNotChanged, &[]);
        return;
    }
    write_state(f.state, out);
}

/// `2 application mode (FFF)`, or `unknown (no answer)`.
pub fn write_state(state: Option<State>, out: &mut dyn Sink) {
    match state {
        Some(s) => {
            out.put_u32(u32::from(s.number()));
            out.put(" ");
            msg::write(out, s.name(), &[]);
        }
        None => msg::write(out, Msg::ModemUnknown, &[]),
    }
}

/// The four failure lines' labels, in their order.
pub const LABELS: [&str; 4] = ["error: ", "hint: ", "modem: ", "next: "];

/// Writes the four failure lines, each ending with a newline.
pub fn write_failure(f: &Failure, req: &Request<'_>, out: &mut dyn Sink) {
    out.put(LABELS[0]);
    write_error(f, req, out);
    out.put("\n");
    out.put(LABELS[1]);
    write_hint(f, out);
    out.put("\n");
    out.put(LABELS[2]);
    write_modem(f, out);
    out.put("\n");
    out.put(LABELS[3]);
    write_next(next_step(f, req), req, out);
    out.put("\n");
}
