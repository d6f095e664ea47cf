//! End to end: `--sha256`. A wrong digest stops ON_THE_FLY before anything changes the
//! modem and FFF before `AT+SMUPGRADE` (the modem stays in application mode at its build);
//! the right one lets both complete byte for byte; a malformed one is a bad option.

mod common;
use common::*;
use std::path::Path;

/// A digest that is not the image's (its own, every hex digit shifted).
fn wrong(hex: &str) -> String {
    hex.chars()
        .map(|c| match c {
            'f' => '0',
            '9' => 'a',
            c => char::from(c as u8 + 1),
        })
        .collect()
}

fn image(tag: &str) -> (std::path::PathBuf, String) {
    let dir = temp_dir(tag);
    let dup = make_dup(&dir, "CATM1-41065.dup", 300_000, "CATM1-41065");
    let hex = sha256_hex(&std::fs::read(&dup).unwrap());
    (dup, hex)
}

fn says_digest_differs(run: &Run, dup: &Path) {
    assert!(
        run.stderr.contains(&format!(
            "error: {}: firmware image: is not the image the SHA-256 given names",
            s(dup)
        )),
        "{}",
        run.all()
    );
    assert!(run
        .stderr
        .contains("hint: download or copy the image again"));
}

#[test]
fn a_wrong_sha256_stops_on_the_fly_before_anything_changes_the_modem() {
    let (dup, hex) = image("sha-otf");
    let sim = Sim::start(&[]);
    let run = sim.cli(&["run", s(&dup), "--on-the-fly", "--sha256", &wrong(&hex)]);
    assert_eq!(run.code, 2, "{}", run.all());
    says_digest_differs(&run, &dup);
    assert!(run.stderr.contains("modem: not changed"), "{}", run.all());
    let log = sim.stop();
    assert_modem_untouched(&log);
    assert_no_violations(&log);
    assert_eq!(log["state"], 2);
    assert_eq!(log["software_build"], 38638);
}

#[test]
fn a_wrong_sha256_stops_fff_before_the_commit() {
    let (dup, hex) = image("sha-fff");
    let sim = Sim::start(&[]);
    let run = sim.cli(&["run", s(&dup), "--fff", "--sha256", &wrong(&hex)]);
    // The image was stored (the modem was touched, if not committed): the status of a
    // modem failure, not of a bad input that touched nothing.
    assert_eq!(run.code, 1, "{}", run.all());
    says_digest_differs(&run, &dup);
    assert!(
        run.stderr.contains("modem: 2 application mode"),
        "{}",
        run.all()
    );
    let log = sim.stop();
    assert_no_violations(&log);
    let cmds = commands(&log);
    // The image was stored, never committed.
    assert!(cmds.iter().any(|c| c == "AT+SMSTPU"), "{cmds:?}");
    assert!(!cmds.iter().any(|c| c == "AT+SMUPGRADE"), "{cmds:?}");
    assert_eq!(log["state"], 2);
    assert_eq!(log["software_build"], 38638);
    assert!(
        log["states"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["state"] == 2),
        "the modem left application mode: {}",
        log["states"]
    );
}

#[test]
fn the_right_sha256_lets_both_methods_complete_byte_for_byte() {
    let (dup, hex) = image("sha-ok");
    // Either case.
    for (method, hex) in [("--fff", hex.clone()), ("--on-the-fly", hex.to_uppercase())] {
        let sim = Sim::start(&[]);
        let run = sim.cli(&["run", s(&dup), method, "--sha256", &hex]);
        assert_ok(&run);
        let log = sim.stop();
        assert_no_violations(&log);
        let n = log["transfers"].as_array().unwrap().len();
        assert_eq!(transfer_bytes(&log, n), std::fs::read(&dup).unwrap());
        assert_eq!(log["state"], 2);
        assert_eq!(log["software_build"], 41065, "{method}");
    }
}

#[test]
fn a_malformed_sha256_is_a_bad_option_and_the_modem_is_not_touched() {
    let (dup, hex) = image("sha-bad");
    for bad in [
        "1234".to_string(),
        hex.replace(|c: char| c.is_ascii_digit(), "g"),
        format!("{hex}0"),
        format!("{hex}  CATM1-41065.dup"),
        String::new(),
    ] {
        let sim = Sim::start(&[]);
        let run = sim.cli(&["run", s(&dup), "--sha256", &bad]);
        assert_eq!(run.code, 2, "{bad:?}: {}", run.all());
        assert!(
            run.stderr
                .contains("error: the SHA-256 given is not 64 hexadecimal digits"),
            "{}",
            run.all()
        );
        assert!(run.stderr.contains("hint: give the image's SHA-256"));
        assert!(run.stderr.contains("modem: not changed"), "{}", run.all());
        // The command that continues leaves the bad digest out.
        assert!(
            run.stderr.lines().any(|l| l.starts_with("next: ")
                && l.ends_with(&format!(" run {} --reply-timeout 3", s(&dup)))),
            "{}",
            run.all()
        );
        let log = sim.stop();
        assert_modem_untouched(&log);
        assert!(commands(&log).is_empty(), "the modem was asked something");
    }
}

#[test]
fn the_command_that_continues_keeps_the_sha256() {
    // The modem reboots in the middle of the transfer: `next:` repeats the digest, and
    // runs as printed.
    let (dup, hex) = image("sha-next");
    let sim = Sim::start(&["--fault", "reboot@20"]);
    let first = sim.cli(&["run", s(&dup), "--on-the-fly", "--sha256", &hex]);
    assert_eq!(first.code, 1, "{}", first.all());
    let next = format!(
        "next: {} --port {} run {} --on-the-fly --reply-timeout 3 --sha256 {hex}",
        env!("CARGO_BIN_EXE_sqnsupgrade"),
        sim.pty,
        s(&dup)
    );
    assert!(first.stderr.contains(&next), "{}", first.all());
    let again = sim.cli(&["run", s(&dup), "--on-the-fly", "--sha256", &hex]);
    assert_ok(&again);
    let log = sim.stop();
    let n = log["transfers"].as_array().unwrap().len();
    assert_eq!(transfer_bytes(&log, n), std::fs::read(&dup).unwrap());
    assert_eq!(log["state"], 2);
}

#[test]
fn check_reads_the_image_whole_and_compares_its_sha256() {
    let (dup, hex) = image("sha-check");
    let sim = Sim::start(&[]);
    let run = sim.cli(&["check", s(&dup), "--sha256", &hex]);
    assert_ok(&run);
    assert!(
        run.stdout
            .contains(&format!("{}: its SHA-256 is the one given", s(&dup))),
        "{}",
        run.all()
    );
    let bad = sim.cli(&["check", s(&dup), "--sha256", &wrong(&hex)]);
    assert_eq!(bad.code, 2, "{}", bad.all());
    says_digest_differs(&bad, &dup);
    assert!(bad.stderr.contains("modem: not changed"), "{}", bad.all());
    let log = sim.stop();
    assert_modem_untouched(&log);
    // Without a modem, the file alone.
    let out = cli_env(&["check", s(&dup), "--sha256", &wrong(&hex)], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("SHA-256 given names"));
}
