//! AT commands: what each one does in each boot mode, and the shape of the replies.

use super::transfer::Kind as StpKind;
use super::{Modem, Then, Timer};
use crate::at::{self, Cmd};
use crate::fault::{Kind, Occasion};
use crate::log::Command;

/// The IMEI the simulator reports.
pub const IMEI: &str = "354347090000123";
/// Bootloader0 build that needs the bootrom package.
pub const OLD_BOOTLOADER: u32 = 33080;
/// Largest transfer taken as a bootrom package.
pub const BOOTROM_MAX: u64 = 128 * 1024;
/// Largest image the modem can store first (FFF).
pub const FFF_MAX: u64 = 4 * 1024 * 1024;
/// Max transfer of `AT+SMSTPU`.
pub const MAX_UPGRADE: u16 = 8192;
/// Max transfer of `AT+STP`.
pub const MAX_FFH: u16 = 2048;

/// The `AT+SMUPGRADE?` report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upgrade {
    /// Flashing.
    OnGoing,
    /// Done well.
    Success,
    /// Failed.
    Fail,
}

impl Upgrade {
    /// The word the modem prints.
    pub fn word(self) -> &'static str {
        match self {
            Upgrade::OnGoing => "on-going",
            Upgrade::Success => "success",
            Upgrade::Fail => "fail",
        }
    }
}

/// A flash decided when an image was received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flash {
    /// Whether it will succeed.
    pub ok: bool,
    /// The software build it installs.
    pub build: Option<u32>,
    /// It is the bootrom package.
    pub bootrom: bool,
    /// What it is, or why it fails.
    pub note: String,
}

/// What happens after the reply.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Effect {
    None,
    EnterStp(StpKind, u16),
    Reset(u8),
    SetBaud(u32),
    Upgrade(Flash),
}

/// The modem's answer to one command.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Answer {
    lines: Vec<String>,
    ok: bool,
    effect: Effect,
    violation: Option<String>,
}

fn ok() -> Answer {
    Answer {
        lines: Vec::new(),
        ok: true,
        effect: Effect::None,
        violation: None,
    }
}

fn error() -> Answer {
    Answer { ok: false, ..ok() }
}

fn bad(v: String) -> Answer {
    Answer {
        violation: Some(v),
        ..error()
    }
}

fn lines(l: &[String]) -> Answer {
    Answer {
        lines: l.to_vec(),
        ..ok()
    }
}

fn effect(e: Effect) -> Answer {
    Answer { effect: e, ..ok() }
}

/// Commands refused while an upgrade is on-going.
fn disturbs_flash(c: &Cmd) -> bool {
    matches!(
        c,
        Cmd::Swboot(_) | Cmd::Reset | Cmd::Stpu | Cmd::StpuOnTheFly | Cmd::Stp | Cmd::Upgrade
    )
}

fn arg_in(a: &str, allowed: &[&str]) -> Answer {
    if allowed.iter().any(|x| x.eq_ignore_ascii_case(a)) {
        ok()
    } else {
        bad(format!(
            "unexpected argument {a:?} (known: {})",
            allowed.join(" ")
        ))
    }
}

/// Inverts one byte of `out`.
fn flip(out: &mut [u8], at: usize) {
    if let Some(b) = out.get_mut(at.min(out.len().saturating_sub(1))) {
        *b ^= 0xff;
    }
}

impl Modem {
    /// A complete line arrived in AT mode.
    pub(super) fn command_line(&mut self, line: String) {
        if !at::is_at_line(&line) {
            self.log.event(
                self.t_us(),
                format!("ignored a line not starting with AT: {line:?}"),
            );
            return;
        }
        self.requests += 1;
        let req = self.requests;
        let t_ms = self.t_ms();
        let hits = self.faults.at(req, Occasion::Command(&line), t_ms);
        let mut late = if self.silent || self.hung {
            0
        } else {
            self.faults.late_ms()
        };
        for h in &hits {
            if let Kind::Stall(ms) | Kind::Late(ms) = h {
                late += ms;
            }
        }
        if late > 0 {
            self.busy_for(late, Then::Line(line, req, hits));
        } else {
            self.handle_line(line, req, hits);
        }
    }

    /// Handles one command line now.
    pub(super) fn handle_line(&mut self, line: String, req: u32, hits: Vec<Kind>) {
        let cmd = at::parse(&line);
        let mut rec = Command {
            t_us: self.t_us(),
            cmd: line.clone(),
            req,
            baud: self.baud,
            state: self.mode,
            reply: String::new(),
            lines: Vec::new(),
            changes_modem: at::changes_modem(&cmd),
            note: None,
        };
        if self.silent || self.hung {
            self.log.command(rec);
            return;
        }
        if let Some(&kind) = hits.iter().find(|k| k.is_event()) {
            rec.note = Some(format!("fault: {kind:?}"));
            self.log.command(rec);
            self.event_fault(kind, &line);
            return;
        }
        let ans = if hits.contains(&Kind::Error) {
            error()
        } else {
            self.execute(&cmd)
        };
        if let Some(v) = &ans.violation {
            self.log.violation(format!("{line}: {v}"));
        }
        let stp = match ans.effect {
            Effect::EnterStp(k, _) if ans.ok => Some(k),
            _ => None,
        };
        let mut out = self.render(&ans.lines, ans.ok, stp);
        if matches!(stp, Some(StpKind::Store | StpKind::OnTheFly)) {
            let mut n = self.faults.stpu_noise();
            for h in &hits {
                if let Kind::StpuNoise(k) = h {
                    n += k;
                }
            }
            let noise: Vec<u8> = [0x00u8, 0xf0, 0xff, 0x80]
                .iter()
                .copied()
                .cycle()
                .take(n)
                .collect();
            out.splice(0..0, noise);
        }
        for h in &hits {
            match *h {
                Kind::DropReply => out.clear(),
                Kind::CorruptReply => {
                    let word = if ans.ok { &b"OK"[..] } else { b"ERROR" };
                    if let Some(p) = out.windows(word.len()).rposition(|w| w == word) {
                        flip(&mut out, p);
                    }
                }
                Kind::Flip(i) => {
                    let at = i.unwrap_or(out.len() / 2);
                    flip(&mut out, at);
                }
                _ => {}
            }
        }
        self.send(&out);
        rec.reply = if ans.ok { "OK" } else { "ERROR" }.into();
        rec.lines = ans.lines;
        self.log.command(rec);
        self.apply(ans.effect, &line);
    }

    /// The bytes of a reply: `\r\n<line>\r\n`… `\r\nOK\r\n` in application, updater and
    /// upgrade mode; `<line>\r\n`… `OK\r\n` in FFH (the observed `0\r\nOK\r\n`); exactly
    /// `OK\r\n` before an `AT+SMSTPU` session and `OK` before an `AT+STP` one.
    pub(super) fn render(&self, lines: &[String], ok: bool, stp: Option<StpKind>) -> Vec<u8> {
        match stp {
            Some(StpKind::Updater) => return b"OK".to_vec(),
            Some(_) => return b"OK\r\n".to_vec(),
            None => {}
        }
        let word = if ok { "OK" } else { "ERROR" };
        let mut s = String::new();
        if matches!(self.mode, 0 | 1) {
            for l in lines {
                s.push_str(l);
                s.push_str("\r\n");
            }
            s.push_str(word);
            s.push_str("\r\n");
        } else {
            for l in lines {
                s.push_str("\r\n");
                s.push_str(l);
                s.push_str("\r\n");
            }
            s.push_str("\r\n");
            s.push_str(word);
            s.push_str("\r\n");
        }
        s.into_bytes()
    }

    fn apply(&mut self, e: Effect, line: &str) {
        match e {
            Effect::None => {}
            Effect::EnterStp(kind, max) => self.start_transfer(kind, max, line),
            Effect::Reset(target) => self.start_reset(target, false),
            Effect::SetBaud(b) => {
                let at = self.tx.free_at().max(self.now);
                self.schedule(at, Timer::Baud(b));
            }
            Effect::Upgrade(flash) => {
                self.upgrade = Some(Upgrade::OnGoing);
                self.log
                    .event(self.t_us(), format!("FFF upgrade starts: {}", flash.note));
                self.fff = Some(flash);
                self.start_reset(3, false);
            }
        }
    }

    fn version(&self) -> (&'static str, &'static str) {
        match self.cfg.family {
            super::Family::Catm1 => ("5.1.1.0", "UE5.0.0.0d"),
            super::Family::Nb1 => ("6.0.0.0", "UE6.0.0.0"),
        }
    }

    fn showver(&self) -> String {
        let (v, ue) = self.version();
        let (b0, sw) = (self.cfg.bootloader0, self.software_build);
        let rows = [
            "SYSTEM VERSION".to_string(),
            "==============".to_string(),
            "  FIRMWARE VERSION".to_string(),
            format!("    Bootloader0  : {v} [{b0}]"),
            format!("    Bootloader1* : {v} [{sw}]"),
            format!("    Bootloader2  : {v} [{sw}]"),
            "    NV Info      : 1.1,0,0".to_string(),
            format!("    Software     : {v} [{sw}] by robot-soft at 2018-08-20 09:51:46"),
            format!("    UE           : {}", &ue[2..]),
            "  COMPONENTS".to_string(),
            "    ZSP0         : 1.0.99-13604".to_string(),
            "    ZSP1         : 1.0.99-12341".to_string(),
        ];
        rows.join("\r\n")
    }

    fn boot_word(&self) -> &'static str {
        match self.boot_select.unwrap_or(self.mode) {
            2 | 3 => "FFF",
            4 => "RECOVERY",
            _ => "FFH",
        }
    }

    /// Handles one recognised command.
    fn execute(&mut self, c: &Cmd) -> Answer {
        if self.upgrade == Some(Upgrade::OnGoing) && disturbs_flash(c) {
            return bad("sent while the upgrade is on-going (poll AT+SMUPGRADE? first)".into());
        }
        match c {
            Cmd::At => ok(),
            Cmd::Echo(on) => {
                // The setting is the modem's, whatever mode takes the command: the field
                // updater's one `ATE0` runs in mTools mode too (PROTOCOL.md 6), and its
                // exact reads after the later boot switch worked (section 3).
                self.echo = *on;
                ok()
            }
            Cmd::Ati => lines(&["SEQUANS Communications".into(), "SQN3330".into()]),
            Cmd::Ati1 | Cmd::Showver | Cmd::Cgsn if self.mode == 0 => error(),
            Cmd::Ati1 => {
                let (v, ue) = self.version();
                lines(&[ue.into(), format!("LR{v}-{}", self.software_build)])
            }
            Cmd::Showver => lines(&[self.showver()]),
            Cmd::Cgsn => lines(&[IMEI.into()]),
            Cmd::SmodQ => lines(&[self.mode.to_string()]),
            Cmd::SmlogQ => lines(&["+SMLOG: LOG_INHERIT".into()]),
            Cmd::FsRdFile(_) => error(),
            Cmd::SwbootQ => lines(&[format!("+SMSWBOOT: {}", self.boot_word())]),
            Cmd::UpgradeQ => lines(&[format!(
                "+SMUPGRADE: {}",
                self.upgrade.map_or("No report", Upgrade::word)
            )]),
            Cmd::IprQ => lines(&[format!("+IPR: {}", self.baud)]),
            Cmd::Unknown => bad("unknown command".into()),
            _ => self.change(c),
        }
    }

    /// Commands that change the modem.
    fn change(&mut self, c: &Cmd) -> Answer {
        match c {
            Cmd::Bind(a) => arg_in(a, &["AT"]),
            Cmd::UpgradeNtf(a) => arg_in(a, &["\"started\"", "\"success\""]),
            Cmd::SqnWl(a) => arg_in(a, &["\"sqndcc\",2"]),
            Cmd::Cfun(a) => arg_in(a, &["0", "1", "4"]),
            Cmd::Swboot(arg) => self.swboot(*arg),
            Cmd::Reset => effect(Effect::Reset(self.reset_target())),
            Cmd::StpuOnTheFly if matches!(self.mode, 1 | 4) => {
                self.enter(StpKind::OnTheFly, MAX_UPGRADE)
            }
            Cmd::Stpu if matches!(self.mode, 1 | 2 | 4) => self.enter(StpKind::Store, MAX_UPGRADE),
            Cmd::Stp if self.mode == 0 => self.enter(StpKind::Updater, MAX_FFH),
            Cmd::Upgrade if matches!(self.mode, 1 | 2 | 4) => match self.stored.take() {
                Some(flash) => effect(Effect::Upgrade(flash)),
                None => error(),
            },
            Cmd::Ipr(a) => self.ipr(a),
            _ => error(),
        }
    }

    fn swboot(&mut self, arg: Option<(u8, bool)>) -> Answer {
        let Some((mode, now)) = arg else {
            return bad("AT+SMSWBOOT with a bad argument".into());
        };
        let (fails, no_effect) = self.faults.swboot(mode, now);
        if fails {
            return error();
        }
        let mut target = match mode {
            3 => 4,
            // The application boots only if it is whole; else the modem falls back to
            // the upgrade boot.
            1 if self.app_intact => 2,
            1 => 4,
            _ => 0,
        };
        if target == 0 && self.cfg.bootloader0 == OLD_BOOTLOADER && !self.bootrom {
            return error();
        }
        if no_effect {
            target = self.reset_target();
            self.log.event(
                self.t_us(),
                format!("fault: AT+SMSWBOOT={mode},{} ignored", u8::from(now)),
            );
            if !now {
                return ok();
            }
        }
        if now {
            return effect(Effect::Reset(target));
        }
        self.boot_select = Some(target);
        ok()
    }

    fn enter(&mut self, kind: StpKind, max: u16) -> Answer {
        if kind != StpKind::Updater {
            self.upgrade = None;
        }
        effect(Effect::EnterStp(kind, max))
    }

    fn ipr(&mut self, a: &str) -> Answer {
        if self.faults.has(|k| k == Kind::Only115200) {
            return error();
        }
        match a {
            "115200" => effect(Effect::SetBaud(115_200)),
            "921600" => effect(Effect::SetBaud(921_600)),
            _ => bad(format!("AT+IPR={a}: unsupported rate")),
        }
    }
}
