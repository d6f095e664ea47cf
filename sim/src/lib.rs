//! `sqnsim`: a strict simulator of the Sequans SQN3330 modem.
//!
//! It plays the modem side of the AT and STP protocols so that the updater can be tested
//! without a board; see `docs/SIMULATOR.md` for its options, behaviour and log format.
//! The library holds the modem; the `sqnsim` binary serves it on a pseudo-terminal.

pub mod at;
pub mod image;
pub mod log;
pub mod modem;
pub mod opts;
pub mod pty;
pub mod sim;
pub mod stp;
pub mod transfer;
