//! What a deployed board's `main.py` relies on, in virtual time against the modem model:
//! an image checked against its digest before the modem commits to it (FFF) or before
//! anything changes (the flows that flash as they stream), a transfer left open by a host
//! that died (the modem deaf inside the STP session) ended by the next detection, and
//! `ensure`'s decision (nothing to do, which image, no more tries).

use crate::bench::{Bench, Files, FIRMWARE, NEW_BUILD};
use sqnsim::{Config, TransferKind};
use sqnsupgrade::error::{Error, FileProblem};
use sqnsupgrade::hal::{Cancel, Clock, Confirm, Event, Events, ImageSource, Link};
use sqnsupgrade::image::MemImage;
use sqnsupgrade::report::UserOptions;
use sqnsupgrade::state::State;
use sqnsupgrade::updater::{Failure, Outcome, Updater, Workspace};

/// An image with a digest to check, as a platform gives it: it hashes what it reads (FNV-1a
/// stands in for SHA-256: the engine never sees the digest), can read the whole image
/// ahead when it can be read twice, and counts the engine's questions.
struct Digested<'a> {
    data: &'a [u8],
    img: MemImage<'a>,
    expected: u64,
    streamed: u64,
    rereadable: bool,
    asked: Vec<Confirm>,
}

fn fnv(bytes: &[u8], mut h: u64) -> u64 {
    for &b in bytes {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    h
}

const FNV_START: u64 = 0xcbf2_9ce4_8422_2325;

impl<'a> Digested<'a> {
    fn new(data: &'a [u8], expected: &[u8], rereadable: bool) -> Digested<'a> {
        Digested {
            data,
            img: MemImage::new(data, FIRMWARE.as_bytes()),
            expected: fnv(expected, FNV_START),
            streamed: FNV_START,
            rereadable,
            asked: Vec::new(),
        }
    }
}

impl ImageSource for Digested<'_> {
    fn size(&self) -> u32 {
        self.img.size()
    }
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        let n = self.img.read(buf)?;
        self.streamed = fnv(&buf[..n], self.streamed);
        Ok(n)
    }
    fn name(&self) -> &[u8] {
        self.img.name()
    }
    fn confirm(&mut self, how: Confirm) -> Result<(), Error> {
        self.asked.push(how);
        let digest = match how {
            Confirm::Ahead if !self.rereadable => return Err(problem(FileProblem::NotRereadable)),
            Confirm::Ahead => fnv(self.data, FNV_START),
            Confirm::Received => self.streamed,
        };
        if digest == self.expected {
            Ok(())
        } else {
            Err(problem(FileProblem::DigestMismatch))
        }
    }
}

fn problem(problem: FileProblem) -> Error {
    Error::File {
        role: sqnsupgrade::error::FileRole::Firmware,
        problem,
    }
}

fn options(fff: bool, on_the_fly: bool) -> sqnsupgrade::updater::Options {
    UserOptions {
        fff,
        on_the_fly,
        ..UserOptions::default()
    }
    .check()
    .unwrap()
}

fn run(bench: &mut Bench, image: &mut Digested<'_>, fff: bool) -> Result<Outcome, Failure> {
    let mut ws = Box::new(Workspace::new());
    let mut updater = Updater::new(&mut *bench, options(fff, !fff), &mut ws);
    updater.run(image, None, None)
}

fn changing_commands(bench: &Bench) -> Vec<String> {
    let log = bench.port.modem().log();
    let mut cmds: Vec<String> = log
        .commands()
        .iter()
        .filter(|c| c.changes_modem)
        .map(|c| c.cmd.clone())
        .collect();
    if !log.transfers().is_empty() {
        cmds.push("<transfer>".into());
    }
    cmds
}

fn last_firmware(bench: &Bench) -> Option<Vec<u8>> {
    bench
        .port
        .modem()
        .log()
        .transfers()
        .iter()
        .rev()
        .find(|t| t.kind == TransferKind::Firmware && t.complete)
        .map(|t| t.bytes().to_vec())
}

#[test]
fn a_digest_that_differs_stops_fff_before_the_commit() {
    let files = Files::new(40_000);
    let mut bench = Bench::new(Config::default());
    let mut image = Digested::new(&files.firmware, b"another image", true);
    let f = run(&mut bench, &mut image, true).expect_err("a wrong digest must fail");
    assert_eq!(f.error, problem(FileProblem::DigestMismatch));
    assert_eq!(
        image.asked,
        vec![Confirm::Received],
        "asked once, after the transfer"
    );
    let cmds = changing_commands(&bench);
    assert!(cmds.contains(&"<transfer>".to_string()), "{cmds:?}");
    assert!(!cmds.iter().any(|c| c == "AT+SMUPGRADE"), "{cmds:?}");
    // Nothing committed: application mode, the old build.
    assert_eq!(bench.true_state(), Some(State::Application));
    assert_eq!(bench.port.modem().software_build(), 38638);
    assert_eq!(f.state, Some(State::Application));
    assert!(f.modem_changed);
    assert!(bench.port.modem().log().violations().is_empty());
}

#[test]
fn a_digest_that_differs_stops_on_the_fly_before_anything_changes() {
    let files = Files::new(40_000);
    let mut bench = Bench::new(Config::default());
    let mut image = Digested::new(&files.firmware, b"another image", true);
    let f = run(&mut bench, &mut image, false).expect_err("a wrong digest must fail");
    assert_eq!(f.error, problem(FileProblem::DigestMismatch));
    assert_eq!(image.asked, vec![Confirm::Ahead]);
    assert!(!f.modem_changed);
    assert_eq!(changing_commands(&bench), Vec::<String>::new());
    assert_eq!(bench.true_state(), Some(State::Application));
}

#[test]
fn a_right_digest_lets_both_methods_complete_byte_for_byte() {
    let files = Files::new(40_000);
    for fff in [true, false] {
        let mut bench = Bench::new(Config::default());
        let mut image = Digested::new(&files.firmware, &files.firmware, true);
        let out = run(&mut bench, &mut image, fff).expect("the right digest");
        assert_eq!(out.state_after, Some(State::Application));
        assert_eq!(
            image.asked,
            vec![if fff {
                Confirm::Received
            } else {
                Confirm::Ahead
            }]
        );
        assert_eq!(last_firmware(&bench).as_deref(), Some(&files.firmware[..]));
        assert_eq!(bench.port.modem().software_build(), NEW_BUILD);
    }
}

#[test]
fn an_image_read_only_once_cannot_be_checked_before_it_streams() {
    let files = Files::new(40_000);
    let mut bench = Bench::new(Config::default());
    let mut image = Digested::new(&files.firmware, &files.firmware, false);
    let f = run(&mut bench, &mut image, false).expect_err("cannot check ahead");
    assert_eq!(f.error, problem(FileProblem::NotRereadable));
    assert!(!f.modem_changed);
    assert_eq!(changing_commands(&bench), Vec::<String>::new());
}

/// The platform of a host that dies (killed, reset by a watchdog) once the modem has
/// `blocks` blocks of a firmware transfer: from then on nothing it does reaches the modem,
/// and it never sends the closing RESET.
struct Dying<'b> {
    bench: &'b mut Bench,
    blocks: u64,
}

impl Dying<'_> {
    fn dead(&self) -> bool {
        self.bench
            .port
            .modem()
            .log()
            .transfers()
            .iter()
            .any(|t| t.kind == TransferKind::Firmware && t.active && t.blocks >= self.blocks)
    }
}

impl Link for Dying<'_> {
    fn write_all(&mut self, data: &[u8]) -> Result<(), Error> {
        if self.dead() {
            return Err(Error::LinkGone);
        }
        self.bench.write_all(data)
    }

    fn read(&mut self, buf: &mut [u8], timeout_ms: u32) -> Result<usize, Error> {
        if self.dead() {
            return Err(Error::LinkGone);
        }
        self.bench.read(buf, timeout_ms)
    }

    fn set_baud(&mut self, baud: u32) -> Result<(), Error> {
        self.bench.set_baud(baud)
    }

    fn discard_input(&mut self) -> Result<(), Error> {
        self.bench.discard_input()
    }
}

impl Clock for Dying<'_> {
    fn now_ms(&mut self) -> u32 {
        self.bench.now_ms()
    }

    fn sleep_ms(&mut self, ms: u32) {
        self.bench.sleep_ms(ms)
    }
}

impl Cancel for Dying<'_> {
    fn cancelled(&mut self) -> bool {
        false
    }
}

impl Events for Dying<'_> {
    fn event(&mut self, event: &Event<'_>) {
        self.bench.event(event)
    }
}

/// Runs an ON_THE_FLY update on a host that dies in the middle of the transfer.
fn die_mid_transfer(bench: &mut Bench, files: &Files) {
    let mut ws = Box::new(Workspace::new());
    let dying = Dying { bench, blocks: 3 };
    let mut updater = Updater::new(dying, options(false, true), &mut ws);
    let mut image = MemImage::new(&files.firmware, FIRMWARE.as_bytes());
    let f = updater
        .run(&mut image, None, None)
        .expect_err("the host died");
    assert_eq!(f.error, Error::LinkGone);
}

#[test]
fn a_transfer_left_open_by_a_dead_host_is_ended_and_the_update_completes() {
    let files = Files::new(60_000);
    let mut bench = Bench::new(Config::default());
    die_mid_transfer(&mut bench, &files);
    // The modem is inside the session, deaf to AT.
    assert_eq!(
        bench.true_state(),
        None,
        "the modem waits inside the STP session"
    );
    let mut ws = Box::new(Workspace::new());
    let state = Updater::new(&mut bench, options(false, false), &mut ws)
        .state()
        .expect("the detection ends the session");
    assert_eq!(state, State::Upgrade);
    assert!(bench
        .screen
        .text()
        .contains("still inside an unfinished transfer"));
    // A plain run continues from upgrade mode.
    let mut image = Digested::new(&files.firmware, &files.firmware, true);
    let out = run(&mut bench, &mut image, false).expect("the update completes");
    assert_eq!(out.state_before, State::Upgrade);
    assert_eq!(last_firmware(&bench).as_deref(), Some(&files.firmware[..]));
    assert_eq!(bench.port.modem().software_build(), NEW_BUILD);
}

const PACKAGE: [&[u8]; 3] = [
    b"/sd/fw/upgdiff_33080-to-41065.dup",
    b"/sd/fw/CATM1-41065.dup",
    b"/sd/fw/upgdiff_38638-to-41065.dup",
];

fn ensure(bench: &mut Bench, tries: u32) -> Result<Option<usize>, (Failure, Option<usize>)> {
    let mut ws = Box::new(Workspace::new());
    let mut updater = Updater::new(&mut *bench, options(false, false), &mut ws);
    updater
        .ensure(&PACKAGE, NEW_BUILD, tries, 3)
        .map(|(_, _, choice)| choice)
}

#[test]
fn ensure_chooses_the_upgdiff_from_the_modem_build_and_stops_when_done() {
    let mut bench = Bench::new(Config::default());
    assert_eq!(ensure(&mut bench, 0).unwrap(), Some(2));
    assert!(bench
        .screen
        .text()
        .contains("runs build 38638, not 41065: updating"));
    let files = Files::new(40_000);
    let mut image = Digested::new(&files.firmware, &files.firmware, true);
    run(&mut bench, &mut image, false).expect("the update");
    // Done: the second call changes nothing.
    let before = bench.port.modem().log().commands().len();
    assert_eq!(ensure(&mut bench, 1).unwrap(), None);
    assert!(bench
        .screen
        .text()
        .contains("already runs build 41065: nothing to do"));
    let after: Vec<_> = bench.port.modem().log().commands()[before..]
        .iter()
        .filter(|c| c.changes_modem)
        .collect();
    assert!(after.is_empty(), "{after:?}");
}

#[test]
fn ensure_takes_the_full_image_after_a_reset_mid_update_and_gives_up_after_its_tries() {
    let files = Files::new(60_000);
    let mut bench = Bench::new(Config::default());
    die_mid_transfer(&mut bench, &files);
    // The next boot: the modem left in its session is found in upgrade mode, which needs
    // the full image.
    assert_eq!(ensure(&mut bench, 1).unwrap(), Some(1));
    // After as many tries as allowed: no more, and the image it would use is named.
    let (f, choice) = ensure(&mut bench, 3).expect_err("no fourth try");
    assert_eq!(f.error, Error::GaveUp { tries: 3 });
    assert_eq!(choice, Some(1));
    assert_eq!(f.state, Some(State::Upgrade));
}
