//! Injected faults: what goes wrong ([`Kind`]) and when ([`When`]), parsed from the
//! spec strings of `--fault` (see `docs/SIMULATOR.md`).
//!
//! Grammar: `NAME`, `NAME:PARAM`, `NAME@WHERE` or `NAME@WHERE:PARAM`, where WHERE is
//! - `N`: the fault's natural counter (the N-th TRANSFER_BLOCK for block faults, the N-th
//!   request for `flip` and `error`, the N-th `AT+SMSTPU…` for `stpu-noise`);
//! - `block=N`: the N-th TRANSFER_BLOCK of a transfer (resends not counted), on the first
//!   transfer that gets that far;
//! - `req=N`: the N-th request of any kind (an AT command line or an STP frame, from 1);
//! - `cmd=TEXT`: every AT command equal to TEXT (case-insensitive), `cmd=TEXT*` every one
//!   starting with TEXT, `cmd=TEXT#K` / `cmd=TEXT*#K` only the K-th of them;
//! - `t=MS`: MS milliseconds after the modem's time origin (events then; reply faults on
//!   the first reply from then on);
//! - `M,R`: the boot switch `AT+SMSWBOOT=M,R` (`swboot-error`, `swboot-no-effect`).

use std::fmt;
use std::str::FromStr;

/// When a fault applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum When {
    /// For the whole run (a standing fault).
    Always,
    /// The N-th TRANSFER_BLOCK of a transfer (from 1, resends not counted), once.
    Block(u32),
    /// The N-th request of any kind (AT command line or STP frame, from 1), once.
    Request(u32),
    /// AT command lines matching `text` (case-insensitive): equal to it, or starting with
    /// it when `prefix`; every match, or only the `nth` one (then once).
    Command {
        /// The command text.
        text: String,
        /// Match lines that start with `text`.
        prefix: bool,
        /// Only the nth matching line (from 1).
        nth: Option<u32>,
    },
    /// At this many ms after the modem's time origin, once.
    Time(u64),
    /// The boot switch `AT+SMSWBOOT=mode,reset_now`.
    Swboot(u8, bool),
}

/// What goes wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `corrupt-reply`: the reply has a flipped byte (an STP reply's header CRC, an AT
    /// reply's final word).
    CorruptReply,
    /// `drop-reply`: the reply is not sent (the request itself takes effect).
    DropReply,
    /// `stall` (ms): the reply comes this late; the modem takes no input meanwhile
    /// (it is buffered and handled afterwards).
    Stall(u64),
    /// `residue` (bytes): a TRANSFER_BLOCK keeps only L − R bytes and answers residue R.
    Residue(u16),
    /// `reboot`: the modem resets by itself instead of answering (a transfer is cut).
    Reboot,
    /// `hang`: the modem never answers again; inside an STP session it stays in the
    /// session and only a RESET frame (or a power cycle) ends it; in AT mode only a
    /// power cycle helps.
    Hang,
    /// `link-gone`: the port vanishes ([`crate::Modem::link_gone`]).
    LinkGone,
    /// `flip` (optional byte index): one byte of the reply is inverted on the wire
    /// (default: its middle byte).
    Flip(Option<usize>),
    /// `error`: the command answers `ERROR` and does nothing.
    Error,
    /// `swboot-error` without WHERE: `AT+SMSWBOOT=3,1` and `=1,1` answer `ERROR`; with
    /// `@M,R` only that switch does.
    SwbootError,
    /// `swboot-error-all`: every `AT+SMSWBOOT=…` answers `ERROR`.
    SwbootErrorAll,
    /// `swboot-no-effect` (default `@1,1`): the switch answers OK (and resets, for
    /// `x,1`) but the boot mode does not change.
    SwbootNoEffect,
    /// `stpu-noise` (bytes, default 4): noise before the `OK` of `AT+SMSTPU` and
    /// `AT+SMSTPU="ON_THE_FLY"`.
    StpuNoise(usize),
    /// `late` (ms): AT replies come this late (every one, or those WHERE selects).
    Late(u64),
    /// `silent`: the modem never answers anything.
    Silent,
    /// `data-mode`: the modem starts in PPP data mode and ignores AT until `+++`.
    DataMode,
    /// `only-115200`: the modem talks only at 115200, in every state; `AT+IPR` answers ERROR.
    Only115200,
    /// `repl`: the port is a MicroPython REPL (a board not in mirror mode), not a modem.
    Repl,
}

impl Kind {
    /// True for faults that act at a moment by themselves (a `t=` trigger is a timer).
    pub fn is_event(self) -> bool {
        matches!(self, Kind::Reboot | Kind::Hang | Kind::LinkGone)
    }
}

/// One injected fault: what and when, with the spec string it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// What goes wrong.
    pub kind: Kind,
    /// When.
    pub when: When,
    spec: String,
}

impl Fault {
    /// A fault from its parts (its spec string is rebuilt for the log).
    pub fn new(kind: Kind, when: When) -> Fault {
        let spec = render(kind, &when);
        Fault { kind, when, spec }
    }

    /// Parses a spec string such as `drop-reply@3`, `stall@cmd=AT+SMOD?:500`, `silent`.
    pub fn parse(spec: &str) -> Result<Fault, String> {
        let spec = spec.trim();
        let cut = spec.find(['@', ':']).unwrap_or(spec.len());
        let name = &spec[..cut];
        let rest = &spec[cut..];
        let (where_, param) = match rest.strip_prefix('@') {
            Some(w) => split_param(w),
            None => (None, rest.strip_prefix(':')),
        };
        let kind = kind_of(name, param).map_err(|e| format!("{spec:?}: {e}"))?;
        let when = when_of(kind, where_).map_err(|e| format!("{spec:?}: {e}"))?;
        Ok(Fault {
            kind,
            when,
            spec: spec.to_string(),
        })
    }

    /// The spec string.
    pub fn spec(&self) -> &str {
        &self.spec
    }
}

impl FromStr for Fault {
    type Err = String;
    fn from_str(s: &str) -> Result<Fault, String> {
        Fault::parse(s)
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.spec)
    }
}

/// Splits `WHERE:PARAM` at the last `:` when what follows is a number.
fn split_param(w: &str) -> (Option<&str>, Option<&str>) {
    match w.rsplit_once(':') {
        Some((a, b)) if !b.is_empty() && b.bytes().all(|c| c.is_ascii_digit()) => {
            (Some(a), Some(b))
        }
        _ => (Some(w), None),
    }
}

fn num<T: FromStr>(s: &str, what: &str) -> Result<T, String> {
    s.trim().parse().map_err(|_| format!("bad {what} {s:?}"))
}

fn need<'a>(p: Option<&'a str>, what: &str) -> Result<&'a str, String> {
    p.ok_or_else(|| format!("needs :{what}"))
}

fn none(p: Option<&str>) -> Result<(), String> {
    match p {
        None => Ok(()),
        Some(x) => Err(format!("takes no parameter (got :{x})")),
    }
}

fn kind_of(name: &str, p: Option<&str>) -> Result<Kind, String> {
    let k = match name {
        "corrupt-reply" => none(p).map(|_| Kind::CorruptReply)?,
        "drop-reply" => none(p).map(|_| Kind::DropReply)?,
        "stall" => Kind::Stall(num(need(p, "MS")?, "ms")?),
        "residue" => Kind::Residue(num(need(p, "R")?, "residue")?),
        "reboot" => none(p).map(|_| Kind::Reboot)?,
        "hang" => none(p).map(|_| Kind::Hang)?,
        "link-gone" => none(p).map(|_| Kind::LinkGone)?,
        "flip" => Kind::Flip(p.map(|x| num(x, "byte index")).transpose()?),
        "error" => none(p).map(|_| Kind::Error)?,
        "swboot-error" => none(p).map(|_| Kind::SwbootError)?,
        "swboot-error-all" => none(p).map(|_| Kind::SwbootErrorAll)?,
        "swboot-no-effect" => none(p).map(|_| Kind::SwbootNoEffect)?,
        "stpu-noise" => Kind::StpuNoise(p.map_or(Ok(4), |x| num(x, "byte count"))?),
        "late" => Kind::Late(num(need(p, "MS")?, "ms")?),
        "silent" => none(p).map(|_| Kind::Silent)?,
        "data-mode" => none(p).map(|_| Kind::DataMode)?,
        "only-115200" => none(p).map(|_| Kind::Only115200)?,
        "repl" => none(p).map(|_| Kind::Repl)?,
        _ => return Err(format!("unknown fault {name:?}")),
    };
    Ok(k)
}

/// How `@N` reads for a kind.
enum Natural {
    Block,
    Request,
    Stpu,
    Swboot,
    Nothing,
}

fn natural(kind: Kind) -> Natural {
    match kind {
        Kind::CorruptReply
        | Kind::DropReply
        | Kind::Stall(_)
        | Kind::Residue(_)
        | Kind::Reboot
        | Kind::Hang
        | Kind::LinkGone => Natural::Block,
        Kind::Flip(_) | Kind::Error => Natural::Request,
        Kind::StpuNoise(_) => Natural::Stpu,
        Kind::SwbootError | Kind::SwbootNoEffect => Natural::Swboot,
        _ => Natural::Nothing,
    }
}

fn when_of(kind: Kind, w: Option<&str>) -> Result<When, String> {
    let nat = natural(kind);
    let Some(w) = w else {
        return match (kind, nat) {
            (Kind::SwbootNoEffect, _) => Ok(When::Swboot(1, true)),
            (Kind::Late(_) | Kind::StpuNoise(_) | Kind::SwbootError, _) => Ok(When::Always),
            (_, Natural::Nothing) => Ok(When::Always),
            _ => Err("needs @WHERE (N, block=N, req=N, cmd=TEXT or t=MS)".into()),
        };
    };
    if matches!(nat, Natural::Nothing) && !matches!(kind, Kind::Late(_)) {
        return Err("takes no @WHERE".into());
    }
    let when = parse_where(w, &nat)?;
    let ok = match (&when, kind) {
        (When::Swboot(..), Kind::SwbootError | Kind::SwbootNoEffect) => true,
        (When::Swboot(..), _) | (_, Kind::SwbootError | Kind::SwbootNoEffect) => false,
        (When::Block(_), Kind::Error | Kind::Late(_) | Kind::StpuNoise(_)) => false,
        (When::Block(_), _) => true,
        (_, Kind::Residue(_)) => false,
        _ => true,
    };
    if !ok {
        return Err(format!("@{w} does not fit this fault"));
    }
    Ok(when)
}

fn parse_where(w: &str, nat: &Natural) -> Result<When, String> {
    let positive = |s: &str, what: &str| -> Result<u32, String> {
        let n: u32 = num(s, what)?;
        if n == 0 {
            return Err(format!("{what} counts from 1"));
        }
        Ok(n)
    };
    if let Some(n) = w.strip_prefix("block=") {
        return Ok(When::Block(positive(n, "block number")?));
    }
    if let Some(n) = w.strip_prefix("req=") {
        return Ok(When::Request(positive(n, "request number")?));
    }
    if let Some(ms) = w.strip_prefix("t=") {
        return Ok(When::Time(num(ms, "time")?));
    }
    if let Some(c) = w.strip_prefix("cmd=") {
        let (text, nth) = match c.rsplit_once('#') {
            Some((t, k)) if !k.is_empty() && k.bytes().all(|b| b.is_ascii_digit()) => {
                (t, Some(positive(k, "command count")?))
            }
            _ => (c, None),
        };
        let (text, prefix) = match text.strip_suffix('*') {
            Some(t) => (t, true),
            None => (text, false),
        };
        if text.is_empty() {
            return Err("cmd= needs a command".into());
        }
        return Ok(When::Command {
            text: text.to_string(),
            prefix,
            nth,
        });
    }
    if let Some((m, r)) = w.split_once(',') {
        let mode: u8 = num(m, "boot mode")?;
        let now = match r.trim() {
            "0" => false,
            "1" => true,
            _ => return Err(format!("bad reset flag {r:?}")),
        };
        if !matches!(mode, 0 | 1 | 3) {
            return Err(format!("no boot switch {mode}"));
        }
        return Ok(When::Swboot(mode, now));
    }
    let n = positive(w, "number")?;
    match nat {
        Natural::Block => Ok(When::Block(n)),
        Natural::Request => Ok(When::Request(n)),
        Natural::Stpu => Ok(When::Command {
            text: "AT+SMSTPU".into(),
            prefix: true,
            nth: Some(n),
        }),
        _ => Err(format!("@{w} does not fit this fault")),
    }
}

fn render(kind: Kind, when: &When) -> String {
    let (name, param) = match kind {
        Kind::CorruptReply => ("corrupt-reply", None),
        Kind::DropReply => ("drop-reply", None),
        Kind::Stall(ms) => ("stall", Some(ms.to_string())),
        Kind::Residue(r) => ("residue", Some(r.to_string())),
        Kind::Reboot => ("reboot", None),
        Kind::Hang => ("hang", None),
        Kind::LinkGone => ("link-gone", None),
        Kind::Flip(i) => ("flip", i.map(|i| i.to_string())),
        Kind::Error => ("error", None),
        Kind::SwbootError => ("swboot-error", None),
        Kind::SwbootErrorAll => ("swboot-error-all", None),
        Kind::SwbootNoEffect => ("swboot-no-effect", None),
        Kind::StpuNoise(n) => ("stpu-noise", Some(n.to_string())),
        Kind::Late(ms) => ("late", Some(ms.to_string())),
        Kind::Silent => ("silent", None),
        Kind::DataMode => ("data-mode", None),
        Kind::Only115200 => ("only-115200", None),
        Kind::Repl => ("repl", None),
    };
    let at = match when {
        When::Always => String::new(),
        When::Block(n) => format!("@block={n}"),
        When::Request(n) => format!("@req={n}"),
        When::Time(ms) => format!("@t={ms}"),
        When::Swboot(m, r) => format!("@{m},{}", u8::from(*r)),
        When::Command { text, prefix, nth } => format!(
            "@cmd={text}{}{}",
            if *prefix { "*" } else { "" },
            nth.map_or(String::new(), |k| format!("#{k}"))
        ),
    };
    match param {
        Some(p) => format!("{name}{at}:{p}"),
        None => format!("{name}{at}"),
    }
}

/// What a request is, for matching triggered faults.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Occasion<'a> {
    /// An AT command line.
    Command(&'a str),
    /// An STP frame; `Some(n)` for the n-th new TRANSFER_BLOCK of the transfer.
    Frame(Option<u32>),
}

/// The faults of one run and what has fired.
#[derive(Debug, Clone, Default)]
pub(crate) struct Faults {
    items: Vec<Item>,
}

#[derive(Debug, Clone)]
struct Item {
    fault: Fault,
    fired: bool,
    seen: u32,
}

impl Faults {
    pub(crate) fn new(list: &[Fault]) -> Faults {
        Faults {
            items: list
                .iter()
                .map(|f| Item {
                    fault: f.clone(),
                    fired: false,
                    seen: 0,
                })
                .collect(),
        }
    }

    /// True when a standing fault of this kind is present.
    pub(crate) fn has(&self, pred: impl Fn(Kind) -> bool) -> bool {
        self.items
            .iter()
            .any(|i| i.fault.when == When::Always && pred(i.fault.kind))
    }

    /// The delay of standing `late` faults (ms).
    pub(crate) fn late_ms(&self) -> u64 {
        self.items
            .iter()
            .filter(|i| i.fault.when == When::Always)
            .map(|i| match i.fault.kind {
                Kind::Late(ms) => ms,
                _ => 0,
            })
            .sum()
    }

    /// Standing `stpu-noise` bytes.
    pub(crate) fn stpu_noise(&self) -> usize {
        self.items
            .iter()
            .filter(|i| i.fault.when == When::Always)
            .map(|i| match i.fault.kind {
                Kind::StpuNoise(n) => n,
                _ => 0,
            })
            .sum()
    }

    /// The faults on the boot switch `AT+SMSWBOOT=mode,now`: (answer ERROR, no effect).
    pub(crate) fn swboot(&self, mode: u8, now: bool) -> (bool, bool) {
        let mut error = false;
        let mut no_effect = false;
        for i in &self.items {
            let f = &i.fault;
            match (f.kind, &f.when) {
                (Kind::SwbootErrorAll, _) => error = true,
                (Kind::SwbootError, When::Always) => error |= now && mode != 0,
                (Kind::SwbootError, When::Swboot(m, r)) => error |= *m == mode && *r == now,
                (Kind::SwbootNoEffect, When::Swboot(m, r)) => no_effect |= *m == mode && *r == now,
                _ => {}
            }
        }
        (error, no_effect)
    }

    /// The time-triggered event faults: (ms, index).
    pub(crate) fn timed_events(&self) -> Vec<(u64, usize)> {
        self.items
            .iter()
            .enumerate()
            .filter_map(|(k, i)| match i.fault.when {
                When::Time(ms) if i.fault.kind.is_event() => Some((ms, k)),
                _ => None,
            })
            .collect()
    }

    /// Fires the timed event fault `k` (once); its kind.
    pub(crate) fn fire(&mut self, k: usize) -> Option<Kind> {
        let i = self.items.get_mut(k)?;
        if i.fired {
            return None;
        }
        i.fired = true;
        Some(i.fault.kind)
    }

    /// The triggered faults that fire on request number `req` at `t_ms`.
    pub(crate) fn at(&mut self, req: u32, occ: Occasion<'_>, t_ms: u64) -> Vec<Kind> {
        let mut hit = Vec::new();
        for i in &mut self.items {
            if i.fired {
                continue;
            }
            let kind = i.fault.kind;
            let is_cmd = matches!(occ, Occasion::Command(_));
            let fits = match kind {
                Kind::Error | Kind::Late(_) | Kind::StpuNoise(_) => is_cmd,
                Kind::Residue(_) => matches!(occ, Occasion::Frame(Some(_))),
                _ => true,
            };
            if !fits {
                continue;
            }
            let fire = match (&i.fault.when, occ) {
                (When::Block(n), Occasion::Frame(Some(b))) => *n == b,
                (When::Request(n), _) => *n == req,
                (When::Time(ms), _) => !kind.is_event() && t_ms >= *ms,
                (When::Command { text, prefix, nth }, Occasion::Command(line)) => {
                    let l = line.trim();
                    let m = if *prefix {
                        l.len() >= text.len()
                            && l.as_bytes()[..text.len()].eq_ignore_ascii_case(text.as_bytes())
                    } else {
                        l.eq_ignore_ascii_case(text)
                    };
                    if m {
                        i.seen += 1;
                    }
                    m && nth.is_none_or(|k| k == i.seen)
                }
                _ => false,
            };
            if fire {
                let once = !matches!(i.fault.when, When::Command { nth: None, .. });
                i.fired = once;
                hit.push(kind);
            }
        }
        hit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Fault {
        Fault::parse(s).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn old_spec_strings_still_parse() {
        assert_eq!(p("corrupt-reply@3").when, When::Block(3));
        assert_eq!(p("drop-reply@1").kind, Kind::DropReply);
        assert_eq!(p("stall@2:500").kind, Kind::Stall(500));
        assert_eq!(p("stall@2:500").when, When::Block(2));
        assert_eq!(p("residue@4:100").kind, Kind::Residue(100));
        assert_eq!(p("reboot@9").when, When::Block(9));
        for flag in [
            "swboot-error",
            "swboot-error-all",
            "silent",
            "data-mode",
            "only-115200",
        ] {
            assert_eq!(p(flag).when, When::Always, "{flag}");
        }
        assert!(Fault::parse("stall@2").is_err());
        assert!(Fault::parse("drop-reply@0").is_err());
        assert!(Fault::parse("bogus").is_err());
        assert!(Fault::parse("silent@3").is_err());
        assert!(Fault::parse("residue@cmd=AT:3").is_err());
    }

    #[test]
    fn new_spec_strings() {
        assert_eq!(p("flip@7").when, When::Request(7));
        assert_eq!(p("flip@7:2").kind, Kind::Flip(Some(2)));
        assert_eq!(p("hang@block=12").when, When::Block(12));
        assert_eq!(p("link-gone@t=1500").when, When::Time(1500));
        assert_eq!(p("swboot-error@1,0").when, When::Swboot(1, false));
        assert_eq!(p("swboot-no-effect").when, When::Swboot(1, true));
        assert_eq!(p("stpu-noise").kind, Kind::StpuNoise(4));
        assert_eq!(p("stpu-noise:9").kind, Kind::StpuNoise(9));
        assert_eq!(p("late:250").kind, Kind::Late(250));
        assert_eq!(p("repl").kind, Kind::Repl);
        let c = p("stall@cmd=AT+SQNWL=\"sqndcc\",2#2:700");
        assert_eq!(c.kind, Kind::Stall(700));
        assert_eq!(
            c.when,
            When::Command {
                text: "AT+SQNWL=\"sqndcc\",2".into(),
                prefix: false,
                nth: Some(2)
            }
        );
        let e = p("error@cmd=AT+SMSTPU*");
        assert!(matches!(
            e.when,
            When::Command {
                prefix: true,
                nth: None,
                ..
            }
        ));
        assert_eq!(
            Fault::new(Kind::Reboot, When::Block(4)).spec(),
            "reboot@block=4"
        );
        assert_eq!(
            p(&Fault::new(Kind::Stall(5), When::Request(2)).to_string()).kind,
            Kind::Stall(5)
        );
    }

    #[test]
    fn triggered_faults_fire_as_told() {
        let mut f = Faults::new(&[
            p("drop-reply@2"),
            p("stall@2:10"),
            p("flip@3"),
            p("error@cmd=AT+SMOD?#2"),
            p("late@cmd=AT:50"),
            p("corrupt-reply@t=100"),
            p("reboot@t=5"),
        ]);
        assert!(f.at(1, Occasion::Frame(Some(1)), 0).is_empty());
        assert_eq!(f.at(2, Occasion::Frame(Some(2)), 0).len(), 2);
        assert!(f.at(2, Occasion::Frame(Some(2)), 0).is_empty());
        assert_eq!(
            f.at(3, Occasion::Command("AT+SMOD?"), 0),
            [Kind::Flip(None)]
        );
        assert_eq!(f.at(4, Occasion::Command("at+smod?"), 0), [Kind::Error]);
        assert!(f.at(5, Occasion::Command("AT+SMOD?"), 0).is_empty());
        assert_eq!(f.at(6, Occasion::Command("AT"), 0), [Kind::Late(50)]);
        assert_eq!(f.at(7, Occasion::Command("AT"), 0), [Kind::Late(50)]);
        assert_eq!(f.at(8, Occasion::Frame(None), 150), [Kind::CorruptReply]);
        assert_eq!(f.timed_events(), [(5, 6)]);
        assert_eq!(f.fire(6), Some(Kind::Reboot));
        assert_eq!(f.fire(6), None);
    }

    #[test]
    fn boot_switch_faults() {
        let f = Faults::new(&[p("swboot-error")]);
        assert_eq!(f.swboot(3, true), (true, false));
        assert_eq!(f.swboot(3, false), (false, false));
        assert_eq!(f.swboot(0, true), (false, false));
        let f = Faults::new(&[p("swboot-error@0,1"), p("swboot-no-effect")]);
        assert_eq!(f.swboot(0, true), (true, false));
        assert_eq!(f.swboot(1, true), (false, true));
        assert_eq!(f.swboot(1, false), (false, false));
        assert!(Faults::new(&[p("swboot-error-all")]).swboot(1, false).0);
    }
}
