//! One report for every front end: the options a user gives and their checks, the status
//! codes, the result record, the four failure lines (`error:`, `hint:`, `modem:`,
//! `next:`) and the command that continues, written for the shell (the CLI), for CPython
//! and for MicroPython.
//!
//! The front ends print what this module gives them and decide nothing: the CLI, the
//! CPython library and the MicroPython module all call [`write_failure`] (or its parts)
//! with the user's [`Request`] and their [`Frontend`].
//!
//! The `next:` line is always one command that runs as printed (after the hint's advice,
//! such as a power cycle): the same command, the update with other files, or the state.
//! A placeholder in angle brackets (`<updater.elf>`) appears only where the user must
//! supply a file.
//!
//! One concern a file: [`request`] (the options and their checks, the status codes),
//! [`next`] (which command continues), [`lines`] (the four failure lines), [`command`]
//! (that command written for the shell or for Python), [`quote`] (quoting), [`record`] (the
//! result record and its keys), [`call`] (the board call's options by name).

pub mod call;
pub mod command;
pub mod lines;
pub mod next;
pub mod quote;
pub mod record;
pub mod request;

pub use command::write_next;
pub use lines::{write_error, write_failure, write_hint, write_modem, write_state, LABELS};
pub use next::{next_step, Arg, NextStep};
pub use record::{keys, Lines, Record, Value, KEYS};
#[cfg(feature = "host")]
pub use request::sha256_digest;
pub use request::{failure_status, status, Command, Frontend, Request, UserOptions};

// The next steps of computers and boards: the computer's command lines included.
#[cfg(all(test, feature = "host"))]
mod tests;
