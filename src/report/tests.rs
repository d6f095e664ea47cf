//! The report's tests: every line of every failure, as each front end words it.

extern crate std;
use super::quote::{posix_word, windows_word};
use super::*;
use crate::error::*;
use crate::state::State;
use crate::updater::*;
use std::format;
use std::string::String;

fn failure(error: Error, state: Option<State>, changed: bool) -> Failure {
    Failure {
        error,
        state,
        modem_changed: changed,
        ..Failure::untouched(error)
    }
}

fn next(f: &Failure, req: &Request<'_>) -> String {
    let mut s = String::new();
    write_next(next_step(f, req), req, &mut s);
    s
}

fn shell<'a>(firmware: &'a str, updater: Option<&'a str>) -> Request<'a> {
    let (firmware, updater) = (firmware.as_bytes(), updater.map(str::as_bytes));
    Request {
        port: Some(b"/dev/ttyUSB0"),
        firmware: Some(firmware),
        updater,
        ..Request::new(Command::Run, Frontend::Shell)
    }
}

#[test]
fn shell_next_steps_run_as_printed() {
    let req = shell("/home/me/My Files/CATM1-41065.dup", None);
    // Quoted for the shell of the system the test runs on.
    let quoted = if cfg!(windows) {
        "\"/home/me/My Files/CATM1-41065.dup\""
    } else {
        "'/home/me/My Files/CATM1-41065.dup'"
    };
    let stp = Error::Stp {
        problem: crate::error::StpProblem::NoReply,
        offset: 4032,
    };
    assert_eq!(
        next(&failure(stp, Some(State::Upgrade), true), &req),
        format!("sqnsupgrade --port /dev/ttyUSB0 run {quoted}")
    );
    assert_eq!(
        next(
            &failure(Error::UpdaterNeeded, Some(State::Recovery), false),
            &req
        ),
        format!("sqnsupgrade --port /dev/ttyUSB0 run {quoted} --updater <updater.elf>")
    );
    let diff = shell("upgdiff_38638-to-41065.dup", None);
    assert_eq!(
        next(&failure(stp, Some(State::Upgrade), true), &diff),
        "sqnsupgrade --port /dev/ttyUSB0 run <full image .dup>"
    );
    assert_eq!(
        next(&failure(stp, Some(State::Updater), true), &req),
        "sqnsupgrade --port /dev/ttyUSB0 state"
    );
    assert_eq!(
        next(&failure(Error::NoResponse, None, false), &req),
        "sqnsupgrade --port /dev/ttyUSB0 state"
    );
    let quote = shell("it's.dup", None);
    let mut s = String::new();
    posix_word(b"it's.dup", &mut s);
    assert_eq!(s, "'it'\\''s.dup'");
    let its = if cfg!(windows) {
        "run \"it's.dup\""
    } else {
        "run 'it'\\''s.dup'"
    };
    assert!(next(
        &failure(Error::Cancelled, Some(State::Upgrade), true),
        &quote
    )
    .ends_with(its));
}

#[test]
fn windows_words_read_back_as_one_argument() {
    let word = |w: &str| {
        let mut s = String::new();
        windows_word(w.as_bytes(), &mut s);
        s
    };
    assert_eq!(word("COM9"), "COM9");
    assert_eq!(
        word(r"C:\Users\me\Downloads\CATM1-41065.dup"),
        r"C:\Users\me\Downloads\CATM1-41065.dup"
    );
    assert_eq!(
        word(r"C:\Users\John Smith\CATM1-41065.dup"),
        r#""C:\Users\John Smith\CATM1-41065.dup""#
    );
    assert_eq!(word("it's.dup"), r#""it's.dup""#);
    assert_eq!(word(""), r#""""#);
    // Backslashes before a quote, or before the closing one, count double.
    assert_eq!(word(r"a b\"), r#""a b\\""#);
    assert_eq!(word(r#"a\"b"#), r#""a\\\"b""#);
    // %PATH% is quoted, not left plain.
    assert!(word("%PATH%").starts_with('"'));
}

#[test]
fn bad_options_are_left_out_of_the_next_step() {
    let mut req = shell("CATM1-41065.dup", None);
    req.options.block_size = Some(0);
    let e = req.options.check().unwrap_err();
    assert!(e.is_input_error());
    let f = failure(e, None, false);
    assert_eq!(
        next(&f, &req),
        "sqnsupgrade --port /dev/ttyUSB0 run CATM1-41065.dup"
    );
    req.options.block_size = None;
    req.options.reply_timeout_s = 0;
    assert!(matches!(
        req.options.check(),
        Err(Error::BadOption(
            crate::error::OptionProblem::ReplyTimeout { got: 0 }
        ))
    ));
}

#[test]
fn a_sha256_is_64_hex_digits_and_follows_its_image_into_the_next_step() {
    let hex = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    let digest = sha256_digest(hex.to_uppercase().as_bytes()).unwrap();
    assert_eq!(digest[..3], [0x9f, 0x86, 0xd0]);
    assert_eq!(digest[31], 0x08);
    let bad = Error::BadOption(crate::error::OptionProblem::Sha256);
    for wrong in [&hex[1..], &hex.replace('f', "g"), "", &format!("{hex}0")] {
        assert_eq!(sha256_digest(wrong.as_bytes()), Err(bad), "{wrong}");
    }
    assert!(bad.is_input_error());
    let mut req = shell("CATM1-41065.dup", None);
    req.sha256 = Some(hex.as_bytes());
    let stopped = failure(Error::Cancelled, Some(State::Upgrade), true);
    assert_eq!(
        next(&stopped, &req),
        format!("sqnsupgrade --port /dev/ttyUSB0 run CATM1-41065.dup --sha256 {hex}")
    );
    let mut py = req;
    py.frontend = Frontend::CPython;
    assert_eq!(
        next(&stopped, &py),
        format!("sqnsupgrade.run('/dev/ttyUSB0', 'CATM1-41065.dup', sha256='{hex}')")
    );
    // Another image (the full one instead of an upgdiff): its digest is not this one.
    let mut diff = shell("upgdiff_38638-to-41065.dup", None);
    diff.sha256 = Some(hex.as_bytes());
    assert_eq!(
        next(&stopped, &diff),
        "sqnsupgrade --port /dev/ttyUSB0 run <full image .dup>"
    );
    // A malformed one was the problem: left out.
    req.sha256 = Some(b"9f86");
    let f = failure(sha256_digest(b"9f86").unwrap_err(), None, false);
    let mut lines = String::new();
    write_failure(&f, &req, &mut lines);
    assert_eq!(
        lines,
        "error: the SHA-256 given is not 64 hexadecimal digits\n\
         hint: give the image's SHA-256 as 64 hexadecimal digits (as sha256sum prints it), or leave it out\n\
         modem: not changed\n\
         next: sqnsupgrade --port /dev/ttyUSB0 run CATM1-41065.dup\n"
    );
}

#[test]
fn python_next_steps() {
    let mut req = Request {
        port: Some(b"COM9"),
        firmware: Some(b"C:\\fw\\CATM1-41065.dup"),
        ..Request::new(Command::Run, Frontend::CPython)
    };
    let f = failure(Error::UpdaterNeeded, Some(State::Recovery), false);
    assert_eq!(
        next(&f, &req),
        "sqnsupgrade.run('COM9', 'C:\\\\fw\\\\CATM1-41065.dup', '<updater.elf>')"
    );
    req.frontend = Frontend::MicroPython;
    req.port = None;
    req.firmware = Some(b"/sd/CATM1-41065.dup");
    req.updater = Some(b"/flash/updater.elf");
    assert_eq!(
        next(&f, &req),
        "sqnsupgrade.run('/sd/CATM1-41065.dup', '/flash/updater.elf')"
    );
    req.firmware_stream = true;
    req.firmware_size = 5996938;
    req.firmware = Some(b"CATM1-41065.dup");
    req.updater = None;
    let stp = failure(Error::Cancelled, Some(State::Upgrade), true);
    assert_eq!(
        next(&stp, &req),
        "sqnsupgrade.run(<the image stream, from its start>, size=5996938, name='CATM1-41065.dup')"
    );
    let state = Request::new(Command::State, Frontend::MicroPython);
    assert_eq!(
        next(&failure(Error::NoResponse, None, false), &state),
        "sqnsupgrade.state()"
    );
}

#[test]
fn four_lines() {
    let req = shell("CATM1-41065.dup", None);
    let f = failure(
        Error::File {
            role: FileRole::Firmware,
            problem: FileProblem::Html,
        },
        None,
        false,
    );
    let mut s = String::new();
    write_failure(&f, &req, &mut s);
    assert_eq!(
        s,
        "error: CATM1-41065.dup: firmware image: looks like a web page (HTML), not the file\n\
         hint: download the file itself, not the page that links to it\n\
         modem: not changed\n\
         next: sqnsupgrade --port /dev/ttyUSB0 run CATM1-41065.dup\n"
    );
}
