//! # sqnsupgrade
//!
//! The engine of a firmware updater for the Sequans SQN3330 ("Monarch") LTE modem of Pycom
//! GPy, FiPy and G01 boards. It speaks the modem's AT commands and its binary STP transfer
//! protocol, detects the modem's state and runs every update flow, including recovery.
//!
//! The engine is `no_std` and allocates nothing: the platform hands it small traits
//! ([`hal`]) for the serial link, the clock, the image, a cancel check and an event sink,
//! and a workspace for one call. Around it live the MicroPython module (feature
//! `micropython`, [`mpy`]), and, in their own workspace members, the host side (`host/`:
//! serial ports, the `sqnsupgrade` CLI, the CPython extension module) and the modem
//! simulator (`sim/`).
//!
//! Features: `std` (the standard library: `Display` for the errors), `host` (the default:
//! a computer's errors and command lines, besides `std`), `micropython` (the board).
//!
//! Modules, one concern each:
//! - [`stp`]: STP frames and the host-side session (the wire, binary part);
//! - [`at`]: the AT channel (the wire, text part);
//! - [`image`]: the files and their checks;
//! - [`package`]: which files of the vendor's package (a zip, a folder) an update uses;
//! - [`version`]: parsing versions, IMEI and upgdiff names;
//! - [`state`]: the modem's boot modes;
//! - [`updater`]: the procedures;
//! - [`watch`]: how the engine waits (notes, signs of life, deadlines);
//! - [`error`]: the one error type;
//! - [`console`]: the familiar console output (messages, dots, progress bar);
//! - [`text`]: text without `core::fmt` and without panicking paths.
#![no_std]
#![warn(missing_docs)]

#[cfg(feature = "std")]
extern crate std;

pub mod at;
pub mod console;
pub mod error;
pub mod hal;
pub mod image;
pub mod msg;
pub mod package;
pub mod report;
pub mod state;
pub mod stp;
pub mod text;
pub mod updater;
pub mod version;
pub mod watch;

#[cfg(feature = "micropython")]
pub mod mpy;

pub use error::{Error, FileProblem, FileRole};

/// The engine's version: the one the welcome line says ([`console::welcome`]).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
pub use hal::{Cancel, Clock, Event, Events, Hal, ImageSource, Link, Parts, Payload, Stage};
pub use state::State;
pub use updater::{
    Failure, Method, MethodChoice, ModemInfo, Options, Outcome, Timeouts, Updater, Workspace,
};

/// The bare engine (no platform): a panic cannot be reported anywhere, so it stops.
/// Firmware builds use the MicroPython layer's handler instead, which prints what
/// happened and resets the board; the firmware check in `make test` shows that no panic
/// path is linked at all.
#[cfg(all(not(feature = "std"), not(feature = "micropython"), not(test)))]
#[panic_handler]
fn panic(_info: &core::panic::PanicInfo<'_>) -> ! {
    loop {}
}
