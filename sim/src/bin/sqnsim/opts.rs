//! Command-line options of `sqnsim`, turned into the model's [`Config`].

use std::path::PathBuf;

use clap::{Parser, ValueEnum};
use sqnsim::{Config, Family, Fault};

/// Options of `sqnsim` (see `docs/SIMULATOR.md`).
#[derive(Debug, Clone, Parser)]
#[command(
    name = "sqnsim",
    about = "SQN3330 modem simulator on a pseudo-terminal"
)]
pub struct Opts {
    /// Boot mode at start: 0 FFH/recovery, 1 mTools, 2 application, 4 upgrade.
    #[arg(long, default_value_t = 2, value_parser = parse_state)]
    pub state: u8,
    /// Directory for log.json and the received images (default: a new temp dir).
    #[arg(long)]
    pub record: Option<PathBuf>,
    /// Emulate the wire speed (10 bit times per byte) in both directions.
    #[arg(long)]
    pub baud_pacing: bool,
    /// How long the modem flashes after a transfer or AT+SMUPGRADE, in ms.
    #[arg(long, default_value_t = 1500)]
    pub upgrade_ms: u64,
    /// How long a reset keeps the modem silent before +SYSSTART, in ms.
    #[arg(long, default_value_t = 300)]
    pub reboot_ms: u64,
    /// How late the reply to the ON_THE_FLY block at 8 % comes (erasing flash), in ms.
    #[arg(long, default_value_t = 2000)]
    pub erase_ms: u64,
    /// How late the reply to the last ON_THE_FLY block comes ("99 %"), in ms.
    #[arg(long, default_value_t = 2000)]
    pub finish_ms: u64,
    /// The running firmware build.
    #[arg(long, default_value_t = 38638)]
    pub software_build: u32,
    /// The build of Bootloader0 (33080 needs the bootrom step in recovery).
    #[arg(long, default_value_t = 38638)]
    pub bootloader0: u32,
    /// The firmware family.
    #[arg(long, value_enum, default_value_t = FamilyArg::Catm1)]
    pub family: FamilyArg,
    /// The echo setting the modem starts with (persistent; FFH never echoes). Default: by
    /// state, on in application mode (2), off in 0, 1 and 4.
    #[arg(long, value_enum)]
    pub echo: Option<OnOff>,
    /// The modem's baud rate at start (default: 115200 in state 0, else 921600).
    #[arg(long)]
    pub baud: Option<u32>,
    /// A fault to inject (repeatable), e.g. `drop-reply@3`, `stall@cmd=AT:500`, `repl`.
    #[arg(long = "fault", value_parser = Fault::parse)]
    pub faults: Vec<Fault>,
    /// Accept bytes at any baud rate.
    #[arg(long)]
    pub ignore_baud: bool,
    /// Exit by itself after this many ms.
    #[arg(long)]
    pub exit_after_ms: Option<u64>,
    /// Write a synthetic `.dup` test image to this path and exit (no simulation).
    #[arg(long, value_name = "PATH")]
    pub write_image: Option<PathBuf>,
    /// Size in bytes of the image `--write-image` writes.
    #[arg(long, default_value_t = 5_996_938)]
    pub image_size: usize,
    /// Description inside the image `--write-image` writes (names its build).
    #[arg(long, default_value = "CATM1-41065")]
    pub image_description: String,
}

/// `--family`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FamilyArg {
    /// CAT-M1, LR5.x.
    Catm1,
    /// NB-IoT, LR6.x.
    Nb1,
}

/// `--echo`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnOff {
    /// On.
    On,
    /// Off.
    Off,
}

impl Opts {
    /// The model's configuration.
    pub fn config(&self) -> Config {
        Config {
            state: self.state,
            upgrade_ms: self.upgrade_ms,
            reboot_ms: self.reboot_ms,
            erase_ms: self.erase_ms,
            finish_ms: self.finish_ms,
            software_build: self.software_build,
            bootloader0: self.bootloader0,
            family: match self.family {
                FamilyArg::Catm1 => Family::Catm1,
                FamilyArg::Nb1 => Family::Nb1,
            },
            faults: self.faults.clone(),
            baud_pacing: self.baud_pacing,
            ignore_baud: self.ignore_baud,
            echo: self.echo.map(|e| e == OnOff::On),
            baud: self.baud,
        }
    }
}

fn parse_state(s: &str) -> Result<u8, String> {
    match s {
        "0" | "1" | "2" | "4" => s.parse().map_err(|_| String::new()),
        _ => Err(format!("state must be 0, 1, 2 or 4, not {s}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_parses() {
        let o = Opts::try_parse_from(["sqnsim", "--state", "0", "--fault", "silent"]).unwrap();
        assert_eq!(o.state, 0);
        assert_eq!(o.faults[0].spec(), "silent");
        assert!(Opts::try_parse_from(["sqnsim", "--state", "3"]).is_err());
        assert!(Opts::try_parse_from(["sqnsim", "--fault", "bogus"]).is_err());
    }

    #[test]
    fn defaults_are_the_model_defaults() {
        let o = Opts::try_parse_from(["sqnsim"]).unwrap();
        assert_eq!(o.config(), Config::default());
        let o = Opts::try_parse_from(["sqnsim", "--echo", "off", "--family", "nb1"]).unwrap();
        let c = o.config();
        assert_eq!(c.echo, Some(false));
        assert_eq!(c.family, Family::Nb1);
        // No --echo: the model decides by the start state; --echo on overrides it.
        let o = Opts::try_parse_from(["sqnsim", "--state", "4"]).unwrap();
        assert_eq!(o.config().echo, None);
        let o = Opts::try_parse_from(["sqnsim", "--state", "4", "--echo", "on"]).unwrap();
        assert_eq!(o.config().echo, Some(true));
    }
}
