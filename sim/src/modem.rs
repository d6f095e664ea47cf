//! The modem's AT-level state machine: boot modes, replies and upgrade results.

use crate::at::Cmd;
use crate::image::ImageInfo;
use crate::opts::{Family, Faults, Opts};

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

/// How an STP transfer was entered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StpKind {
    /// `AT+SMSTPU`: store first (FFF).
    Store,
    /// `AT+SMSTPU="ON_THE_FLY"`.
    OnTheFly,
    /// `AT+STP`: load the updater.
    Updater,
}

/// A pending flash and what it will do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flash {
    /// Whether it will succeed.
    pub ok: bool,
    /// New software build on success.
    pub build: Option<u32>,
    /// It is the bootrom package.
    pub bootrom: bool,
    /// Boot mode to reset into when done (None: no reset).
    pub reboot_to: Option<u8>,
    /// Why it fails or what it is, for the log.
    pub note: String,
}

/// What the engine must do after a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Nothing more.
    None,
    /// Switch to STP after the OK.
    EnterStp(StpKind, u16),
    /// Reset into this boot mode.
    Reboot(u8),
    /// Change the modem's baud rate after the OK.
    SetBaud(u32),
    /// Start flashing.
    Flash(Flash),
}

/// The modem's answer to one command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// Information lines (before OK/ERROR).
    pub lines: Vec<String>,
    /// OK or ERROR.
    pub ok: bool,
    /// What happens next.
    pub effect: Effect,
    /// A protocol violation by the host.
    pub violation: Option<String>,
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

/// A stored (FFF) image waiting for `AT+SMUPGRADE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// Its flash, decided when it was received.
    pub flash: Flash,
}

/// The simulated modem (everything but the byte streams).
#[derive(Debug)]
pub struct Modem {
    /// Boot mode (0, 1, 2, 4).
    pub state: u8,
    /// Echo on.
    pub echo: bool,
    /// Current baud rate.
    pub baud: u32,
    /// Running build.
    pub software_build: u32,
    /// Bootloader0 build.
    pub bootloader0: u32,
    /// Family.
    pub family: Family,
    /// Boot mode selected by `AT+SMSWBOOT=x,0`.
    pub boot_select: Option<u8>,
    /// Upgrade report.
    pub upgrade: Option<Upgrade>,
    /// Stored FFF image.
    pub stored: Option<Stored>,
    /// Bootrom package received.
    pub bootrom: bool,
    /// In PPP data mode.
    pub data_mode: bool,
    faults: Faults,
}

impl Modem {
    /// A modem as the options describe it.
    pub fn new(o: &Opts, faults: &Faults) -> Modem {
        let mut m = Modem {
            state: o.state,
            echo: true,
            baud: 0,
            software_build: o.software_build,
            bootloader0: o.bootloader0,
            family: o.family,
            boot_select: None,
            upgrade: None,
            stored: None,
            bootrom: false,
            data_mode: faults.data_mode,
            faults: faults.clone(),
        };
        m.baud = m.default_baud();
        m
    }

    /// The baud rate after a reset in the current state.
    pub fn default_baud(&self) -> u32 {
        if self.state == 0 || self.faults.only_115200 {
            115_200
        } else {
            921_600
        }
    }

    /// Finishes a reset: boots into `state` with echo on and the default baud.
    pub fn boot(&mut self, state: u8) {
        self.state = state;
        self.echo = true;
        self.baud = self.default_baud();
        self.boot_select = None;
        self.data_mode = false;
    }

    /// The boot mode a plain reset returns to.
    pub fn reset_target(&self) -> u8 {
        match self.boot_select {
            Some(s) => s,
            None if self.state == 1 => 0,
            None => self.state,
        }
    }

    fn version(&self) -> (&'static str, &'static str) {
        match self.family {
            Family::Catm1 => ("5.1.1.0", "UE5.0.0.0d"),
            Family::Nb1 => ("6.0.0.0", "UE6.0.0.0"),
        }
    }

    fn showver(&self) -> String {
        let (v, ue) = self.version();
        let (b0, sw) = (self.bootloader0, self.software_build);
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

    /// Handles one command.
    pub fn handle(&mut self, c: &Cmd) -> Answer {
        if self.upgrade == Some(Upgrade::OnGoing) && disturbs_flash(c) {
            return bad("sent while the upgrade is on-going (poll AT+SMUPGRADE? first)".into());
        }
        match c {
            Cmd::At => ok(),
            Cmd::Echo(on) => {
                self.echo = *on;
                ok()
            }
            Cmd::Ati => lines(&["SEQUANS Communications".into(), "SQN3330".into()]),
            Cmd::Ati1 | Cmd::Showver | Cmd::Cgsn if self.state == 0 => error(),
            Cmd::Ati1 => self.ati1(),
            Cmd::Showver => lines(&[self.showver()]),
            Cmd::Cgsn => lines(&[IMEI.into()]),
            Cmd::SmodQ => lines(&[self.state.to_string()]),
            Cmd::SmlogQ => lines(&["+SMLOG: LOG_INHERIT".into()]),
            Cmd::FsRdFile(_) => error(),
            Cmd::SwbootQ => lines(&[format!("+SMSWBOOT: {}", self.boot_word())]),
            Cmd::UpgradeQ => lines(&[format!(
                "+SMUPGRADE: {}",
                self.upgrade.map_or("No report", Upgrade::word)
            )]),
            Cmd::IprQ => lines(&[format!("+IPR: {}", self.baud)]),
            Cmd::Unknown => bad("unknown command".into()),
            _ => self.handle_change(c),
        }
    }

    /// Commands that change the modem.
    fn handle_change(&mut self, c: &Cmd) -> Answer {
        match c {
            Cmd::Bind(a) => arg_in(a, &["AT"]),
            Cmd::UpgradeNtf(a) => arg_in(a, &["\"started\"", "\"success\""]),
            Cmd::SqnWl(a) => arg_in(a, &["\"sqndcc\",2"]),
            Cmd::Cfun(a) => arg_in(a, &["0", "1", "4"]),
            Cmd::Swboot(arg) => self.swboot(*arg),
            Cmd::Reset => effect(Effect::Reboot(self.reset_target())),
            Cmd::StpuOnTheFly if matches!(self.state, 1 | 4) => {
                self.enter(StpKind::OnTheFly, MAX_UPGRADE)
            }
            Cmd::Stpu if self.state == 2 => self.enter(StpKind::Store, MAX_UPGRADE),
            Cmd::Stp if self.state == 0 => self.enter(StpKind::Updater, MAX_FFH),
            Cmd::Upgrade => self.start_stored(),
            Cmd::Ipr(a) => self.ipr(a),
            _ => error(),
        }
    }

    fn ati1(&self) -> Answer {
        let (v, ue) = self.version();
        lines(&[ue.into(), format!("LR{v}-{}", self.software_build)])
    }

    fn boot_word(&self) -> &'static str {
        match self.state {
            2 => "FFF",
            4 => "RECOVERY",
            _ => "FFH",
        }
    }

    fn swboot(&mut self, arg: Option<(u8, bool)>) -> Answer {
        let Some((mode, now)) = arg else {
            return bad("AT+SMSWBOOT with a bad argument".into());
        };
        let hit = self.faults.swboot_error && now && mode != 0;
        if self.faults.swboot_error_all || hit {
            return error();
        }
        let target = match mode {
            3 => 4,
            1 => 2,
            _ => 0,
        };
        if target == 0 && self.bootloader0 == OLD_BOOTLOADER && !self.bootrom {
            return error();
        }
        if now {
            return effect(Effect::Reboot(target));
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

    fn start_stored(&mut self) -> Answer {
        if self.state != 2 {
            return error();
        }
        match self.stored.take() {
            Some(s) => {
                self.upgrade = Some(Upgrade::OnGoing);
                effect(Effect::Flash(s.flash))
            }
            None => error(),
        }
    }

    fn ipr(&mut self, a: &str) -> Answer {
        if self.faults.only_115200 {
            return error();
        }
        match a {
            "115200" => effect(Effect::SetBaud(115_200)),
            "921600" => effect(Effect::SetBaud(921_600)),
            _ => bad(format!("AT+IPR={a}: unsupported rate")),
        }
    }

    /// Decides what a finished image transfer will flash.
    pub fn judge_image(
        &self,
        kind: StpKind,
        info: &ImageInfo,
        complete: bool,
        bytes: u64,
    ) -> Flash {
        let bootrom = kind == StpKind::OnTheFly
            && self.state == 4
            && self.bootloader0 == OLD_BOOTLOADER
            && !self.bootrom
            && bytes <= BOOTROM_MAX;
        let reboot_to = (kind == StpKind::Store).then_some(2);
        let fail = if bootrom {
            None
        } else {
            self.image_problem(kind, info, bytes)
        };
        let fail = if complete {
            fail
        } else {
            Some("transfer incomplete".to_string())
        };
        let note = match (&fail, bootrom) {
            (Some(f), _) => f.clone(),
            (None, true) => "bootrom package".into(),
            (None, false) => format!("image for build {:?}", info.build),
        };
        let build = if bootrom { None } else { info.build };
        Flash {
            ok: fail.is_none(),
            build,
            bootrom,
            reboot_to,
            note,
        }
    }

    fn image_problem(&self, kind: StpKind, info: &ImageInfo, bytes: u64) -> Option<String> {
        if kind == StpKind::Store && bytes > FFF_MAX {
            return Some(format!("{bytes} bytes cannot be stored (FFF)"));
        }
        if !info.upgr {
            return Some("image does not start with UPGR".into());
        }
        // The simulator takes the observed length relation as a rule: an image whose
        // bytes differ from what its header announces was cut short.
        if let Some(declared) = info.declared_size.filter(|&d| d != bytes) {
            return Some(format!(
                "received {bytes} of the {declared} bytes the image announces"
            ));
        }
        match info.diff {
            Some((a, _)) if a != self.software_build => Some(format!(
                "upgdiff from {a} but the running build is {}",
                self.software_build
            )),
            _ => None,
        }
    }

    /// Applies a finished flash; returns the boot mode to reset into, if any.
    pub fn flash_done(&mut self, f: &Flash) -> Option<u8> {
        self.upgrade = Some(if f.ok {
            Upgrade::Success
        } else {
            Upgrade::Fail
        });
        if f.ok {
            self.bootrom |= f.bootrom;
            if let Some(b) = f.build {
                self.software_build = b;
            }
        }
        f.reboot_to
    }
}

/// Commands refused while flashing.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::at::parse;
    use clap::Parser;

    fn modem(args: &[&str]) -> Modem {
        let mut v = vec!["sqnsim"];
        v.extend_from_slice(args);
        let o = Opts::try_parse_from(v).unwrap();
        let f = Faults::new(&o.faults);
        Modem::new(&o, &f)
    }

    fn run(m: &mut Modem, line: &str) -> Answer {
        m.handle(&parse(line))
    }

    #[test]
    fn application_mode_replies() {
        let mut m = modem(&[]);
        assert_eq!(m.baud, 921_600);
        assert_eq!(run(&mut m, "AT+SMOD?").lines, ["2"]);
        assert_eq!(run(&mut m, "ATI1").lines, ["UE5.0.0.0d", "LR5.1.1.0-38638"]);
        assert_eq!(run(&mut m, "AT+SMSWBOOT?").lines, ["+SMSWBOOT: FFF"]);
        assert!(run(&mut m, "AT!=\"showver\"").lines[0].contains("Software     : 5.1.1.0 [38638]"));
        assert!(run(&mut m, "AT+FOO").violation.is_some());
        assert!(!run(&mut m, "AT+SMSTPU=\"ON_THE_FLY\"").ok);
        assert_eq!(
            run(&mut m, "AT+SMSTPU").effect,
            Effect::EnterStp(StpKind::Store, 8192)
        );
        assert_eq!(run(&mut m, "AT+SMSWBOOT=3,1").effect, Effect::Reboot(4));
    }

    #[test]
    fn recovery_mode() {
        let mut m = modem(&["--state", "0", "--bootloader0", "33080"]);
        assert_eq!(m.baud, 115_200);
        assert!(!run(&mut m, "ATI1").ok);
        assert!(!run(&mut m, "AT+SMSWBOOT=0,1").ok);
        assert_eq!(
            run(&mut m, "AT+IPR=921600").effect,
            Effect::SetBaud(921_600)
        );
        assert_eq!(
            run(&mut m, "AT+STP").effect,
            Effect::EnterStp(StpKind::Updater, 2048)
        );
    }

    #[test]
    fn swboot_faults() {
        let mut m = modem(&["--fault", "swboot-error"]);
        assert!(!run(&mut m, "AT+SMSWBOOT=3,1").ok);
        assert!(run(&mut m, "AT+SMSWBOOT=3,0").ok);
        assert_eq!(run(&mut m, "AT^RESET").effect, Effect::Reboot(4));
        let mut m = modem(&["--fault", "swboot-error-all"]);
        assert!(!run(&mut m, "AT+SMSWBOOT=3,0").ok);
        let mut m = modem(&["--fault", "only-115200"]);
        assert_eq!(m.baud, 115_200);
        assert!(!run(&mut m, "AT+IPR=921600").ok);
    }

    #[test]
    fn judging_images() {
        let m = modem(&["--state", "4"]);
        let diff = ImageInfo {
            upgr: true,
            diff: Some((38638, 39529)),
            build: Some(39529),
            ..Default::default()
        };
        let f = m.judge_image(StpKind::OnTheFly, &diff, true, 500_000);
        assert!(f.ok && f.build == Some(39529));
        assert!(!m.judge_image(StpKind::OnTheFly, &diff, false, 500_000).ok);
        let wrong = ImageInfo {
            diff: Some((1, 39529)),
            ..diff
        };
        assert!(!m.judge_image(StpKind::OnTheFly, &wrong, true, 500_000).ok);
        assert!(
            !m.judge_image(StpKind::OnTheFly, &ImageInfo::default(), true, 500)
                .ok
        );
        assert!(!m.judge_image(StpKind::Store, &diff, true, FFF_MAX + 1).ok);
    }

    #[test]
    fn flashing_blocks_boot_switch() {
        let mut m = modem(&["--state", "4"]);
        m.upgrade = Some(Upgrade::OnGoing);
        assert_eq!(run(&mut m, "AT+SMUPGRADE?").lines, ["+SMUPGRADE: on-going"]);
        assert!(run(&mut m, "AT+SMSWBOOT=1,1").violation.is_some());
        let f = Flash {
            ok: true,
            build: Some(41019),
            bootrom: false,
            reboot_to: None,
            note: String::new(),
        };
        assert_eq!(m.flash_done(&f), None);
        assert_eq!(m.software_build, 41019);
        assert_eq!(run(&mut m, "AT+SMUPGRADE?").lines, ["+SMUPGRADE: success"]);
    }
}
