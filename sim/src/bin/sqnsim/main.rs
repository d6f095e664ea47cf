//! `sqnsim`: the SQN3330 modem simulator on a pseudo-terminal.
//!
//! A thin driver around the library's [`sqnsim::Modem`]: it opens a pty, reads the host's
//! baud rate from its termios, feeds the modem with the real clock (µs since start),
//! handles signals (SIGTERM/SIGINT write the log and exit, SIGUSR1 is a power cycle) and
//! writes `--record` files. See `docs/SIMULATOR.md`.

mod driver;
mod opts;
mod pty;

use clap::Parser;
use sqnsim::image;

/// Parses the options and runs the simulator.
pub fn main() {
    let opts = opts::Opts::parse();
    if let Some(path) = &opts.write_image {
        let data = image::synthetic_dup(opts.image_size, &opts.image_description);
        if let Err(e) = data.and_then(|d| std::fs::write(path, d).map_err(|e| e.to_string())) {
            eprintln!("sqnsim: cannot write {}: {e}", path.display());
            std::process::exit(1);
        }
        println!(
            "{{\"image\": {:?}, \"size\": {}}}",
            path.display().to_string(),
            opts.image_size
        );
        return;
    }
    std::process::exit(driver::run(opts));
}
