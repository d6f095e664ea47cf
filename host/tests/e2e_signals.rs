//! End to end: the CLI ended by a signal in the middle of a transfer. SIGKILL leaves the
//! modem inside the STP session: the same command run again ends it (STP RESET) and
//! completes. SIGTERM and SIGHUP end the run like Ctrl-C: status 130, the four lines, the
//! session closed (`state` answers at once), and the update completes when run again. A
//! SIGHUP the CLI was started with ignored (`nohup`) stays ignored.
#![cfg(unix)]

mod common;
use common::*;

/// The image and the simulator of one test: 600 KB on a wire paced at 921600 baud (about
/// 6.5 s of transfer).
fn paced(tag: &str) -> (std::path::PathBuf, Sim) {
    let dir = temp_dir(tag);
    let dup = make_dup(&dir, "CATM1-41065.dup", 600_000, "CATM1-41065");
    (dup, Sim::start(&["--baud-pacing"]))
}

/// The last transfer received the whole image, the modem runs its build.
fn assert_completed(log: &serde_json::Value, dup: &std::path::Path) {
    let n = log["transfers"].as_array().unwrap().len();
    assert_eq!(log["transfers"][n - 1]["complete"], true);
    assert_eq!(transfer_bytes(log, n), std::fs::read(dup).unwrap());
    assert_eq!(log["state"], 2);
    assert_eq!(log["software_build"], 41065);
}

fn killed_mid_transfer_then_the_same_command_completes(method: &str) {
    let (dup, sim) = paced(&format!("kill{method}"));
    let args = ["run", s(&dup), method];
    let child = spawn_cli(&sim.pty, &args, false);
    wait_for_transfer(&sim, 1500);
    send_signal(child.id(), libc::SIGKILL);
    let (code, _) = finished(child);
    assert_eq!(code, None, "ended by the signal");
    // The modem is left inside the session: the transfer is open, not complete.
    std::thread::sleep(std::time::Duration::from_millis(1200));
    let open = sim.log();
    assert_eq!(
        open["transfers"][0]["active"], true,
        "{}",
        open["transfers"]
    );
    assert_eq!(open["transfers"][0]["complete"], false);
    let again = sim.cli(&args);
    assert_ok(&again);
    assert!(
        again
            .stdout
            .contains("The modem was still inside an unfinished transfer: ended it (STP RESET)"),
        "{}",
        again.all()
    );
    let log = sim.stop();
    // The AT text the second run sent before its RESET fell into the open session: the
    // simulator reads a command as a frame with a bad signature, and `+++` (3 bytes, then
    // the escape's silence) as an incomplete frame. Nothing else is wrong.
    let violations: Vec<&str> = log["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        violations
            .iter()
            .any(|v| v.starts_with("STP: bad signature (bytes 41540d0a)")),
        "no AT command reached the session: {violations:?}"
    );
    for v in &violations {
        assert!(
            v.starts_with("STP: bad signature (bytes 41540d0a)")
                || *v == "STP: incomplete frame (3 bytes) discarded after 1 s of silence",
            "{violations:?}"
        );
    }
    assert_completed(&log, &dup);
}

#[test]
fn sigkill_mid_on_the_fly_then_the_same_command_completes() {
    killed_mid_transfer_then_the_same_command_completes("--on-the-fly");
}

#[test]
fn sigkill_mid_fff_then_the_same_command_completes() {
    killed_mid_transfer_then_the_same_command_completes("--fff");
}

fn stopped_like_ctrl_c(signal: libc::c_int, tag: &str) {
    let (dup, sim) = paced(tag);
    let args = ["run", s(&dup), "--on-the-fly"];
    let child = spawn_cli(&sim.pty, &args, false);
    wait_for_transfer(&sim, 1500);
    send_signal(child.id(), signal);
    let (code, err) = finished(child);
    assert_eq!(code, Some(130), "{err}");
    assert!(err.contains("error: stopped by the user\n"), "{err}");
    assert!(
        err.contains("\nhint: the modem waits in upgrade mode"),
        "{err}"
    );
    assert!(err.contains("\nmodem: 4 upgrade mode\n"), "{err}");
    assert!(
        err.contains(&format!(
            "\nnext: {} --port {} run {} --on-the-fly\n",
            env!("CARGO_BIN_EXE_sqnsupgrade"),
            sim.pty,
            s(&dup)
        )),
        "{err}"
    );
    // The session was closed: the modem answers AT at once.
    let state = sim.cli(&["state"]);
    assert!(
        state.stdout.starts_with("4 upgrade mode"),
        "{}",
        state.all()
    );
    let again = sim.cli(&args);
    assert_ok(&again);
    let log = sim.stop();
    assert_no_violations(&log);
    let first = log["transfers"][0]["bytes"].as_u64().unwrap();
    assert!(
        first > 0 && first < 600_000,
        "the stopped transfer sent {first} bytes"
    );
    assert_completed(&log, &dup);
}

#[test]
fn sigterm_mid_transfer_ends_like_ctrl_c() {
    stopped_like_ctrl_c(libc::SIGTERM, "sigterm");
}

#[test]
fn sighup_mid_transfer_ends_like_ctrl_c() {
    stopped_like_ctrl_c(libc::SIGHUP, "sighup");
}

#[test]
fn a_sighup_ignored_at_start_stays_ignored() {
    // As under `nohup`: the update goes on when the terminal goes away.
    let (dup, sim) = paced("nohup");
    let child = spawn_cli(&sim.pty, &["run", s(&dup), "--on-the-fly"], true);
    wait_for_transfer(&sim, 1500);
    send_signal(child.id(), libc::SIGHUP);
    let (code, err) = finished(child);
    assert_eq!(code, Some(0), "{err}");
    let log = sim.stop();
    assert_no_violations(&log);
    assert_eq!(log["transfers"].as_array().unwrap().len(), 1);
    assert_completed(&log, &dup);
}
