//! The result record on a computer: `--json` and the Python package's `last_result()`,
//! both from the engine's one definition of the keys and their values
//! (`sqnsupgrade::report::KEYS`, `Record::value`), as the board's `last_result()` is.

use serde_json::Value as Json;
use sqnsupgrade::msg::Msg;
use sqnsupgrade::report::{self, keys, Record, Request, Value};
use sqnsupgrade::updater::{Failure, Method, Plan};

/// The four failure lines of a call, written once.
#[derive(Debug, Clone, Default)]
pub struct Lines {
    /// `error:`.
    pub error: String,
    /// `hint:`.
    pub hint: String,
    /// `modem:`.
    pub modem: String,
    /// `next:`.
    pub next: String,
}

impl Lines {
    /// The lines of failure `f` of the request `req`.
    pub fn of(f: &Failure, req: &Request<'_>) -> Lines {
        let mut lines = Lines::default();
        report::write_error(f, req, &mut lines.error);
        report::write_hint(f, &mut lines.hint);
        report::write_modem(f, &mut lines.modem);
        report::write_next(report::next_step(f, req), req, &mut lines.next);
        lines
    }

    /// The four lines as printed (`error: ...` to `next: ...`, each ending with a newline).
    pub fn text(&self) -> String {
        let mut text = String::new();
        self.borrowed().write(&mut text);
        text
    }

    fn borrowed(&self) -> report::Lines<'_> {
        report::Lines {
            error: self.error.as_bytes(),
            hint: self.hint.as_bytes(),
            modem: self.modem.as_bytes(),
            next: self.next.as_bytes(),
        }
    }
}

/// The record's keys and values, in the engine's order (`lines`: after a failure).
pub fn values<'a>(record: &'a Record, lines: Option<&'a Lines>) -> Vec<(&'static str, Value<'a>)> {
    let l = lines.map(Lines::borrowed).unwrap_or_default();
    keys()
        .enumerate()
        .filter_map(|(i, key)| Some((key, record.value(i, &l)?)))
        .collect()
}

/// A value as JSON (the seconds with millisecond precision).
pub fn json(v: Value<'_>) -> Json {
    match v {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(b),
        Value::Int(n) => Json::from(n),
        Value::Text(t) => Json::String(String::from_utf8_lossy(t).into_owned()),
        Value::Millis(ms) => Json::from(f64::from(ms) / 1000.0),
    }
}

/// The record as JSON fields, in order, to which a command may add its own.
pub fn fields(record: &Record, lines: Option<&Lines>) -> Vec<(&'static str, Json)> {
    values(record, lines)
        .into_iter()
        .map(|(k, v)| (k, json(v)))
        .collect()
}

/// One JSON object with `fields` in their order (`--json`).
pub fn to_json(fields: &[(&str, Json)]) -> String {
    let items: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("{}: {v}", Json::from(*k)))
        .collect();
    format!("{{{}}}", items.join(", "))
}

/// What a plan does, in a sentence (`check`).
pub fn plan_msg(plan: Plan) -> Msg {
    match plan {
        Plan::Normal(Method::Fff) => Msg::PlanFff,
        Plan::Normal(Method::OnTheFly) => Msg::PlanOnTheFly,
        Plan::MTools => Msg::PlanMtools,
        Plan::Resume => Msg::PlanResume,
        Plan::Recovery => Msg::PlanRecovery,
        Plan::Bootrom => Msg::PlanBootrom,
    }
}

/// The plan's name in `--json` (`FFF`, `ON_THE_FLY`, `mtools`, `resume`, `recovery`,
/// `bootrom`).
pub fn plan_name(plan: Plan) -> &'static str {
    match plan {
        Plan::Normal(Method::Fff) => "FFF",
        Plan::Normal(Method::OnTheFly) => "ON_THE_FLY",
        Plan::MTools => "mtools",
        Plan::Resume => "resume",
        Plan::Recovery => "recovery",
        Plan::Bootrom => "bootrom",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqnsupgrade::report::{status, Command};
    use sqnsupgrade::state::State;

    #[test]
    fn json_has_every_key_in_order_with_its_value() {
        let mut r = Record::from_state(Command::State, Some(State::Upgrade));
        r.millis = 1234;
        let text = to_json(&fields(&r, None));
        let keys: Vec<&str> = keys().collect();
        let parsed: serde_json::Map<String, Json> = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed.len(), keys.len());
        let mut at = 0;
        for k in keys {
            let pos = text.find(&format!("\"{k}\":")).unwrap();
            assert!(pos >= at, "{k} out of order in {text}");
            at = pos;
        }
        assert_eq!(parsed["status"], Json::from(status::OK));
        assert_eq!(parsed["state_after"], Json::from(4));
        assert_eq!(parsed["command"], Json::from("state"));
        assert_eq!(parsed["seconds"], Json::from(1.234));
        assert_eq!(parsed["method"], Json::Null);
        assert_eq!(parsed["choice"], Json::Null);
    }
}
