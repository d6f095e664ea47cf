//! What the modem records, in memory: commands, transfers with their bytes, violations,
//! events and the states it went through; [`Log::to_json`] renders the `log.json` shape.

use serde_json::{json, Value};

/// One AT command line the modem received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// When its last byte arrived (the caller's clock, µs).
    pub t_us: u64,
    /// The line as received (trimmed).
    pub cmd: String,
    /// Its number among all requests (AT lines and STP frames, from 1).
    pub req: u32,
    /// The modem's baud rate then.
    pub baud: u32,
    /// The boot mode then (0..4).
    pub state: u8,
    /// `OK`, `ERROR`, or empty when nothing was answered.
    pub reply: String,
    /// The reply's text lines (before `OK`/`ERROR`).
    pub lines: Vec<String>,
    /// True for commands that ask for a change of the modem (boot switches, STP entry,
    /// upgrade, reset, radio, notifications, baud, binding, the echo setting); reading
    /// commands (`AT`, `AT+SMOD?`, `ATI1`, …) are false.
    pub changes_modem: bool,
    /// Something special about it (e.g. `left data mode`, `fault: reboot`).
    pub note: Option<String>,
}

/// What a transfer carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferKind {
    /// A firmware image (`AT+SMSTPU`, `AT+SMSTPU="ON_THE_FLY"`).
    Firmware,
    /// updater.elf (`AT+STP`).
    Updater,
    /// The bootrom package (ON_THE_FLY in upgrade mode with Bootloader0 33080).
    Bootrom,
}

impl TransferKind {
    /// Its name in the JSON log.
    pub fn name(self) -> &'static str {
        match self {
            TransferKind::Firmware => "firmware",
            TransferKind::Updater => "updater",
            TransferKind::Bootrom => "bootrom",
        }
    }
}

/// One STP transfer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    /// The command that started it.
    pub via: String,
    /// What it carried.
    pub kind: TransferKind,
    /// The max transfer announced in the SESSION_OPEN reply.
    pub max_transfer: u16,
    /// The bytes stored, in order (resends not stored twice, residue left out).
    pub data: Vec<u8>,
    /// TRANSFER_BLOCKs stored (resends not counted).
    pub blocks: u64,
    /// Requests answered again as resends.
    pub resends: u64,
    /// True when a RESET closed the session between blocks and the image (when its
    /// header announces a size) is whole.
    pub complete: bool,
    /// Still running.
    pub active: bool,
    /// When it started (µs, caller's clock).
    pub started_us: u64,
    /// When it ended, if it did.
    pub ended_us: Option<u64>,
}

impl Transfer {
    /// The bytes received.
    pub fn bytes(&self) -> &[u8] {
        &self.data
    }
}

/// Something the modem did by itself or that happened to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// When (µs, caller's clock).
    pub t_us: u64,
    /// What.
    pub what: String,
}

/// The modem fields at the top of the JSON log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Status {
    /// Boot mode (0..4).
    pub state: u8,
    /// The modem's baud rate.
    pub baud: u32,
    /// The persistent echo setting.
    pub echo: bool,
    /// The running build.
    pub software_build: u32,
    /// Bootloader0's build.
    pub bootloader0: u32,
    /// A bootrom package was flashed.
    pub bootrom: bool,
    /// `AT+SMUPGRADE?`'s word (`success`, `fail`, `on-going`), None for `No report`.
    pub upgrade: Option<&'static str>,
    /// In PPP data mode.
    pub data_mode: bool,
    /// The port vanished (fault).
    pub link_gone: bool,
}

/// Everything the modem records.
#[derive(Debug, Clone, Default)]
pub struct Log {
    pub(crate) origin_us: u64,
    pub(crate) commands: Vec<Command>,
    pub(crate) transfers: Vec<Transfer>,
    pub(crate) violations: Vec<String>,
    pub(crate) events: Vec<Event>,
    pub(crate) states: Vec<(u64, u8)>,
    pub(crate) dropped_bytes: u64,
    pub(crate) dropped_output: u64,
    pub(crate) requests: u32,
    pub(crate) status: Status,
    pub(crate) faults: Vec<String>,
    pub(crate) family: &'static str,
    pub(crate) revision: u64,
}

impl Log {
    /// The AT command lines received, in order.
    pub fn commands(&self) -> &[Command] {
        &self.commands
    }

    /// Protocol violations by the host, in order.
    pub fn violations(&self) -> &[String] {
        &self.violations
    }

    /// The STP transfers, in order.
    pub fn transfers(&self) -> &[Transfer] {
        &self.transfers
    }

    /// Resets, boots, flashes, transfer ends, fired faults.
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// The boot modes the modem went through: (µs, mode), the first at start.
    pub fn states(&self) -> &[(u64, u8)] {
        &self.states
    }

    /// Received bytes the modem dropped (resetting, wrong baud, data mode).
    pub fn dropped_bytes(&self) -> u64 {
        self.dropped_bytes
    }

    /// Bytes the modem sent that the host could not read (wrong baud).
    pub fn dropped_output(&self) -> u64 {
        self.dropped_output
    }

    /// Requests so far (AT command lines and STP frames).
    pub fn requests(&self) -> u32 {
        self.requests
    }

    /// The modem's state as the log shows it at the top.
    pub fn status(&self) -> &Status {
        &self.status
    }

    /// Grows whenever a command, event, violation or transfer is added or a transfer
    /// ends (not for each block): a writer can tell when to write again.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// The commands' texts, in order.
    pub fn command_texts(&self) -> Vec<&str> {
        self.commands.iter().map(|c| c.cmd.as_str()).collect()
    }

    fn ms(&self, t_us: u64) -> u64 {
        t_us.saturating_sub(self.origin_us) / 1000
    }

    pub(crate) fn violation(&mut self, v: String) {
        self.violations.push(v);
        self.revision += 1;
    }

    pub(crate) fn event(&mut self, t_us: u64, what: String) {
        self.events.push(Event { t_us, what });
        self.revision += 1;
    }

    pub(crate) fn command(&mut self, c: Command) {
        self.commands.push(c);
        self.revision += 1;
    }

    /// The JSON document of `log.json` (transfers' `file` is null: the bytes are in
    /// memory; the binary fills in the file it wrote).
    pub fn to_json(&self) -> Value {
        let s = &self.status;
        let commands: Vec<Value> = self
            .commands
            .iter()
            .map(|c| {
                let mut v = json!({"t_ms": self.ms(c.t_us), "req": c.req, "baud": c.baud,
                    "state": c.state, "cmd": c.cmd, "reply": c.reply, "lines": c.lines,
                    "changes_modem": c.changes_modem});
                if let Some(n) = &c.note {
                    v["note"] = json!(n);
                    if n == "left data mode" {
                        v["left_data_mode"] = json!(true);
                    }
                }
                v
            })
            .collect();
        let transfers: Vec<Value> = self
            .transfers
            .iter()
            .map(|t| {
                json!({"via": t.via, "max_transfer": t.max_transfer, "bytes": t.data.len(),
                    "blocks": t.blocks, "resends": t.resends, "complete": t.complete,
                    "active": t.active, "file": null, "kind": t.kind.name(),
                    "t_ms": self.ms(t.started_us), "end_ms": t.ended_us.map(|e| self.ms(e))})
            })
            .collect();
        let events: Vec<Value> = self
            .events
            .iter()
            .map(|e| json!({"t_ms": self.ms(e.t_us), "event": e.what}))
            .collect();
        let states: Vec<Value> = self
            .states
            .iter()
            .map(|(t, m)| json!({"t_ms": self.ms(*t), "state": m}))
            .collect();
        json!({
            "state": s.state, "baud": s.baud, "echo": s.echo, "software_build": s.software_build,
            "bootloader0": s.bootloader0, "bootrom_received": s.bootrom, "data_mode": s.data_mode,
            "link_gone": s.link_gone, "requests": self.requests,
            "commands": commands, "transfers": transfers, "violations": self.violations,
            "events": events, "states": states, "dropped_bytes": self.dropped_bytes,
            "dropped_output": self.dropped_output,
            "info": {"faults": self.faults, "family": self.family},
            "result": {"upgrade": s.upgrade, "software_build": s.software_build},
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_shape() {
        let mut log = Log {
            origin_us: 1_000,
            family: "catm1",
            ..Default::default()
        };
        log.violation("x".into());
        log.command(Command {
            t_us: 13_000,
            cmd: "AT+SMOD?".into(),
            req: 1,
            baud: 921_600,
            state: 2,
            reply: "OK".into(),
            lines: vec!["2".into()],
            changes_modem: false,
            note: None,
        });
        log.transfers.push(Transfer {
            via: "AT+SMSTPU".into(),
            kind: TransferKind::Firmware,
            max_transfer: 8192,
            data: vec![1, 2, 3],
            blocks: 1,
            resends: 0,
            complete: true,
            active: false,
            started_us: 1_000,
            ended_us: Some(2_000),
        });
        log.status = Status {
            state: 2,
            upgrade: Some("success"),
            ..Default::default()
        };
        let v = log.to_json();
        assert_eq!(v["state"], 2);
        assert_eq!(v["violations"][0], "x");
        assert_eq!(v["commands"][0]["cmd"], "AT+SMOD?");
        assert_eq!(v["commands"][0]["t_ms"], 12);
        assert_eq!(v["commands"][0]["changes_modem"], false);
        assert_eq!(v["transfers"][0]["complete"], true);
        assert_eq!(v["transfers"][0]["bytes"], 3);
        assert_eq!(v["transfers"][0]["kind"], "firmware");
        assert!(v["transfers"][0]["file"].is_null());
        assert_eq!(v["result"]["upgrade"], "success");
        assert_eq!(log.revision(), 2);
    }
}
