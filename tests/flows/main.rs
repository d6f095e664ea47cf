//! Every flow in-process, in virtual time: the engine's `Updater` over an in-memory link to
//! the simulator's modem model (`sqnsim::Modem`), whose clock jumps to the modem's next
//! event, so that minutes of flashing take microseconds.
//!
//! For every plan (start state, files, method) the update first runs clean; then once
//! per fault (corrupt, dropped, stalled, flipped replies, a reboot or a hang at each
//! block, ERROR to each command that changes the modem, refused or ineffective boot
//! switches, noise, late replies, a vanished link at each request, silence, data mode,
//! one baud rate only, a MicroPython prompt) and once per Ctrl-C at each stage. Each run
//! is checked against the modem's own view:
//! - success is claimed only with the modem back in application mode, running the new
//!   build, the image received byte for byte;
//! - after a failure the reported state is the modem's true state, `modem: not changed`
//!   only when no command that changes the modem was received, and the printed `next:`
//!   command, parsed as a shell would and run after the hint's advice (a power cycle, a
//!   wait) against the same modem, continues: within a few commands the update completes;
//! - never more than 10 s without output; no protocol violation the modem saw.

mod bench;
mod unattended;

use bench::{execute, failure_lines, follow_advice, Bench, Cmd, CtrlC, Done, Files, NEW_BUILD};
use sqnsim::{Config, Fault, TransferKind};
use sqnsupgrade::hal::Stage;
use sqnsupgrade::report::UserOptions;
use sqnsupgrade::state::State;
use std::time::Instant;

/// The image: 12 blocks of 2016 bytes and a short last one.
const IMAGE_SIZE: usize = 12 * 2016 + 999;
/// At most this many commands after the first before the update must be complete.
const MAX_FOLLOW_UPS: usize = 4;
/// The longest silence allowed during any wait (the engine notes every 10 s; a read
/// in progress may end up to half a second later).
const MAX_SILENCE_MS: u64 = 10_600;
/// A watchdog of 1 s on the board must never starve: the engine says it is alive at least
/// that often, in every wait, transfer and reset (`Event::Alive`, every 250 ms).
const MAX_UNFED_MS: u64 = 1_000;

#[derive(Debug, Clone, Copy)]
struct Plan {
    name: &'static str,
    state: u8,
    bootloader0: u32,
    updater: bool,
    bootrom: bool,
    fff: bool,
    on_the_fly: bool,
}

const PLANS: [Plan; 8] = [
    Plan {
        name: "application, default method (FFF)",
        state: 2,
        bootloader0: 38638,
        updater: false,
        bootrom: false,
        fff: false,
        on_the_fly: false,
    },
    Plan {
        name: "application, --fff",
        state: 2,
        bootloader0: 38638,
        updater: false,
        bootrom: false,
        fff: true,
        on_the_fly: false,
    },
    Plan {
        name: "application, --on-the-fly",
        state: 2,
        bootloader0: 38638,
        updater: false,
        bootrom: false,
        fff: false,
        on_the_fly: true,
    },
    Plan {
        name: "upgrade mode (an interrupted update)",
        state: 4,
        bootloader0: 38638,
        updater: false,
        bootrom: false,
        fff: false,
        on_the_fly: false,
    },
    Plan {
        name: "mTools mode",
        state: 1,
        bootloader0: 38638,
        updater: false,
        bootrom: false,
        fff: false,
        on_the_fly: false,
    },
    Plan {
        name: "recovery mode with updater.elf",
        state: 0,
        bootloader0: 38638,
        updater: true,
        bootrom: false,
        fff: false,
        on_the_fly: false,
    },
    Plan {
        name: "recovery mode, bootloader 33080, with the bootrom package",
        state: 0,
        bootloader0: 33080,
        updater: true,
        bootrom: true,
        fff: false,
        on_the_fly: false,
    },
    Plan {
        name: "application with updater.elf given (not needed)",
        state: 2,
        bootloader0: 38638,
        updater: true,
        bootrom: false,
        fff: false,
        on_the_fly: false,
    },
];

impl Plan {
    fn config(&self, faults: Vec<Fault>) -> Config {
        Config {
            state: self.state,
            bootloader0: self.bootloader0,
            // A modem set to echo in every plan, also those that start in upgrade mode,
            // mTools or recovery (where the simulator's default is off): the engine must
            // tolerate echo wherever it may be on (PROTOCOL.md 3).
            echo: Some(true),
            faults,
            reboot_ms: 3_000,
            upgrade_ms: 240_000,
            erase_ms: 20_000,
            finish_ms: 20_000,
            ..Config::default()
        }
    }

    fn command(&self) -> Cmd {
        Cmd::Run {
            firmware: bench::FIRMWARE.into(),
            updater: self.updater.then(|| bench::UPDATER.into()),
            bootrom: self.bootrom.then(|| bench::BOOTROM.into()),
            options: UserOptions {
                fff: self.fff,
                on_the_fly: self.on_the_fly,
                ..UserOptions::default()
            },
        }
    }
}

/// What a scenario showed.
#[derive(Debug, Default)]
struct Seen {
    /// Commands run (the first included).
    commands: usize,
    /// The first command failed.
    first_failed: bool,
    /// AT/STP requests the modem received.
    requests: u32,
    /// TRANSFER_BLOCK requests of the clean firmware transfer.
    blocks: u64,
    /// Stages of the first command.
    stages: Vec<Stage>,
    /// The first failure's lines.
    lines: Option<(String, String, String, String)>,
}

/// Checks that the update is complete on the modem: application mode, the new build,
/// the image received byte for byte, no violation.
fn check_complete(bench: &Bench, files: &Files) -> Result<(), String> {
    let modem = bench.port.modem();
    if bench.true_state() != Some(State::Application) {
        return Err(format!(
            "the modem is in state {:?}, not application mode",
            modem.state()
        ));
    }
    if modem.software_build() != NEW_BUILD {
        return Err(format!("the modem runs build {}", modem.software_build()));
    }
    let image = modem
        .log()
        .transfers()
        .iter()
        .rev()
        .find(|t| t.kind == TransferKind::Firmware && t.complete)
        .ok_or("no complete firmware transfer")?;
    if image.bytes() != files.firmware.as_slice() {
        return Err(format!(
            "the image arrived different: {} bytes of {}",
            image.bytes().len(),
            files.firmware.len()
        ));
    }
    Ok(())
}

fn violations(bench: &Bench) -> Result<(), String> {
    match bench.port.modem().log().violations() {
        [] => Ok(()),
        v => Err(format!("protocol violations: {v:?}")),
    }
}

/// Runs the plan with `faults` and `ctrl_c`, then follows the printed next steps.
fn scenario(plan: &Plan, faults: &[&str], ctrl_c: Option<CtrlC>) -> Result<Seen, String> {
    let faults = faults
        .iter()
        .map(|f| f.parse::<Fault>().map_err(|e| format!("fault {f}: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    let files = Files::new(IMAGE_SIZE);
    let mut bench = Bench::new(plan.config(faults));
    bench.ctrl_c = ctrl_c;
    let first = plan.command();
    let mut cmd = first.clone();
    let mut seen = Seen::default();
    let mut transcript = String::new();
    for step in 0..=MAX_FOLLOW_UPS {
        let log_start = bench.port.modem().log().commands().len();
        let screen_start = bench.screen.text().len();
        let done = execute(&mut bench, &files, &cmd);
        seen.commands += 1;
        if step == 0 {
            seen.stages = bench.stages.clone();
        }
        let printed = bench.screen.text()[screen_start..].to_string();
        transcript.push_str(&format!("$ {cmd:?}\n{printed}"));
        macro_rules! fail {
            ($why:expr) => {
                return Err(format!("{}\n--- transcript ---\n{}", $why, transcript))
            };
        }
        if bench.longest_silence_ms > MAX_SILENCE_MS {
            fail!(format!(
                "{} ms without output during {cmd:?}",
                bench.longest_silence_ms
            ));
        }
        bench.end();
        if bench.longest_unfed_ms > MAX_UNFED_MS {
            fail!(format!(
                "{} ms without a sign of life (a watchdog's feed) during {cmd:?}",
                bench.longest_unfed_ms
            ));
        }
        if let Err(e) = violations(&bench) {
            fail!(e);
        }
        match done {
            Done::Updated(outcome) => {
                if let Err(e) = check_complete(&bench, &files) {
                    fail!(format!("success claimed, but {e}"));
                }
                if outcome.state_after != Some(State::Application) {
                    fail!(format!(
                        "success with state_after {:?}",
                        outcome.state_after
                    ));
                }
                let modem = bench.port.modem();
                seen.requests = modem.log().requests();
                seen.blocks = modem
                    .log()
                    .transfers()
                    .iter()
                    .filter(|t| t.kind == TransferKind::Firmware && t.complete)
                    .map(|t| t.blocks)
                    .next_back()
                    .unwrap_or(0);
                return Ok(seen);
            }
            Done::State(s) => {
                if Some(s) != bench.true_state() {
                    fail!(format!(
                        "`state` said {s:?}, the modem is in {:?}",
                        bench.port.modem().state()
                    ));
                }
                if check_complete(&bench, &files).is_ok() {
                    return Ok(seen);
                }
                // The state is known now: the user runs the update again.
                cmd = first.clone();
            }
            Done::Failed(f) => {
                if step == 0 {
                    seen.first_failed = true;
                }
                let lines = failure_lines(&f, &cmd);
                transcript.push_str(&format!(
                    "error: {}\nhint: {}\nmodem: {}\nnext: {}\n",
                    lines.error, lines.hint, lines.modem, lines.next
                ));
                // The state the report names is the modem's now, or the one it was in when
                // the engine last listened (a modem busy erasing may change state later).
                let truth = bench.true_state();
                if f.modem_changed && f.state != truth && f.state != bench.truth_at_last_read {
                    fail!(format!(
                        "reported state {:?}, the modem is in {:?} ({}; {:?} when last heard)",
                        f.state,
                        bench.port.modem().state(),
                        lines.modem,
                        bench.truth_at_last_read
                    ));
                }
                if !f.modem_changed {
                    let changing: Vec<_> = bench.port.modem().log().commands()[log_start..]
                        .iter()
                        .filter(|c| c.changes_modem)
                        .map(|c| c.cmd.clone())
                        .collect();
                    if !changing.is_empty() {
                        fail!(format!("`modem: not changed` after {changing:?}"));
                    }
                }
                if seen.lines.is_none() {
                    seen.lines = Some((
                        lines.error.clone(),
                        lines.hint.clone(),
                        lines.modem.clone(),
                        lines.next.clone(),
                    ));
                }
                follow_advice(&mut bench, &lines.hint);
                cmd = match Cmd::parse(&lines.next) {
                    Ok(c) => c,
                    Err(e) => fail!(format!("the next step does not run: {e}")),
                };
            }
        }
    }
    Err(format!(
        "the update is not complete after {} commands\n--- transcript ---\n{transcript}",
        MAX_FOLLOW_UPS + 1
    ))
}

/// The faults for a plan whose clean run made `requests` requests and sent `blocks`
/// firmware blocks (and stages `stages`).
fn faults_for(requests: u32, blocks: u64) -> Vec<Vec<String>> {
    let mut all: Vec<Vec<String>> = Vec::new();
    let one = |s: String| vec![s];
    for k in 1..=blocks {
        for kind in ["corrupt-reply", "drop-reply", "reboot", "hang"] {
            all.push(one(format!("{kind}@block={k}")));
        }
        all.push(one(format!("stall@block={k}:100000")));
    }
    for k in 1..=requests {
        all.push(one(format!("flip@req={k}")));
        all.push(one(format!("link-gone@req={k}")));
    }
    for f in [
        "late:1000",
        "late:2000",
        "late@cmd=AT+SMOD?:2000",
        "swboot-error",
        "swboot-error@3,1",
        "swboot-error@1,1",
        "swboot-error@0,1",
        "swboot-no-effect",
        "stpu-noise",
        "stpu-noise:16",
        "only-115200",
        "data-mode",
        "error@cmd=AT+SMSTPU*#1",
        "error@cmd=AT+SMSWBOOT=3,1#1",
        "error@cmd=AT+SMSWBOOT=1,1#1",
        "error@cmd=AT+STP#1",
        "error@cmd=AT+SMUPGRADE#1",
        "error@cmd=AT+IPR=921600#1",
        "error@cmd=AT+CFUN=4#1",
        "error@cmd=AT^RESET#1",
        "reboot@t=2000",
        "hang@t=2000",
    ] {
        all.push(one(f.to_string()));
    }
    all
}

/// Faults after which no command can continue by design: the user's own action is
/// needed (mirror mode on the board, a modem that never answers). Their reports are
/// checked for what they say.
const DEAD_ENDS: [&str; 2] = ["silent", "repl"];

fn ctrl_c_points(stages: &[Stage]) -> Vec<CtrlC> {
    let mut points = Vec::new();
    for &stage in stages {
        for poll in [1, 2, 5, 40] {
            let p = CtrlC { stage, poll };
            if !points.contains(&p) {
                points.push(p);
            }
        }
    }
    points
}

/// With SQN_FLOWS_EXAMPLES=1, prints what the user saw first (the README's examples).
fn example(plan: &Plan, what: &str, seen: &Seen) {
    if std::env::var_os("SQN_FLOWS_EXAMPLES").is_none() {
        return;
    }
    if let Some((error, hint, modem, next)) = &seen.lines {
        eprintln!(
            "[{}] {what} ({} commands in all)\n  error: {error}\n  hint: {hint}\n  modem: {modem}\n  next: {next}",
            plan.name, seen.commands
        );
    }
}

/// Runs every scenario of one plan; fails with the list of what went wrong.
fn plan_scenarios(plan: &Plan) {
    let start = Instant::now();
    let clean = scenario(plan, &[], None)
        .unwrap_or_else(|e| panic!("{}: the clean update fails: {e}", plan.name));
    assert!(
        !clean.first_failed,
        "{}: the clean update failed first",
        plan.name
    );
    assert_eq!(clean.commands, 1);
    assert!(clean.blocks >= 13, "{}: {} blocks", plan.name, clean.blocks);
    let mut problems = Vec::new();
    let mut count = 1;
    // SQN_FLOWS_ONLY=TEXT runs only the scenarios whose description contains TEXT (to
    // look at one; SQN_FLOWS_DEBUG=1 also prints the engine's debug lines).
    let only = std::env::var("SQN_FLOWS_ONLY").ok();
    let chosen = |what: &str| only.as_deref().is_none_or(|o| what.contains(o));
    for faults in faults_for(clean.requests, clean.blocks) {
        let faults: Vec<&str> = faults.iter().map(String::as_str).collect();
        if !chosen(&format!("{faults:?}")) {
            continue;
        }
        count += 1;
        match scenario(plan, &faults, None) {
            Err(e) => problems.push(format!("[{}] fault {faults:?}: {e}", plan.name)),
            Ok(seen) => example(plan, &format!("{faults:?}"), &seen),
        }
    }
    for point in ctrl_c_points(&clean.stages) {
        if !chosen(&format!("{point:?}")) {
            continue;
        }
        count += 1;
        match scenario(plan, &[], Some(point)) {
            Err(e) => problems.push(format!("[{}] Ctrl-C {point:?}: {e}", plan.name)),
            Ok(seen) => example(plan, &format!("Ctrl-C {point:?}"), &seen),
        }
    }
    for dead in DEAD_ENDS {
        if !chosen(dead) {
            continue;
        }
        count += 1;
        match scenario(plan, &[dead], None) {
            Ok(_) => problems.push(format!("[{}] {dead}: the update completed", plan.name)),
            Err(e) if !e.contains("not complete after") => {
                problems.push(format!("[{}] {dead}: {e}", plan.name))
            }
            Err(_) => {}
        }
    }
    eprintln!(
        "{}: {count} scenarios in {:.2} s",
        plan.name,
        start.elapsed().as_secs_f64()
    );
    if !problems.is_empty() {
        let summary: Vec<&str> = problems
            .iter()
            .map(|p| p.lines().next().unwrap_or(""))
            .collect();
        panic!(
            "{} scenarios failed:\n{}\n\nthe first in full:\n{}",
            problems.len(),
            summary.join("\n"),
            problems[0]
        );
    }
}

#[test]
fn from_application_default_method() {
    plan_scenarios(&PLANS[0]);
}

#[test]
fn from_application_fff() {
    plan_scenarios(&PLANS[1]);
}

#[test]
fn from_application_on_the_fly() {
    plan_scenarios(&PLANS[2]);
}

#[test]
fn from_upgrade_mode() {
    plan_scenarios(&PLANS[3]);
}

#[test]
fn from_mtools_mode() {
    plan_scenarios(&PLANS[4]);
}

#[test]
fn from_recovery_mode() {
    plan_scenarios(&PLANS[5]);
}

#[test]
fn from_recovery_mode_old_bootloader() {
    plan_scenarios(&PLANS[6]);
}

#[test]
fn from_application_with_an_unneeded_updater() {
    plan_scenarios(&PLANS[7]);
}

/// A modem whose boot switch to application mode never takes effect (neither `1,1` nor
/// the `1,0` + `AT^RESET` fallback): the update must not be called a success, and the
/// report says where the modem is.
#[test]
fn a_switch_back_without_effect_is_no_success() {
    let plan = &PLANS[2]; // ON_THE_FLY ends with the switch back
    let err = scenario(
        plan,
        &["swboot-no-effect@1,1", "swboot-no-effect@1,0"],
        None,
    )
    .expect_err("the update cannot complete on this modem");
    assert!(
        err.contains("error: the modem did not come back in application mode after the update"),
        "{err}"
    );
    assert!(err.contains("modem: 4 upgrade mode"), "{err}");
    assert!(
        err.contains(
            "hint: the modem waits in upgrade mode: run the update with the full image again"
        ),
        "{err}"
    );
    assert!(!err.contains("Upgrade completed"), "{err}");
}
