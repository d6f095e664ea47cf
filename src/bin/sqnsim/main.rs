//! `sqnsim`: a strict simulator of the Sequans SQN3330 modem on a pseudo-terminal.
//!
//! It plays the modem side of the AT and STP protocols so that the updater can be tested
//! without a board; see `docs/SIMULATOR.md` for its options, behaviour and log format.

pub mod at;
pub mod image;
pub mod log;
pub mod modem;
pub mod opts;
pub mod pty;
pub mod sim;
pub mod stp;
pub mod transfer;

use clap::Parser;

/// Parses the options and runs the simulator.
pub fn main() {
    let opts = opts::Opts::parse();
    std::process::exit(sim::run(opts));
}
