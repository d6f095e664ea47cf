//! The result record of one call, and the one definition of its keys ([`KEYS`]) and of
//! their values ([`Record::value`]): `last_result()` on the board (the glue builds its dict
//! from them, key by key), `last_result()` of the Python package and `--json` on a computer
//! all come from here.

use crate::state::State;
use crate::text::Sink;
use crate::updater::{Failure, Method, Outcome};
use crate::version::Versions;

use super::lines::LABELS;
use super::request::{failure_status, status, Command};

/// The keys of the result record, in order, each followed by a space (one string: on the
/// board the glue has them as qstrs, from `mpy_glue/sqn_schema.h`, generated from here).
/// [`keys`] reads it.
pub const KEYS: &str = concat!(
    "ok status command state_before state_after modem_changed method build_before ",
    "build_after firmware imei bytes seconds error hint modem next choice ",
);

/// The keys, in order.
pub fn keys() -> impl Iterator<Item = &'static str> {
    KEYS.split_terminator(' ')
}

/// A value of the result record, borrowed from it: what each front end turns into its own
/// (a Python object, JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value<'a> {
    /// Not known (None, null).
    Null,
    /// True or false.
    Bool(bool),
    /// A whole number.
    Int(i32),
    /// Text (ASCII in practice; UTF-8).
    Text(&'a [u8]),
    /// A duration in milliseconds, given to the user in seconds.
    Millis(u32),
}

/// The four failure lines of a call as they were written (each empty on success).
#[derive(Debug, Clone, Copy, Default)]
pub struct Lines<'a> {
    /// The `error:` line's text.
    pub error: &'a [u8],
    /// The `hint:` line's text.
    pub hint: &'a [u8],
    /// The `modem:` line's text.
    pub modem: &'a [u8],
    /// The `next:` line's text.
    pub next: &'a [u8],
}

impl Lines<'_> {
    /// Writes them as [`super::write_failure`] does, each after its label and ending with
    /// a newline.
    pub fn write(&self, out: &mut dyn Sink) {
        for (label, text) in LABELS
            .iter()
            .zip([self.error, self.hint, self.modem, self.next])
        {
            out.put(label);
            out.put_bytes(text);
            out.put("\n");
        }
    }
}

/// The result record of one call: the same keys on the board and on a computer ([`KEYS`]),
/// with the failure lines (`error`, `hint`, `modem`, `next`) rendered by
/// [`super::write_failure`]'s parts and passed in as [`Lines`].
#[derive(Debug, Clone)]
pub struct Record {
    /// The status code ([`status`]).
    pub status: u8,
    /// The command.
    pub command: Option<Command>,
    /// The state before (when it was found).
    pub state_before: Option<State>,
    /// The state after.
    pub state_after: Option<State>,
    /// True once a command that changes the modem was sent.
    pub modem_changed: bool,
    /// FFF or ON_THE_FLY, for an update.
    pub method: Option<Method>,
    /// The software build before.
    pub build_before: Option<u32>,
    /// The software build after.
    pub build_after: Option<u32>,
    /// The firmware line (`LR5.1.1.0-41065`), empty when unknown.
    pub firmware: heapless::Vec<u8, 32>,
    /// The IMEI, empty when unknown.
    pub imei: heapless::Vec<u8, 16>,
    /// Bytes the modem acknowledged.
    pub bytes: u32,
    /// How long the call took, in milliseconds.
    pub millis: u32,
    /// `ensure()`'s decision: the index of the image to use (None: nothing to do, or not
    /// an `ensure()`).
    pub choice: Option<u32>,
}

impl Default for Record {
    fn default() -> Record {
        Record::new()
    }
}

impl Record {
    /// Nothing known yet (a const, for static storage on the board).
    pub const fn new() -> Record {
        Record {
            status: 0,
            command: None,
            state_before: None,
            state_after: None,
            modem_changed: false,
            method: None,
            build_before: None,
            build_after: None,
            firmware: heapless::Vec::new(),
            imei: heapless::Vec::new(),
            bytes: 0,
            millis: 0,
            choice: None,
        }
    }

    /// A successful update.
    #[inline(never)]
    pub fn from_outcome(o: &Outcome) -> Record {
        let mut r = Record {
            status: status::OK,
            command: Some(Command::Run),
            state_before: Some(o.state_before),
            state_after: o.state_after,
            modem_changed: true,
            method: Some(o.method),
            build_before: o.before.software_build,
            bytes: o.bytes_sent,
            millis: o.elapsed_ms.min(u64::from(u32::MAX)) as u32,
            ..Record::default()
        };
        r.take_versions(&o.after, o.imei.as_deref());
        r
    }

    /// A call that found the modem in `state` (info, state, load, uart).
    #[inline(never)]
    pub fn from_state(command: Command, state: Option<State>) -> Record {
        Record {
            status: status::OK,
            command: Some(command),
            state_before: state,
            state_after: state,
            ..Record::default()
        }
    }

    /// A failed call.
    #[inline(never)]
    pub fn from_failure(command: Command, f: &Failure) -> Record {
        Record {
            status: failure_status(f),
            command: Some(command),
            state_before: f.state_before,
            state_after: f.state,
            modem_changed: f.modem_changed,
            method: f.method,
            build_before: f.build_before,
            bytes: f.bytes_sent,
            millis: f.elapsed_ms,
            ..Record::default()
        }
    }

    /// Takes the versions and the IMEI the modem reported.
    pub fn take_versions(&mut self, v: &Versions, imei: Option<&[u8]>) {
        self.build_after = v.software_build;
        self.firmware.clone_from(&v.lr);
        self.imei = heapless::Vec::from_slice(imei.unwrap_or(&[])).unwrap_or_default();
    }

    /// True for success.
    pub fn ok(&self) -> bool {
        self.status == status::OK
    }

    /// The method's name in the record (`FFF`, `ON_THE_FLY`), "" when none.
    pub fn method_name(&self) -> &'static str {
        match self.method {
            Some(Method::Fff) => "FFF",
            Some(Method::OnTheFly) => "ON_THE_FLY",
            None => "",
        }
    }

    /// The value of key `i` of [`KEYS`] (`None` past the last key); `lines` are the call's
    /// failure lines.
    pub fn value<'a>(&'a self, i: usize, lines: &Lines<'a>) -> Option<Value<'a>> {
        let num = |n: Option<u32>| n.map_or(Value::Null, |n| Value::Int(n as i32));
        let state = |s: Option<State>| num(s.map(|s| u32::from(s.number())));
        Some(match i {
            0 => Value::Bool(self.ok()),
            1 => Value::Int(i32::from(self.status)),
            2 => self
                .command
                .map_or(Value::Null, |c| Value::Text(c.name().as_bytes())),
            3 => state(self.state_before),
            4 => state(self.state_after),
            5 => Value::Bool(self.modem_changed),
            6 => match self.method {
                None => Value::Null,
                Some(_) => Value::Text(self.method_name().as_bytes()),
            },
            7 => num(self.build_before),
            8 => num(self.build_after),
            9 => Value::Text(&self.firmware),
            10 => Value::Text(&self.imei),
            11 => Value::Int(self.bytes as i32),
            12 => Value::Millis(self.millis),
            13 => Value::Text(lines.error),
            14 => Value::Text(lines.hint),
            15 => Value::Text(lines.modem),
            16 => Value::Text(lines.next),
            17 => num(self.choice),
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_has_a_value_and_every_value_a_key() {
        let n = keys().count();
        assert_eq!(n, 18);
        let r = Record::new();
        let lines = Lines::default();
        for i in 0..n {
            let k = keys().nth(i).unwrap();
            assert!(
                k.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{k:?}"
            );
            assert!(r.value(i, &lines).is_some(), "{k} has no value");
            assert_eq!(keys().filter(|&o| o == k).count(), 1, "{k} twice");
        }
        assert_eq!(r.value(n, &lines), None);
        assert_eq!(keys().nth(12), Some("seconds"));
        assert_eq!(r.value(12, &lines), Some(Value::Millis(0)));
    }
}
