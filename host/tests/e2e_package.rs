//! End to end: the vendor's zip as input (the file chosen from the modem's state and
//! build), `check` (a dry run that changes nothing) and `--json`.

mod common;
use common::*;
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};

/// A package like the vendor's: a folder with the full image, an upgdiff from 38638 (the
/// simulator's build) and updater.elf.
struct Zip {
    path: PathBuf,
    full: Vec<u8>,
    diff: Vec<u8>,
    elf: Vec<u8>,
}

fn make_zip(dir: &Path) -> Zip {
    let full = make_dup(dir, "CATM1-41065.dup", 300_000, "CATM1-41065");
    let diff = make_dup(
        dir,
        "upgdiff_38638-to-41065.dup",
        90_000,
        "upgdiff_38638-to-41065",
    );
    let elf = make_elf(dir, 40_000);
    let path = dir.join("CATM1-41065.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    zip.add_directory("CATM1-41065/", options).unwrap();
    for (file, name) in [
        (&full, "CATM1-41065/CATM1-41065.dup"),
        (&diff, "CATM1-41065/upgdiff_38638-to-41065.dup"),
        (&elf, "CATM1-41065/updater.elf"),
    ] {
        zip.start_file(name, options).unwrap();
        zip.write_all(&std::fs::read(file).unwrap()).unwrap();
    }
    zip.finish().unwrap();
    Zip {
        path,
        full: std::fs::read(full).unwrap(),
        diff: std::fs::read(diff).unwrap(),
        elf: std::fs::read(elf).unwrap(),
    }
}

fn json_line(stdout: &str) -> Value {
    let last = stdout.lines().last().unwrap_or("");
    serde_json::from_str(last).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}

#[test]
fn application_mode_at_the_upgdiffs_build_gets_the_upgdiff() {
    let dir = temp_dir("zipapp");
    let zip = make_zip(&dir);
    let sim = Sim::start(&[]);
    let run = sim.cli(&["run", s(&zip.path)]);
    assert_ok(&run);
    assert!(
        run.stdout.contains(
            "Using upgdiff_38638-to-41065.dup from the package: the upgdiff from build 38638, the build the modem runs"
        ),
        "{}",
        run.all()
    );
    let log = sim.stop();
    assert_no_violations(&log);
    let n = log["transfers"].as_array().unwrap().len();
    assert_eq!(n, 1);
    assert_eq!(transfer_bytes(&log, 1), zip.diff);
    assert_eq!(log["state"], 2);
}

#[test]
fn recovery_mode_gets_the_full_image_and_updater_elf() {
    let dir = temp_dir("ziprec");
    let zip = make_zip(&dir);
    let sim = Sim::start(&["--state", "0"]);
    let run = sim.cli(&["run", s(&zip.path)]);
    assert_ok(&run);
    assert!(
        run.stdout
            .contains("Using updater.elf from the package too: recovery mode needs it"),
        "{}",
        run.all()
    );
    let log = sim.stop();
    assert_no_violations(&log);
    assert_eq!(transfer_bytes(&log, 1), zip.elf);
    assert_eq!(transfer_bytes(&log, 2), zip.full);
    assert_eq!(log["state"], 2);
}

#[test]
fn upgrade_mode_gets_the_full_image() {
    let dir = temp_dir("zipupg");
    let zip = make_zip(&dir);
    let sim = Sim::start(&["--state", "4"]);
    let run = sim.cli(&["run", s(&zip.path)]);
    assert_ok(&run);
    assert!(
        run.stdout.contains(
            "Using CATM1-41065.dup from the package: the full image, which the modem needs in upgrade mode"
        ),
        "{}",
        run.all()
    );
    let log = sim.stop();
    assert_no_violations(&log);
    let n = log["transfers"].as_array().unwrap().len();
    assert_eq!(transfer_bytes(&log, n), zip.full);
    assert_eq!(log["state"], 2);
}

#[test]
fn check_sends_nothing_that_changes_the_modem() {
    let dir = temp_dir("zipcheck");
    let zip = make_zip(&dir);
    for state in ["2", "0", "4", "1"] {
        let sim = Sim::start(&["--state", state]);
        let run = sim.cli(&["check", s(&zip.path), "--json"]);
        assert_ok(&run);
        let v = json_line(&run.stdout);
        assert_eq!(v["command"], "check", "{}", run.all());
        assert_eq!(v["modem_changed"], false);
        assert_eq!(v["state_before"].as_u64(), Some(state.parse().unwrap()));
        let plan = v["plan"].as_str().unwrap().to_string();
        let expected = match state {
            "2" => "FFF",
            "0" => "recovery",
            "4" => "resume",
            _ => "mtools",
        };
        assert_eq!(plan, expected, "{}", run.all());
        assert!(
            run.stderr
                .contains("Nothing that changes the modem was sent."),
            "{}",
            run.all()
        );
        let log = sim.stop();
        assert_modem_untouched(&log);
        assert!(log["transfers"].as_array().is_none_or(|t| t.is_empty()));
    }
}

#[test]
fn check_without_a_modem_checks_every_file_of_the_package() {
    let dir = temp_dir("zipnomodem");
    let zip = make_zip(&dir);
    let out = cli_env(&["check", s(&zip.path)], &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("CATM1-41065.dup: a full image, 300000 bytes: every file check passed"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "upgdiff_38638-to-41065.dup: an upgdiff from build 38638 to build 41065, 90000 bytes"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("updater.elf: an ELF file, 40000 bytes"),
        "{stdout}"
    );
    assert!(stdout.contains("No modem was asked"), "{stdout}");
}

#[test]
fn a_broken_zip_is_refused_before_the_modem_is_asked() {
    let dir = temp_dir("zipbad");
    let path = write(
        &dir,
        "CATM1-41065.zip",
        b"PK\x03\x04 this is not a whole zip",
    );
    let sim = Sim::start(&[]);
    let run = sim.cli(&["run", s(&path)]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stderr
            .contains("firmware image: is not a zip package that can be read"),
        "{}",
        run.all()
    );
    assert!(run.stderr.contains("modem: not changed"), "{}", run.all());
    let log = sim.stop();
    assert!(commands(&log).is_empty(), "asked: {:?}", commands(&log));
}

#[test]
fn json_records_have_the_same_keys_everywhere() {
    // The engine's one definition of the keys, in its order.
    let keys: Vec<&str> = sqnsupgrade::report::keys().collect();
    let dir = temp_dir("json");
    let dup = make_dup(&dir, "CATM1-41065.dup", 200_000, "CATM1-41065");
    let sim = Sim::start(&[]);
    for args in [vec!["state"], vec!["info"], vec!["run", s(&dup)]] {
        let mut full = args.clone();
        full.push("--json");
        let run = sim.cli(&full);
        assert_ok(&run);
        let v = json_line(&run.stdout);
        // Every key, nothing else, in the engine's order.
        assert_eq!(v.as_object().unwrap().len(), keys.len(), "{args:?}: {v}");
        let mut at = 0;
        for k in &keys {
            let pos = run.stdout.find(&format!("\"{k}\":"));
            assert!(
                pos.is_some_and(|p| p >= at),
                "{args:?}: {k} missing or out of order"
            );
            at = pos.unwrap_or(at);
        }
        assert_eq!(v["ok"], true);
        assert_eq!(v["command"], args[0]);
    }
    let run = sim.cli(&["run", s(&dup), "--json"]);
    let v = json_line(&run.stdout);
    assert_eq!(v["method"], "FFF");
    assert_eq!(v["bytes"], 200_000);
    assert_eq!(v["build_after"], 41065);
    // A failure: the four lines are in the record too.
    let bad = sim.cli(&["run", "/nonexistent/CATM1-41065.dup", "--json"]);
    assert_eq!(bad.code, 2, "{}", bad.all());
    let v = json_line(&bad.stdout);
    assert_eq!(v["ok"], false);
    assert_eq!(v["status"], 2);
    assert_eq!(v["modem"], "not changed");
    assert!(
        v["error"].as_str().unwrap().contains("file not found"),
        "{v}"
    );
    sim.stop();
}

#[test]
fn a_packages_sha256_is_the_package_files_checked_before_the_modem_is_asked() {
    let dir = temp_dir("zipsha");
    let zip = make_zip(&dir);
    let hex = sha256_hex(&std::fs::read(&zip.path).unwrap());
    // The digest of the image the package's choice picks is not the package's.
    let sim = Sim::start(&[]);
    let run = sim.cli(&["run", s(&zip.path), "--sha256", &sha256_hex(&zip.diff)]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stderr.contains(&format!(
            "error: {}: firmware image: is not the image the SHA-256 given names",
            s(&zip.path)
        )),
        "{}",
        run.all()
    );
    assert!(run.stderr.contains("modem: not changed"), "{}", run.all());
    let log = sim.stop();
    assert!(commands(&log).is_empty(), "the modem was asked something");
    assert_modem_untouched(&log);
    // The package's own digest: the upgdiff at the modem's build, byte for byte.
    let sim = Sim::start(&[]);
    let run = sim.cli(&["run", s(&zip.path), "--sha256", &hex]);
    assert_ok(&run);
    let log = sim.stop();
    assert_no_violations(&log);
    assert_eq!(transfer_bytes(&log, 1), zip.diff);
    assert_eq!(log["software_build"], 41065);
    // `check` without a modem says so.
    let out = cli_env(&["check", s(&zip.path), "--sha256", &hex], &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains(&format!("{}: its SHA-256 is the one given", s(&zip.path))),
        "{stdout}"
    );
}
