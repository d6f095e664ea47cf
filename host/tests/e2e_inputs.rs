//! End to end: every bad input gets its clear error (naming the file, what is wrong and
//! what to do), and the simulator's log shows no command that changes the modem.

mod common;
use common::*;

fn rejected(sim_args: &[&str], args: &[&str], expect: &[&str]) {
    let sim = Sim::start(sim_args);
    let run = sim.cli(args);
    assert_eq!(run.code, 2, "{}", run.all());
    for e in expect {
        assert!(run.stderr.contains(e), "missing {e:?} in {}", run.all());
    }
    assert!(run.stderr.contains("hint: "), "{}", run.all());
    assert!(run.stderr.contains("modem: not changed"), "{}", run.all());
    let log = sim.stop();
    assert_modem_untouched(&log);
    assert_no_violations(&log);
}

#[test]
fn missing_file() {
    rejected(
        &[],
        &["run", "/nonexistent/CATM1-41065.dup"],
        &[
            "/nonexistent/CATM1-41065.dup",
            "file not found",
            "mount the SD card",
        ],
    );
}

#[test]
fn html_page_instead_of_dup() {
    let dir = temp_dir("html");
    let mut page = b"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">".to_vec();
    page.resize(4000, b' ');
    let f = write(&dir, "CATM1-41065.dup", &page);
    rejected(
        &[],
        &["run", s(&f)],
        &[
            s(&f),
            "looks like a web page (HTML)",
            "download the file itself",
        ],
    );
}

#[test]
fn too_small() {
    let dir = temp_dir("small");
    let f = write(&dir, "CATM1-41065.dup", b"UPGR tiny");
    rejected(&[], &["run", s(&f)], &["too small to be firmware"]);
}

#[test]
fn not_a_dup() {
    let dir = temp_dir("notdup");
    let f = write(&dir, "CATM1-41065.dup", &[0x55u8; 1000]);
    rejected(&[], &["run", s(&f)], &["does not start with UPGR"]);
}

#[test]
fn updater_given_as_firmware() {
    let dir = temp_dir("swap1");
    let elf = make_elf(&dir, 5000);
    let dup = make_dup(&dir, "CATM1-41065.dup", 5000, "CATM1-41065");
    rejected(
        &["--state", "0"],
        &["run", s(&elf), "--updater", s(&dup)],
        &[
            "is updater.elf, given where the .dup goes",
            "swap the two files",
        ],
    );
}

#[test]
fn dup_given_as_updater() {
    let dir = temp_dir("swap2");
    let dup = make_dup(&dir, "CATM1-41065.dup", 5000, "CATM1-41065");
    rejected(
        &["--state", "0"],
        &["run", s(&dup), "--updater", s(&dup)],
        &["is a .dup image, given where updater.elf goes"],
    );
}

#[test]
fn updater_not_elf() {
    let dir = temp_dir("notelf");
    let dup = make_dup(&dir, "CATM1-41065.dup", 5000, "CATM1-41065");
    let junk = write(&dir, "updater.elf", &[1u8; 3000]);
    rejected(
        &["--state", "0"],
        &["run", s(&dup), "--updater", s(&junk)],
        &["is not an ELF file"],
    );
}

#[test]
fn upgdiff_with_updater() {
    let dir = temp_dir("diffelf");
    let dup = make_dup(
        &dir,
        "upgdiff_38638-to-41065.dup",
        5000,
        "upgdiff_38638-to-41065",
    );
    let elf = make_elf(&dir, 5000);
    rejected(
        &[],
        &["run", s(&dup), "--updater", s(&elf)],
        &["is an upgdiff, which is never used with updater.elf"],
    );
}

#[test]
fn upgdiff_from_other_build() {
    let dir = temp_dir("difffrom");
    let dup = make_dup(
        &dir,
        "upgdiff_33080-to-41065.dup",
        5000,
        "upgdiff_33080-to-41065",
    );
    rejected(
        &["--software-build", "38638"],
        &["run", s(&dup)],
        &["upgdiff from build 33080, but the modem runs build 38638"],
    );
}

#[test]
fn upgdiff_in_upgrade_mode() {
    let dir = temp_dir("diffup");
    let dup = make_dup(
        &dir,
        "upgdiff_38638-to-41065.dup",
        5000,
        "upgdiff_38638-to-41065",
    );
    rejected(
        &["--state", "4"],
        &["run", s(&dup)],
        &["needs the full image"],
    );
}

#[test]
fn fff_forced_on_big_file() {
    let dir = temp_dir("bigfff");
    let dup = make_dup(&dir, "CATM1-41065.dup", 4 * 1024 * 1024 + 1, "CATM1-41065");
    rejected(&[], &["run", s(&dup), "--fff"], &["too big for FFF"]);
}

#[test]
fn recovery_without_updater() {
    let dir = temp_dir("noelf");
    let dup = make_dup(&dir, "CATM1-41065.dup", 5000, "CATM1-41065");
    rejected(
        &["--state", "0"],
        &["run", s(&dup)],
        &["Your modem is in recovery mode! Use firmware.dup and updater.elf"],
    );
}

#[test]
fn bootrom_needed_and_missing() {
    let dir = temp_dir("nobootrom");
    let dup = make_dup(&dir, "CATM1-41065.dup", 5000, "CATM1-41065");
    let elf = make_elf(&dir, 5000);
    rejected(
        &["--bootloader0", "33080"],
        &["run", s(&dup), "--updater", s(&elf)],
        &["Unable to upgrade bootrom.", "--bootrom <bootrom package>"],
    );
}
