//! `sqnsim`: a strict simulator of the Sequans SQN3330 modem on a pseudo-terminal.
//!
//! It plays the modem side of the AT and STP protocols so that the updater can be tested
//! without a board; see `docs/SIMULATOR.md` for its options, behaviour and log format.

use clap::Parser;
use sqnsim::{image, opts, sim};

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
    std::process::exit(sim::run(opts));
}
