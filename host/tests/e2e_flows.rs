//! End to end: the CLI updates the simulator over a pty in every flow of docs/PROTOCOL.md
//! section 6, and the simulator's recording must equal the file byte for byte, without
//! violations.

mod common;
use common::*;

const MIB: usize = 1024 * 1024;

#[test]
fn fff_update_from_application_mode() {
    let dir = temp_dir("fff");
    let dup = make_dup(
        &dir,
        "upgdiff_38638-to-41065.dup",
        600_000,
        "upgdiff_38638-to-41065",
    );
    let sim = Sim::start(&["--state", "2"]);
    let run = sim.cli(&["run", s(&dup)]);
    assert_ok(&run);
    // The engine's welcome line (src/messages.txt), as the board and the Python package
    // print it.
    let welcome = format!(
        "<<< Welcome to the SQN3330 firmware updater [{}] >>>\n",
        env!("CARGO_PKG_VERSION")
    );
    assert!(run.stdout.starts_with(&welcome), "{}", run.all());
    assert!(
        run.stdout
            .contains("Session opened: version 1, max transfer 8192 bytes"),
        "{}",
        run.all()
    );
    assert!(run.stdout.contains("Upgrade completed!"));
    assert!(
        run.stdout.contains("LR5.1.1.0-41065"),
        "new version printed: {}",
        run.all()
    );
    let log = sim.stop();
    assert_no_violations(&log);
    let t = &log["transfers"][0];
    assert_eq!(t["via"], "AT+SMSTPU");
    assert_eq!(transfer_bytes(&log, 1), std::fs::read(&dup).unwrap());
    let cmds = commands(&log);
    assert!(cmds.iter().any(|c| c == "AT+SMUPGRADE"), "{cmds:?}");
    assert!(
        !cmds.iter().any(|c| c.starts_with("AT+SMSWBOOT=3")),
        "FFF needs no boot switch: {cmds:?}"
    );
    assert_eq!(log["state"], 2);
    assert_eq!(log["result"]["upgrade"], "success");
}

#[test]
fn on_the_fly_when_asked() {
    let dir = temp_dir("otf");
    let dup = make_dup(&dir, "CATM1-41065.dup", MIB, "CATM1-41065");
    let sim = Sim::start(&[]);
    let run = sim.cli(&["run", s(&dup), "--on-the-fly"]);
    assert_ok(&run);
    assert!(run.stdout.contains("Starting STP ON_THE_FLY"));
    assert!(run
        .stdout
        .contains("Code download done, returning to user mode"));
    let log = sim.stop();
    assert_no_violations(&log);
    assert_eq!(log["transfers"][0]["via"], "AT+SMSTPU=\"ON_THE_FLY\"");
    assert_eq!(transfer_bytes(&log, 1), std::fs::read(&dup).unwrap());
    let cmds = commands(&log);
    let pos = |c: &str| {
        cmds.iter()
            .position(|x| x == c)
            .unwrap_or_else(|| panic!("{c} missing: {cmds:?}"))
    };
    assert!(pos("AT+SQNSUPGRADENTF=\"started\"") < pos("AT+SMSWBOOT=3,1"));
    assert!(pos("AT+CFUN=4") < pos("AT+SMSWBOOT=3,1"));
    assert!(pos("AT+SMSWBOOT=3,1") < pos("AT+SMSTPU=\"ON_THE_FLY\""));
    assert!(pos("AT+SMSWBOOT=1,1") > pos("AT+SMSTPU=\"ON_THE_FLY\""));
    assert!(cmds.iter().any(|c| c == "AT+SQNSUPGRADENTF=\"success\""));
    assert_eq!(log["state"], 2);
}

#[test]
fn big_image_goes_on_the_fly_automatically() {
    let dir = temp_dir("big");
    let dup = make_dup(&dir, "NB1-41019.dup", 5_835_531, "NB1-41019");
    let sim = Sim::start(&[]);
    let run = sim.cli(&["run", s(&dup)]);
    assert_ok(&run);
    assert!(run
        .stdout
        .contains("Firmware file is too big to load via FFF method. Using ON_THE_FLY"));
    // On a pipe: the size, then a line at every 10 %.
    assert!(run.stdout.contains("Sending the image: 5835531 bytes"));
    assert!(run.stdout.contains("  100% (5,835,531 of 5,835,531 bytes"));
    let log = sim.stop();
    assert_no_violations(&log);
    assert_eq!(log["transfers"][0]["via"], "AT+SMSTPU=\"ON_THE_FLY\"");
    assert_eq!(transfer_bytes(&log, 1), std::fs::read(&dup).unwrap());
}

#[test]
fn whole_max_transfer_blocks() {
    let dir = temp_dir("max");
    let dup = make_dup(&dir, "CATM1-41065.dup", 800_000, "CATM1-41065");
    let sim = Sim::start(&[]);
    assert_ok(&sim.cli(&["run", s(&dup), "--block-size", "max"]));
    let log = sim.stop();
    assert_no_violations(&log);
    assert_eq!(transfer_bytes(&log, 1), std::fs::read(&dup).unwrap());
    assert_eq!(log["transfers"][0]["blocks"], 800_000u64.div_ceil(8176));
}

#[test]
fn mtools_mode_skips_the_boot_switch() {
    let dir = temp_dir("mtools");
    let dup = make_dup(&dir, "CATM1-41065.dup", 700_000, "CATM1-41065");
    let sim = Sim::start(&["--state", "1"]);
    let run = sim.cli(&["run", s(&dup)]);
    assert_ok(&run);
    let log = sim.stop();
    assert_no_violations(&log);
    let cmds = commands(&log);
    assert!(!cmds.iter().any(|c| c == "AT+SMSWBOOT=3,1"), "{cmds:?}");
    assert!(
        cmds.iter().any(|c| c == "AT+BIND=AT"),
        "preparation runs: {cmds:?}"
    );
    assert_eq!(log["transfers"][0]["via"], "AT+SMSTPU=\"ON_THE_FLY\"");
    assert_eq!(transfer_bytes(&log, 1), std::fs::read(&dup).unwrap());
    assert_eq!(log["state"], 2);
}

#[test]
fn resume_from_upgrade_mode() {
    let dir = temp_dir("resume");
    let dup = make_dup(&dir, "CATM1-41065.dup", 900_000, "CATM1-41065");
    let sim = Sim::start(&["--state", "4"]);
    let run = sim.cli(&["run", s(&dup), "--resume"]);
    assert_ok(&run);
    let log = sim.stop();
    assert_no_violations(&log);
    let cmds = commands(&log);
    assert!(
        !cmds
            .iter()
            .any(|c| c == "AT+BIND=AT" || c.starts_with("AT+SMSWBOOT=3")),
        "{cmds:?}"
    );
    assert_eq!(transfer_bytes(&log, 1), std::fs::read(&dup).unwrap());
    assert_eq!(log["state"], 2);
}

fn recovery(start_args: &[&str]) {
    let dir = temp_dir("recovery");
    let dup = make_dup(&dir, "CATM1-41065.dup", 1_200_000, "CATM1-41065");
    let elf = make_elf(&dir, 306_076);
    let sim = Sim::start(start_args);
    let run = sim.cli(&["run", s(&dup), "--updater", s(&elf)]);
    assert_ok(&run);
    assert!(run.stdout.contains("Attempting AT auto-negotiation..."));
    assert!(
        run.stdout
            .contains("Session opened: version 1, max transfer 2048 bytes"),
        "{}",
        run.all()
    );
    let log = sim.stop();
    assert_no_violations(&log);
    assert_eq!(log["transfers"][0]["via"], "AT+STP");
    assert_eq!(log["transfers"][0]["max_transfer"], 2048);
    assert_eq!(transfer_bytes(&log, 1), std::fs::read(&elf).unwrap());
    assert_eq!(log["transfers"][1]["via"], "AT+SMSTPU=\"ON_THE_FLY\"");
    assert_eq!(transfer_bytes(&log, 2), std::fs::read(&dup).unwrap());
    let cmds: Vec<_> = log["commands"].as_array().unwrap().clone();
    let ipr = cmds
        .iter()
        .find(|c| c["cmd"] == "AT+IPR=921600")
        .expect("AT+IPR sent");
    assert_eq!(ipr["baud"], 115200, "AT+IPR is sent at 115200");
    let stp = cmds
        .iter()
        .find(|c| c["cmd"] == "AT+STP")
        .expect("AT+STP sent");
    assert_eq!(
        stp["baud"], 921600,
        "the updater goes at 921600 after AT+IPR"
    );
    assert_eq!(log["state"], 2);
}

#[test]
fn recovery_with_updater_elf() {
    recovery(&["--state", "0"]);
}

#[test]
fn bootrom_step_for_bootloader_33080() {
    let dir = temp_dir("bootrom");
    let dup = make_dup(&dir, "CATM1-41065.dup", 1_000_000, "CATM1-41065");
    let elf = make_elf(&dir, 306_076);
    let bootrom = make_dup(&dir, "bootrom.dup", 54_854, "bootrom");
    let sim = Sim::start(&["--state", "2", "--bootloader0", "33080"]);
    let run = sim.cli(&[
        "run",
        s(&dup),
        "--updater",
        s(&elf),
        "--bootrom",
        s(&bootrom),
    ]);
    assert_ok(&run);
    assert!(run
        .stdout
        .contains("Bootrom updated successfully, switching to upgrade mode"));
    let log = sim.stop();
    assert_no_violations(&log);
    assert_eq!(transfer_bytes(&log, 1), std::fs::read(&bootrom).unwrap());
    assert_eq!(log["transfers"][1]["via"], "AT+STP");
    assert_eq!(transfer_bytes(&log, 2), std::fs::read(&elf).unwrap());
    assert_eq!(transfer_bytes(&log, 3), std::fs::read(&dup).unwrap());
    assert!(commands(&log).iter().any(|c| c == "AT+SMSWBOOT=0,1"));
    assert_eq!(log["state"], 2);
}

#[test]
fn state_and_info_in_every_mode() {
    for (state, name, info_line) in [
        ("0", "0 recovery mode", "Your modem is in recovery mode! Use firmware.dup and updater.elf to flash new firmware."),
        ("1", "1 mTools mode", "Your modem is in mTools mode."),
        ("2", "2 application mode", "Your modem is in application mode. Here is the current version:"),
        ("4", "4 upgrade mode", "Your modem is in upgrade mode! Use firmware.dup to flash new firmware."),
    ] {
        let sim = Sim::start(&["--state", state]);
        let run = sim.cli(&["state"]);
        assert_ok(&run);
        assert!(run.stdout.starts_with(name), "state {state}: {}", run.all());
        let run = sim.cli(&["info"]);
        assert_ok(&run);
        assert!(run.stdout.contains(info_line), "info {state}: {}", run.all());
        if state == "2" {
            assert!(run.stdout.contains("UE5.0.0.0d"));
            assert!(run.stdout.contains("LR5.1.1.0-38638"));
            assert!(run.stdout.contains("IMEI: 354347090000123"));
            let verbose = sim.cli(&["info", "--verbose"]);
            assert!(verbose.stdout.contains("Bootloader0  : 5.1.1.0 [38638]"), "{}", verbose.all());
        }
        let log = sim.stop();
        assert_no_violations(&log);
        assert_modem_untouched(&log);
    }
}

#[test]
fn load_updater_into_recovery_mode() {
    let dir = temp_dir("load");
    let elf = make_elf(&dir, 306_076);
    let sim = Sim::start(&["--state", "0"]);
    let run = sim.cli(&["load", s(&elf)]);
    assert_ok(&run);
    assert!(
        run.stdout
            .contains("Upgrader loaded successfully, modem is in upgrade mode"),
        "{}",
        run.all()
    );
    assert!(
        run.stdout.contains("Modem state: 1 mTools mode"),
        "{}",
        run.all()
    );
    let log = sim.stop();
    assert_no_violations(&log);
    assert_eq!(log["transfers"][0]["via"], "AT+STP");
    assert_eq!(transfer_bytes(&log, 1), std::fs::read(&elf).unwrap());
    assert_eq!(log["state"], 1);
}

#[test]
fn piped_progress_of_a_paced_6_mb_run_has_a_line_every_10_percent_and_10_seconds() {
    use std::io::{BufRead, BufReader};
    use std::time::{Duration, Instant};
    let dir = temp_dir("piped");
    let dup = make_dup(&dir, "CATM1-38638.dup", 5_996_938, "CATM1-41065");
    let sim = Sim::start(&["--baud-pacing", "--erase-ms", "0", "--finish-ms", "0"]);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_sqnsupgrade"))
        .args(["--port", &sim.pty, "run", s(&dup)])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Each line with the moment it arrived.
    let mut lines: Vec<(Instant, String)> = Vec::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        lines.push((Instant::now(), line.unwrap()));
    }
    assert!(child.wait().unwrap().success(), "{lines:?}");
    let start = lines
        .iter()
        .position(|(_, l)| l.starts_with("Sending the image: 5996938 bytes"))
        .expect("the transfer's first line");
    let end = lines
        .iter()
        .position(|(_, l)| l.starts_with("Sent the image: 5996938 bytes"))
        .expect("the transfer's last line");
    let progress: Vec<&(Instant, String)> = lines[start..=end].iter().collect();
    for tenth in 1..=10 {
        let p = format!("{:>3}% (", tenth * 10);
        assert!(
            progress.iter().any(|(_, l)| l.contains(&p)),
            "no line at {}%: {progress:?}",
            tenth * 10
        );
    }
    for pair in progress.windows(2) {
        let gap = pair[1].0.duration_since(pair[0].0);
        assert!(
            gap <= Duration::from_millis(10_500),
            "{gap:?} between {:?} and {:?}",
            pair[0].1,
            pair[1].1
        );
    }
    let log = sim.stop();
    assert_no_violations(&log);
    assert_eq!(transfer_bytes(&log, 1), std::fs::read(&dup).unwrap());
}
