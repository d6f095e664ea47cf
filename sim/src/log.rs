//! The JSON log (`DIR/log.json`), written atomically.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::{json, Value};

/// One STP transfer as logged.
#[derive(Debug, Clone, Default)]
pub struct TransferRec {
    /// The command that started it.
    pub via: String,
    /// Max transfer announced.
    pub max_transfer: u16,
    /// Bytes stored.
    pub bytes: u64,
    /// Blocks stored (resends not counted).
    pub blocks: u64,
    /// Requests answered again as resends.
    pub resends: u64,
    /// True when the final RESET came after all blocks.
    pub complete: bool,
    /// Still running.
    pub active: bool,
    /// Where the bytes are.
    pub file: String,
    /// What the modem made of it (image, updater, bootrom, ...).
    pub kind: String,
}

impl TransferRec {
    fn to_json(&self) -> Value {
        json!({
            "via": self.via, "max_transfer": self.max_transfer, "bytes": self.bytes,
            "blocks": self.blocks, "resends": self.resends, "complete": self.complete,
            "active": self.active, "file": self.file, "kind": self.kind,
        })
    }
}

/// The modem fields shown at the top of the log.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Boot mode.
    pub state: u8,
    /// Modem baud rate.
    pub baud: u32,
    /// Echo on.
    pub echo: bool,
    /// Running build.
    pub software_build: u32,
    /// Bootloader0 build.
    pub bootloader0: u32,
    /// Bootrom package received.
    pub bootrom: bool,
    /// Upgrade report (`success`, `fail`, `on-going`) or None.
    pub upgrade: Option<&'static str>,
    /// In PPP data mode.
    pub data_mode: bool,
}

/// Everything the simulator records.
#[derive(Debug)]
pub struct Log {
    start: Instant,
    path: PathBuf,
    /// Command records.
    pub commands: Vec<Value>,
    /// Transfer records.
    pub transfers: Vec<TransferRec>,
    /// Protocol violations.
    pub violations: Vec<String>,
    /// Notable modem events (resets, boots, upgrades).
    pub events: Vec<Value>,
    /// Bytes dropped (modem resetting or baud mismatch).
    pub dropped_bytes: u64,
    /// Static facts (pty, faults, ...).
    pub info: Value,
}

impl Log {
    /// A log written to `dir/log.json`.
    pub fn new(dir: &Path, info: Value) -> Log {
        Log {
            start: Instant::now(),
            path: dir.join("log.json"),
            commands: Vec::new(),
            transfers: Vec::new(),
            violations: Vec::new(),
            events: Vec::new(),
            dropped_bytes: 0,
            info,
        }
    }

    /// Milliseconds since start.
    pub fn t_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    /// Records a violation (also on stderr).
    pub fn violation(&mut self, v: String) {
        eprintln!("sqnsim: violation: {v}");
        self.violations.push(v);
    }

    /// Records an event.
    pub fn event(&mut self, what: &str) {
        let t = self.t_ms();
        self.events.push(json!({"t_ms": t, "event": what}));
    }

    /// Builds the whole log document.
    pub fn to_json(&self, s: &Snapshot) -> Value {
        let transfers: Vec<Value> = self.transfers.iter().map(TransferRec::to_json).collect();
        json!({
            "state": s.state, "baud": s.baud, "echo": s.echo, "software_build": s.software_build,
            "bootloader0": s.bootloader0, "bootrom_received": s.bootrom, "data_mode": s.data_mode,
            "commands": self.commands, "transfers": transfers, "violations": self.violations,
            "events": self.events, "dropped_bytes": self.dropped_bytes, "info": self.info,
            "result": {"upgrade": s.upgrade, "software_build": s.software_build},
        })
    }

    /// Writes the log to a temp file and renames it into place.
    pub fn write(&self, s: &Snapshot) {
        let tmp = self.path.with_extension("json.tmp");
        let text = serde_json::to_string_pretty(&self.to_json(s)).unwrap_or_default();
        let r = std::fs::write(&tmp, text).and_then(|_| std::fs::rename(&tmp, &self.path));
        if let Err(e) = r {
            eprintln!("sqnsim: cannot write {}: {e}", self.path.display());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_atomically() {
        let dir = std::env::temp_dir().join(format!("sqnsim-logtest-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut log = Log::new(&dir, json!({}));
        log.violation("x".into());
        log.transfers.push(TransferRec {
            complete: true,
            ..Default::default()
        });
        let snap = Snapshot {
            state: 2,
            upgrade: Some("success"),
            ..Default::default()
        };
        log.write(&snap);
        let v: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("log.json")).unwrap()).unwrap();
        assert_eq!(v["state"], 2);
        assert_eq!(v["violations"][0], "x");
        assert_eq!(v["transfers"][0]["complete"], true);
        assert_eq!(v["result"]["upgrade"], "success");
        assert!(!dir.join("log.json.tmp").exists());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
