//! End to end: every fault the simulator can inject ends in success (resend, stall,
//! ERROR fallback, `+++`, 115200) or in a clear error naming the modem's state and the
//! command that continues.

mod common;
use common::*;

fn update_with_fault(fault: &str) -> (Run, serde_json::Value, Vec<u8>) {
    let dir = temp_dir("fault");
    let dup = make_dup(&dir, "CATM1-41065.dup", 300_000, "CATM1-41065");
    let sim = Sim::start(&["--fault", fault]);
    let run = sim.cli(&["run", s(&dup), "--on-the-fly"]);
    let log = sim.stop();
    (run, log, std::fs::read(&dup).unwrap())
}

fn assert_recovered(fault: &str) -> serde_json::Value {
    let (run, log, image) = update_with_fault(fault);
    assert_eq!(run.code, 0, "{fault}: {}", run.all());
    assert_no_violations(&log);
    assert_eq!(
        transfer_bytes(&log, log["transfers"].as_array().unwrap().len()),
        image
    );
    assert_eq!(log["state"], 2);
    log
}

#[test]
fn corrupted_reply_is_resent() {
    let log = assert_recovered("corrupt-reply@3");
    assert!(log["transfers"][0]["resends"].as_u64().unwrap() >= 1);
}

#[test]
fn dropped_reply_is_resent() {
    let log = assert_recovered("drop-reply@4");
    assert!(log["transfers"][0]["resends"].as_u64().unwrap() >= 1);
}

#[test]
fn stall_is_waited_out() {
    assert_recovered("stall@5:2000");
}

#[test]
fn residue_is_sent_again() {
    assert_recovered("residue@2:100");
}

#[test]
fn swboot_error_falls_back_to_reset() {
    let log = assert_recovered("swboot-error");
    let cmds = commands(&log);
    assert!(cmds.iter().any(|c| c == "AT+SMSWBOOT=3,0"), "{cmds:?}");
    assert!(cmds.iter().any(|c| c == "AT^RESET"), "{cmds:?}");
}

#[test]
fn data_mode_needs_plus_plus_plus() {
    assert_recovered("data-mode");
}

#[test]
fn modem_at_115200_only() {
    assert_recovered("only-115200");
}

#[test]
fn swboot_error_everywhere_aborts_clearly() {
    let (run, log, _) = update_with_fault("swboot-error-all");
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        run.stderr
            .contains("Received ERROR from AT+SMSWBOOT=3,1! Aborting!"),
        "{}",
        run.all()
    );
    assert!(
        run.stderr.contains("modem: 2 application mode"),
        "{}",
        run.all()
    );
    assert!(
        run.stderr.contains(&format!(
            "next: {} --port",
            env!("CARGO_BIN_EXE_sqnsupgrade")
        )),
        "{}",
        run.all()
    );
    assert!(log["transfers"].as_array().is_none_or(|t| t.is_empty()));
}

#[test]
fn silent_modem_is_reported_and_untouched() {
    let (run, log, _) = update_with_fault("silent");
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        run.stderr.contains("Cannot determine modem state!"),
        "{}",
        run.all()
    );
    assert!(
        run.stderr.contains("unplug the board's power"),
        "{}",
        run.all()
    );
    assert!(run.stderr.contains("modem: not changed"), "{}", run.all());
    assert_modem_untouched(&log);
}

#[test]
fn reboot_mid_transfer_then_second_run_completes() {
    let dir = temp_dir("reboot");
    let dup = make_dup(&dir, "CATM1-41065.dup", 400_000, "CATM1-41065");
    let sim = Sim::start(&["--fault", "reboot@20"]);
    let first = sim.cli(&["run", s(&dup)]);
    assert_eq!(first.code, 1, "{}", first.all());
    assert!(
        first.stderr.contains("restarted during the transfer"),
        "{}",
        first.all()
    );
    assert!(
        first.stderr.contains("modem: 4 upgrade mode"),
        "{}",
        first.all()
    );
    // The command that continues runs as printed: the CLI as it was run.
    let next = format!(
        "next: {} --port {} run {}",
        env!("CARGO_BIN_EXE_sqnsupgrade"),
        sim.pty,
        s(&dup)
    );
    assert!(first.stderr.contains(&next), "{}", first.all());
    assert_eq!(sim.log()["state"], 4);
    let second = sim.cli(&["run", s(&dup)]);
    assert_eq!(second.code, 0, "{}", second.all());
    let log = sim.stop();
    assert_no_violations(&log);
    let n = log["transfers"].as_array().unwrap().len();
    assert_eq!(log["transfers"][n - 1]["complete"], true);
    assert_eq!(transfer_bytes(&log, n), std::fs::read(&dup).unwrap());
    assert_eq!(log["state"], 2);
}

#[test]
fn ctrl_c_mid_transfer_stops_cleanly_and_the_next_run_completes() {
    use std::io::Read;
    let dir = temp_dir("ctrlc");
    let dup = make_dup(&dir, "CATM1-41065.dup", 600_000, "CATM1-41065");
    let sim = Sim::start(&["--baud-pacing"]);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_sqnsupgrade"))
        .args(["--port", &sim.pty, "run", s(&dup), "--on-the-fly"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the transfer runs, then press Ctrl-C.
    wait_for_transfer(&sim, 1500);
    send_signal(child.id(), libc::SIGINT);
    let status = child.wait().unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert_eq!(status.code(), Some(130), "{err}");
    assert!(err.contains("stopped by the user"), "{err}");
    assert!(err.contains("modem: 4 upgrade mode"), "{err}");
    let state = sim.cli(&["state"]);
    assert!(
        state.stdout.starts_with("4 upgrade mode"),
        "{}",
        state.all()
    );
    let again = sim.cli(&["run", s(&dup)]);
    assert_eq!(again.code, 0, "{}", again.all());
    let log = sim.stop();
    assert_no_violations(&log);
    let n = log["transfers"].as_array().unwrap().len();
    let first = log["transfers"][0]["bytes"].as_u64().unwrap();
    assert!(
        first > 0 && first < 600_000,
        "the interrupted transfer sent {first} bytes"
    );
    assert_eq!(transfer_bytes(&log, n), std::fs::read(&dup).unwrap());
    assert_eq!(log["state"], 2);
}

#[test]
fn a_vanished_port_is_noticed_at_once() {
    // The simulator closes its pty at the 5th block (a USB cable pulled). With the
    // default 90 s reply timeout, the CLI must notice the hang-up itself.
    let dir = temp_dir("gone");
    let dup = make_dup(&dir, "CATM1-41065.dup", 300_000, "CATM1-41065");
    let sim = Sim::start(&["--fault", "link-gone@block=5"]);
    let started = std::time::Instant::now();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sqnsupgrade"))
        .args(["--port", &sim.pty, "run", s(&dup), "--on-the-fly"])
        .output()
        .unwrap();
    let took = started.elapsed();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("error: the serial link to the modem went away"),
        "{err}"
    );
    assert!(err.contains("hint: the port went away"), "{err}");
    assert!(err.contains("modem: unknown"), "{err}");
    assert!(
        err.contains(" state\n"),
        "next: the state, once it is back: {err}"
    );
    assert!(
        took < std::time::Duration::from_secs(30),
        "the vanished port took {took:?} to notice (reply timeout 90 s)"
    );
}

#[test]
fn a_second_ctrl_c_ends_at_once_and_says_the_state_is_unknown() {
    let dir = temp_dir("ctrlc2");
    let dup = make_dup(&dir, "CATM1-41065.dup", 600_000, "CATM1-41065");
    // AT+SMOD? answers 1.5 s late: the safe stop after the first Ctrl-C (which asks the
    // modem's state) takes a while.
    let sim = Sim::start(&["--baud-pacing", "--fault", "late@cmd=AT+SMOD?:1500"]);
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_sqnsupgrade"))
        .args(["--port", &sim.pty, "run", s(&dup), "--on-the-fly"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_transfer(&sim, 0);
    for _ in 0..2 {
        send_signal(child.id(), libc::SIGINT);
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(err.contains("error: stopped by the user"), "{err}");
    assert!(err.contains("modem: unknown"), "{err}");
    assert!(
        err.contains(&format!(
            "next: {} --port {} state",
            env!("CARGO_BIN_EXE_sqnsupgrade"),
            sim.pty
        )),
        "{err}"
    );
}
