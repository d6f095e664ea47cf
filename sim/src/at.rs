//! AT line assembly, command recognition and the `+++` escape detector.

/// Longest command line kept; longer input is discarded.
const MAX_LINE: usize = 1024;
/// Silence needed before and after `+++`, in nanoseconds (0.9 s: docs/PROTOCOL.md section 3.4's "about 1 s"
/// guard, with room for a host that waits exactly 1 s).
pub const GUARD_NS: u64 = 900_000_000;

/// Collects bytes into lines ended by `\r`, `\n` or `\r\n`.
#[derive(Debug, Default)]
pub struct Lines {
    buf: Vec<u8>,
    /// True when the last line ended with `\r` (a following `\n` belongs to it).
    pub ended_cr: bool,
}

impl Lines {
    /// Feeds one byte; returns a completed non-empty line.
    pub fn feed(&mut self, b: u8) -> Option<String> {
        if b != b'\r' && b != b'\n' {
            self.ended_cr = false;
            if self.buf.len() < MAX_LINE {
                self.buf.push(b);
            }
            return None;
        }
        self.ended_cr = b == b'\r';
        if self.buf.is_empty() {
            return None;
        }
        let line = String::from_utf8_lossy(&self.buf).trim().to_string();
        self.buf.clear();
        (!line.is_empty()).then_some(line)
    }

    /// Forgets a partial line.
    pub fn clear(&mut self) {
        self.buf.clear();
        self.ended_cr = false;
    }
}

/// Detects `+++` framed by guard times of silence.
#[derive(Debug, Default)]
pub struct Escape {
    armed: bool,
    run: u8,
}

impl Escape {
    /// Notes received bytes; `gap` is true when the guard silence preceded them.
    pub fn feed(&mut self, bytes: &[u8], gap: bool) {
        if gap {
            self.armed = true;
            self.run = 0;
        }
        for &b in bytes {
            if self.armed && b == b'+' && self.run < 3 {
                self.run += 1;
            } else {
                self.armed = false;
                self.run = 0;
            }
        }
    }

    /// True when `+++` was received and nothing since; the caller checks the silence.
    pub fn pending(&self) -> bool {
        self.armed && self.run == 3
    }

    /// Forgets any partial escape.
    pub fn reset(&mut self) {
        self.armed = false;
        self.run = 0;
    }
}

/// A recognised AT command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cmd {
    /// `AT`.
    At,
    /// `ATE0` / `ATE1`.
    Echo(bool),
    /// `AT+BIND=<arg>`.
    Bind(String),
    /// `ATI`.
    Ati,
    /// `ATI1`.
    Ati1,
    /// `AT!="showver"`.
    Showver,
    /// `AT+CGSN`.
    Cgsn,
    /// `AT+SMOD?`.
    SmodQ,
    /// `AT+SMLOG?`.
    SmlogQ,
    /// `AT+FSRDFILE=<arg>`.
    FsRdFile(String),
    /// `AT+SQNSUPGRADENTF=<arg>`.
    UpgradeNtf(String),
    /// `AT+SQNWL=<arg>`.
    SqnWl(String),
    /// `AT+CFUN=<arg>`.
    Cfun(String),
    /// `AT+SMSWBOOT?`.
    SwbootQ,
    /// `AT+SMSWBOOT=<mode>,<reset now>`; None when the argument is malformed.
    Swboot(Option<(u8, bool)>),
    /// `AT^RESET`.
    Reset,
    /// `AT+SMSTPU="ON_THE_FLY"`.
    StpuOnTheFly,
    /// `AT+SMSTPU`.
    Stpu,
    /// `AT+SMUPGRADE`.
    Upgrade,
    /// `AT+SMUPGRADE?`.
    UpgradeQ,
    /// `AT+STP`.
    Stp,
    /// `AT+IPR=<arg>`.
    Ipr(String),
    /// `AT+IPR?`.
    IprQ,
    /// Anything else.
    Unknown,
}

const PLAIN: [(&str, Cmd); 17] = [
    ("AT", Cmd::At),
    ("ATE0", Cmd::Echo(false)),
    ("ATE1", Cmd::Echo(true)),
    ("ATI", Cmd::Ati),
    ("ATI1", Cmd::Ati1),
    ("AT!=\"SHOWVER\"", Cmd::Showver),
    ("AT+CGSN", Cmd::Cgsn),
    ("AT+SMOD?", Cmd::SmodQ),
    ("AT+SMLOG?", Cmd::SmlogQ),
    ("AT+SMSWBOOT?", Cmd::SwbootQ),
    ("AT^RESET", Cmd::Reset),
    ("AT+SMSTPU=\"ON_THE_FLY\"", Cmd::StpuOnTheFly),
    ("AT+SMSTPU", Cmd::Stpu),
    ("AT+SMUPGRADE", Cmd::Upgrade),
    ("AT+SMUPGRADE?", Cmd::UpgradeQ),
    ("AT+STP", Cmd::Stp),
    ("AT+IPR?", Cmd::IprQ),
];

type ArgCmd = fn(String) -> Cmd;

const WITH_ARG: [(&str, ArgCmd); 7] = [
    ("AT+BIND=", Cmd::Bind),
    ("AT+FSRDFILE=", Cmd::FsRdFile),
    ("AT+SQNSUPGRADENTF=", Cmd::UpgradeNtf),
    ("AT+SQNWL=", Cmd::SqnWl),
    ("AT+CFUN=", Cmd::Cfun),
    ("AT+SMSWBOOT=", swboot),
    ("AT+IPR=", Cmd::Ipr),
];

/// Recognises a command line (case-insensitive; arguments keep their case).
pub fn parse(line: &str) -> Cmd {
    let upper = line.trim().to_ascii_uppercase();
    if let Some((_, c)) = PLAIN.iter().find(|(s, _)| *s == upper) {
        return c.clone();
    }
    for (prefix, make) in WITH_ARG {
        if upper.starts_with(prefix) {
            return make(line.trim()[prefix.len()..].trim().to_string());
        }
    }
    Cmd::Unknown
}

fn swboot(a: String) -> Cmd {
    Cmd::Swboot(swboot_arg(&a))
}

fn swboot_arg(a: &str) -> Option<(u8, bool)> {
    let (m, r) = a.split_once(',')?;
    let m: u8 = m.trim().parse().ok()?;
    let now = match r.trim() {
        "0" => false,
        "1" => true,
        _ => return None,
    };
    matches!(m, 0 | 1 | 3).then_some((m, now))
}

/// True when `line` is an AT command line (V.250: it starts with `AT`, any case);
/// a modem ignores other lines.
pub fn is_at_line(line: &str) -> bool {
    line.len() >= 2 && line.as_bytes()[..2].eq_ignore_ascii_case(b"AT")
}

/// True for the commands the log marks `changes_modem`: those that ask for a change of
/// the modem (echo is a persistent setting, so `ATE0`/`ATE1` count).
pub fn changes_modem(c: &Cmd) -> bool {
    matches!(
        c,
        Cmd::Echo(_)
            | Cmd::Swboot(_)
            | Cmd::StpuOnTheFly
            | Cmd::Stpu
            | Cmd::Stp
            | Cmd::Upgrade
            | Cmd::Reset
            | Cmd::Cfun(_)
            | Cmd::SqnWl(_)
            | Cmd::UpgradeNtf(_)
            | Cmd::Ipr(_)
            | Cmd::Bind(_)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8]) -> Vec<String> {
        let mut l = Lines::default();
        input.iter().filter_map(|&b| l.feed(b)).collect()
    }

    #[test]
    fn line_endings() {
        assert_eq!(
            lines(b"AT\r\nATE0\rAT+SMOD?\nATI1\r\n\r\n"),
            ["AT", "ATE0", "AT+SMOD?", "ATI1"]
        );
        assert_eq!(lines(b"AT"), Vec::<String>::new());
        let mut l = Lines::default();
        l.feed(b'A');
        l.feed(b'T');
        assert_eq!(l.feed(b'\r'), Some("AT".into()));
        assert!(l.ended_cr);
        l.feed(b'\n');
        assert!(!l.ended_cr);
    }

    #[test]
    fn commands() {
        assert_eq!(parse("AT"), Cmd::At);
        assert_eq!(parse("at+smod?"), Cmd::SmodQ);
        assert_eq!(parse("AT!=\"showver\""), Cmd::Showver);
        assert_eq!(parse("AT+SMSTPU=\"ON_THE_FLY\""), Cmd::StpuOnTheFly);
        assert_eq!(parse("AT+SMSTPU"), Cmd::Stpu);
        assert_eq!(parse("AT+SMSWBOOT=3,1"), Cmd::Swboot(Some((3, true))));
        assert_eq!(parse("AT+SMSWBOOT=1,0"), Cmd::Swboot(Some((1, false))));
        assert_eq!(parse("AT+SMSWBOOT=2,1"), Cmd::Swboot(None));
        assert_eq!(
            parse("AT+SQNWL=\"sqndcc\",2"),
            Cmd::SqnWl("\"sqndcc\",2".into())
        );
        assert_eq!(
            parse("AT+SQNSUPGRADENTF=\"started\""),
            Cmd::UpgradeNtf("\"started\"".into())
        );
        assert_eq!(parse("AT+IPR=921600"), Cmd::Ipr("921600".into()));
        assert_eq!(parse("AT^RESET"), Cmd::Reset);
        assert_eq!(parse("AT+FOO"), Cmd::Unknown);
        assert_eq!(parse("+++AT"), Cmd::Unknown);
        assert!(changes_modem(&parse("AT+CFUN=4")));
        assert!(changes_modem(&parse("ATE0")));
        assert!(is_at_line("at+smod?") && !is_at_line("+++") && !is_at_line("A"));
        assert!(!changes_modem(&parse("AT+SMUPGRADE?")));
    }

    #[test]
    fn escape_needs_gap_and_exactly_three() {
        let mut e = Escape::default();
        e.feed(b"+++", true);
        assert!(e.pending());
        e.feed(b"A", false);
        assert!(!e.pending());
        e.feed(b"++", true);
        e.feed(b"+", false);
        assert!(e.pending());
        e.feed(b"+++", false);
        assert!(!e.pending());
        e.feed(b"x+++", true);
        assert!(!e.pending());
    }
}
