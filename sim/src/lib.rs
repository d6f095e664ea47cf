//! `sqnsim`: a strict simulator of the Sequans SQN3330 modem.
//!
//! It plays the modem side of the AT and STP protocols of `docs/PROTOCOL.md` so that an
//! updater can be tested without a board. The library is the modem itself ([`Modem`],
//! configured by [`Config`]), driven by the caller's clock: tests run it in-process in
//! virtual time; the `sqnsim` binary serves it on a pseudo-terminal in real time. See
//! `docs/SIMULATOR.md` for the options, faults, behaviour and log format.
#![warn(missing_docs)]

pub mod at;
pub mod fault;
pub mod image;
pub mod link;
pub mod log;
pub mod model;
pub mod repl;
pub mod stp;
pub mod wire;

pub use model::{
    default_echo, Command, Config, Event, Family, Fault, FaultKind, Log, Modem, Status, Transfer,
    TransferKind, When, FAST_BAUD, FFH_BAUD,
};
