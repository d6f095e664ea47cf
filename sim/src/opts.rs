//! Command-line options and fault specifications of the simulator.

use std::path::PathBuf;

use clap::{Parser, ValueEnum};

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
    /// The running firmware build.
    #[arg(long, default_value_t = 38638)]
    pub software_build: u32,
    /// The build of Bootloader0 (33080 needs the bootrom step in recovery).
    #[arg(long, default_value_t = 38638)]
    pub bootloader0: u32,
    /// The firmware family.
    #[arg(long, value_enum, default_value_t = Family::Catm1)]
    pub family: Family,
    /// A fault to inject (repeatable), e.g. `drop-reply@3` or `stall@2:500`.
    #[arg(long = "fault", value_parser = parse_fault)]
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

/// The firmware family of the simulated modem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Family {
    /// CAT-M1, LR5.x.
    Catm1,
    /// NB-IoT, LR6.x.
    Nb1,
}

/// One injected fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The reply to the N-th TRANSFER_BLOCK has a flipped CRC byte.
    CorruptReply(u32),
    /// The reply to the N-th TRANSFER_BLOCK is not sent.
    DropReply(u32),
    /// The reply to the N-th TRANSFER_BLOCK comes this many ms late.
    Stall(u32, u64),
    /// The N-th TRANSFER_BLOCK keeps only L - R bytes.
    Residue(u32, u16),
    /// At the N-th TRANSFER_BLOCK the modem reboots into upgrade mode.
    Reboot(u32),
    /// `AT+SMSWBOOT=3,1` and `=1,1` answer ERROR.
    SwbootError,
    /// Every `AT+SMSWBOOT=...` answers ERROR.
    SwbootErrorAll,
    /// The modem never answers.
    Silent,
    /// The modem starts in data mode.
    DataMode,
    /// The modem answers only at 115200.
    Only115200,
}

impl Fault {
    /// The 1-based TRANSFER_BLOCK number a block fault applies to.
    pub fn block(&self) -> Option<u32> {
        match *self {
            Fault::CorruptReply(n) | Fault::DropReply(n) | Fault::Reboot(n) => Some(n),
            Fault::Stall(n, _) | Fault::Residue(n, _) => Some(n),
            _ => None,
        }
    }
}

/// The faults of a run: per-block faults fire once, flags hold for the whole run.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    blocks: Vec<(Fault, bool)>,
    /// `swboot-error`.
    pub swboot_error: bool,
    /// `swboot-error-all`.
    pub swboot_error_all: bool,
    /// `silent`.
    pub silent: bool,
    /// `data-mode`.
    pub data_mode: bool,
    /// `only-115200`.
    pub only_115200: bool,
}

impl Faults {
    /// Sorts the given faults.
    pub fn new(list: &[Fault]) -> Faults {
        let mut f = Faults::default();
        for &x in list {
            match x {
                Fault::SwbootError => f.swboot_error = true,
                Fault::SwbootErrorAll => f.swboot_error_all = true,
                Fault::Silent => f.silent = true,
                Fault::DataMode => f.data_mode = true,
                Fault::Only115200 => f.only_115200 = true,
                _ => f.blocks.push((x, false)),
            }
        }
        f
    }

    /// The not yet fired faults for TRANSFER_BLOCK `n`, now marked fired.
    pub fn take(&mut self, n: u32) -> Vec<Fault> {
        let mut hit = Vec::new();
        for (f, fired) in self.blocks.iter_mut() {
            if !*fired && f.block() == Some(n) {
                *fired = true;
                hit.push(*f);
            }
        }
        hit
    }
}

fn parse_state(s: &str) -> Result<u8, String> {
    match s {
        "0" | "1" | "2" | "4" => Ok(s.parse().unwrap_or(2)),
        _ => Err(format!("state must be 0, 1, 2 or 4, not {s}")),
    }
}

fn num<T: std::str::FromStr>(s: &str, what: &str) -> Result<T, String> {
    s.parse().map_err(|_| format!("bad {what} in fault: {s:?}"))
}

/// Parses a fault SPEC such as `corrupt-reply@3`, `stall@2:500` or `silent`.
pub fn parse_fault(spec: &str) -> Result<Fault, String> {
    let Some((name, arg)) = spec.split_once('@') else {
        return parse_flag_fault(spec);
    };
    let (n, extra) = match arg.split_once(':') {
        Some((n, x)) => (num::<u32>(n, "block number")?, Some(x)),
        None => (num::<u32>(arg, "block number")?, None),
    };
    if n == 0 {
        return Err("block numbers start at 1".into());
    }
    match (name, extra) {
        ("corrupt-reply", None) => Ok(Fault::CorruptReply(n)),
        ("drop-reply", None) => Ok(Fault::DropReply(n)),
        ("reboot", None) => Ok(Fault::Reboot(n)),
        ("stall", Some(ms)) => Ok(Fault::Stall(n, num(ms, "ms")?)),
        ("residue", Some(r)) => Ok(Fault::Residue(n, num(r, "residue")?)),
        _ => Err(format!("unknown fault {spec:?}")),
    }
}

fn parse_flag_fault(spec: &str) -> Result<Fault, String> {
    match spec {
        "swboot-error" => Ok(Fault::SwbootError),
        "swboot-error-all" => Ok(Fault::SwbootErrorAll),
        "silent" => Ok(Fault::Silent),
        "data-mode" => Ok(Fault::DataMode),
        "only-115200" => Ok(Fault::Only115200),
        _ => Err(format!("unknown fault {spec:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_parse() {
        assert_eq!(parse_fault("corrupt-reply@3"), Ok(Fault::CorruptReply(3)));
        assert_eq!(parse_fault("drop-reply@1"), Ok(Fault::DropReply(1)));
        assert_eq!(parse_fault("stall@2:500"), Ok(Fault::Stall(2, 500)));
        assert_eq!(parse_fault("residue@4:100"), Ok(Fault::Residue(4, 100)));
        assert_eq!(parse_fault("reboot@9"), Ok(Fault::Reboot(9)));
        assert_eq!(parse_fault("only-115200"), Ok(Fault::Only115200));
        assert!(parse_fault("stall@2").is_err());
        assert!(parse_fault("drop-reply@0").is_err());
        assert!(parse_fault("bogus").is_err());
    }

    #[test]
    fn block_faults_fire_once() {
        let mut f = Faults::new(&[Fault::DropReply(2), Fault::Stall(2, 10), Fault::Silent]);
        assert!(f.silent);
        assert!(f.take(1).is_empty());
        assert_eq!(f.take(2).len(), 2);
        assert!(f.take(2).is_empty());
    }

    #[test]
    fn cli_parses() {
        let o = Opts::try_parse_from(["sqnsim", "--state", "0", "--fault", "silent"]).unwrap();
        assert_eq!(o.state, 0);
        assert_eq!(o.faults, vec![Fault::Silent]);
        assert!(Opts::try_parse_from(["sqnsim", "--state", "3"]).is_err());
    }
}
