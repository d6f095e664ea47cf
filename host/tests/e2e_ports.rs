//! End to end: which port the CLI uses (`-p/--port`, `SQNSUPGRADE_PORT`, the one Pycom
//! board, `--port sim`), `list-ports`, and a port another program holds.

mod common;
use common::*;
use std::process::{Command, Output};

fn text(o: &Output) -> String {
    format!(
        "--- stdout\n{}\n--- stderr\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn short_option_and_environment_variable_choose_the_port() {
    let sim = Sim::start(&[]);
    let by_option = cli_env(&["-p", &sim.pty, "state"], &[]);
    assert_eq!(by_option.status.code(), Some(0), "{}", text(&by_option));
    assert!(String::from_utf8_lossy(&by_option.stdout).starts_with("2 application mode"));
    let by_env = cli_env(&["state"], &[("SQNSUPGRADE_PORT", &sim.pty)]);
    assert_eq!(by_env.status.code(), Some(0), "{}", text(&by_env));
    let out = String::from_utf8_lossy(&by_env.stdout);
    assert!(
        out.contains(&format!("Port {} (from SQNSUPGRADE_PORT)", sim.pty)),
        "{out}"
    );
    assert!(out.contains("2 application mode"), "{out}");
    // --port wins over the environment.
    let both = cli_env(
        &["--port", &sim.pty, "state"],
        &[("SQNSUPGRADE_PORT", "/dev/does-not-exist")],
    );
    assert_eq!(both.status.code(), Some(0), "{}", text(&both));
    let log = sim.stop();
    assert_modem_untouched(&log);
}

#[test]
fn no_port_and_no_board_is_a_clear_error_that_touches_nothing() {
    // This machine has no Pycom board on USB: nothing to choose.
    let dir = temp_dir("noport");
    let dup = make_dup(&dir, "CATM1-41065.dup", 5000, "CATM1-41065");
    let o = cli_env(&["run", dup.to_str().unwrap()], &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("error: no serial port given, and no Pycom board is connected"),
        "{err}"
    );
    assert!(err.contains("--port PORT or SQNSUPGRADE_PORT"), "{err}");
    assert!(err.contains("modem: not changed"), "{err}");
    // The command that continues names the part that was missing, not the same command.
    let next = err
        .lines()
        .find_map(|l| l.strip_prefix("next: "))
        .unwrap_or_default();
    assert!(next.contains(" --port <PORT> run "), "{err}");
    assert!(
        !String::from_utf8_lossy(&o.stdout).contains("Upgrade completed"),
        "{}",
        text(&o)
    );
}

#[test]
fn a_port_that_does_not_exist() {
    let o = cli_env(&["-p", "/dev/ttyNOSUCHPORT", "state"], &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("error: /dev/ttyNOSUCHPORT: there is no such serial port"),
        "{err}"
    );
    assert!(err.contains("sqnsupgrade list-ports"), "{err}");
}

#[test]
fn list_ports_runs() {
    let o = cli_env(&["list-ports"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("Pycom board") || out.contains("No serial ports found"),
        "{out}"
    );
}

#[test]
fn the_built_in_simulator_only_when_asked() {
    let dir = temp_dir("simport");
    let dup = make_dup(&dir, "CATM1-41065.dup", 200_000, "CATM1-41065");
    // The simulator's record goes to the temporary folder: one of our own here.
    let tmp = dir.join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let tmp_env = [("TMPDIR", tmp.to_str().unwrap())];
    let o = cli_env(&["--port", "sim", "run", dup.to_str().unwrap()], &tmp_env);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("Using the built-in modem simulator"), "{out}");
    assert!(out.contains("Upgrade completed!"), "{out}");
    assert!(
        out.contains("Simulator check: the image it received is identical"),
        "{out}"
    );
    // Nothing left behind: the record (a copy of the image) is removed...
    let left: Vec<_> = std::fs::read_dir(&tmp).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
    // ...unless --debug, which says where it is and keeps it.
    let o = cli_env(&["--port", "sim", "--debug", "state"], &tmp_env);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    let kept = out
        .split("(its record, kept: ")
        .nth(1)
        .and_then(|r| r.split(')').next())
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        std::path::Path::new(kept).join("log.json").is_file(),
        "{out}"
    );
}

#[test]
fn a_second_program_on_the_port_is_refused_and_the_update_completes() {
    let dir = temp_dir("busy");
    let dup = make_dup(&dir, "CATM1-41065.dup", 300_000, "CATM1-41065");
    let sim = Sim::start(&["--baud-pacing"]);
    let first = Command::new(env!("CARGO_BIN_EXE_sqnsupgrade"))
        .args([
            "--port",
            &sim.pty,
            "run",
            dup.to_str().unwrap(),
            "--on-the-fly",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_transfer(&sim, 0);
    // A second updater (or a terminal using the same lock) during the transfer.
    let second = cli_env(&["--port", &sim.pty, "state"], &[]);
    assert_eq!(second.status.code(), Some(2), "{}", text(&second));
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(
        err.contains("the serial port is in use by another program"),
        "{err}"
    );
    assert!(err.contains("modem: not changed"), "{err}");
    let out = first.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let log = sim.stop();
    assert_no_violations(&log);
    let n = log["transfers"].as_array().unwrap().len();
    assert_eq!(transfer_bytes(&log, n), std::fs::read(&dup).unwrap());
    assert_eq!(log["state"], 2);
}

#[test]
fn shell_completions_are_generated() {
    let bash = cli_env(&["completions", "bash"], &[]);
    assert_eq!(bash.status.code(), Some(0), "{}", text(&bash));
    let script = String::from_utf8_lossy(&bash.stdout).into_owned();
    assert!(script.contains("_sqnsupgrade()"), "{script}");
    for word in ["list-ports", "check", "--port", "--json", "--on-the-fly"] {
        assert!(script.contains(word), "no {word} in the bash completions");
    }
    // bash reads it without a syntax error.
    let dir = temp_dir("completions");
    let path = write(&dir, "sqnsupgrade.bash", script.as_bytes());
    let ok = Command::new("bash").arg("-n").arg(&path).status().unwrap();
    assert!(ok.success());
    for shell in ["zsh", "fish", "powershell"] {
        let o = cli_env(&["completions", shell], &[]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        assert!(String::from_utf8_lossy(&o.stdout).contains("sqnsupgrade"));
    }
}

#[test]
fn the_built_in_simulators_record_is_kept_when_the_update_stops() {
    use std::io::{BufRead, BufReader, Read};
    let dir = temp_dir("simstop");
    let dup = make_dup(&dir, "CATM1-41065.dup", 5_000_000, "CATM1-41065");
    let tmp = dir.join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_sqnsupgrade"))
        .args(["--port", "sim", "run", dup.to_str().unwrap()])
        .env_remove("SQNSUPGRADE_PORT")
        .env("TMPDIR", &tmp)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Ctrl-C (to the command only) once the image is on its way.
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut seen = String::new();
    let mut line = String::new();
    while !seen.contains("Sending the image") {
        line.clear();
        assert!(out.read_line(&mut line).unwrap() > 0, "{seen}");
        seen.push_str(&line);
    }
    send_signal(child.id(), libc::SIGINT);
    out.read_to_string(&mut seen).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{seen}");
    // The record stays, and the output says where.
    let kept = seen
        .split("The simulator's record is kept: ")
        .nth(1)
        .and_then(|r| r.lines().next())
        .unwrap_or_else(|| panic!("{seen}"));
    assert!(std::path::Path::new(kept).starts_with(&tmp), "{kept}");
    assert!(
        std::path::Path::new(kept).join("log.json").is_file(),
        "{seen}"
    );
}
