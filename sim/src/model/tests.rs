//! Unit tests of the model in virtual time, through [`crate::link::Link`].

use super::*;
use crate::image::synthetic_dup;
use crate::link::Link;
use crate::stp::{encode, Frame, OP_BLOCK, OP_CMD, OP_OPEN, OP_RESET, SIG_HOST, SIG_MODEM};

const FAST: u32 = 921_600;
const SLOW: u32 = 115_200;

/// A quick modem: no long waits unless a test asks for them.
fn cfg(state: u8) -> Config {
    Config {
        state,
        erase_ms: 0,
        finish_ms: 0,
        ..Config::default()
    }
}

fn with_faults(state: u8, faults: &[&str]) -> Config {
    Config {
        faults: faults.iter().map(|f| Fault::parse(f).unwrap()).collect(),
        ..cfg(state)
    }
}

fn port(c: Config) -> Link {
    let baud = if c.state == 0 { SLOW } else { FAST };
    Link::new(Modem::new(c), baud)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Reads until a final line (`OK`/`ERROR`) or `ms` pass.
fn reply(l: &mut Link, ms: u64) -> String {
    let deadline = l.now_ms() + ms;
    let mut got = Vec::new();
    while l.now_ms() < deadline {
        let part = l.read(4096, deadline - l.now_ms()).unwrap();
        got.extend_from_slice(&part);
        let t = text(&got);
        if t.ends_with("OK\r\n") || t.ends_with("ERROR\r\n") || t.ends_with("OK") {
            break;
        }
    }
    text(&got)
}

/// Sends a command and returns everything up to its final line.
fn at(l: &mut Link, cmd: &str) -> String {
    l.discard_input();
    l.write(format!("{cmd}\r\n").as_bytes()).unwrap();
    reply(l, 2000)
}

fn wait_sysstart(l: &mut Link) {
    let got = l.read_until(b"+SYSSTART\r\n", 120_000).unwrap();
    assert!(text(&got).contains("+SYSSTART"), "no +SYSSTART: {got:?}");
}

fn frame(op: u8, sid: u8, tid: u32, payload: &[u8]) -> Vec<u8> {
    encode(
        SIG_HOST,
        &Frame {
            op,
            sid,
            tid,
            payload: payload.to_vec(),
        },
    )
}

/// Sends one STP request; the reply (header + payload) or None on timeout.
fn request(l: &mut Link, op: u8, sid: u8, tid: u32, payload: &[u8], ms: u64) -> Option<Vec<u8>> {
    l.write(&frame(op, sid, tid, payload)).unwrap();
    let h = l.read_exact(16, ms).unwrap();
    if h.len() < 16 {
        return None;
    }
    assert_eq!(&h[..4], &SIG_MODEM.to_be_bytes(), "reply {h:?}");
    assert_eq!(h[4], op | 0x80);
    let len = u16::from_be_bytes([h[6], h[7]]) as usize;
    let mut r = h;
    r.extend(l.read_exact(len, ms).unwrap());
    Some(r)
}

/// Opens a session; returns the max transfer.
fn open(l: &mut Link) -> u16 {
    request(l, OP_RESET, 0, 0, &[], 1000).expect("RESET reply");
    let r = request(l, OP_OPEN, 1, 1, &[], 1000).expect("SESSION_OPEN reply");
    u16::from_be_bytes([r[18], r[19]])
}

/// Sends `data` in blocks from tid `tid`; returns the next tid.
fn blocks(l: &mut Link, data: &[u8], block: usize, mut tid: u32) -> u32 {
    for chunk in data.chunks(block) {
        let len = (chunk.len() as u16).to_be_bytes();
        request(l, OP_CMD, 1, tid, &len, 120_000).expect("CMD reply");
        let r = request(l, OP_BLOCK, 1, tid + 1, chunk, 600_000).expect("BLOCK reply");
        assert_eq!(&r[16..18], &[0, 0], "residue");
        tid += 2;
    }
    tid
}

/// A whole transfer after the STP entry command.
fn transfer(l: &mut Link, data: &[u8]) {
    open(l);
    let tid = blocks(l, data, 2016, 2);
    request(l, OP_RESET, 1, tid, &[], 1000).expect("final RESET reply");
}

/// Polls `AT+SMUPGRADE?` until it leaves on-going.
fn upgrade_result(l: &mut Link) -> String {
    for _ in 0..100 {
        let r = at(l, "AT+SMUPGRADE?");
        if r.contains("success") || r.contains("fail") {
            return r;
        }
        l.sleep_ms(500);
    }
    panic!("still flashing");
}

fn image(size: usize) -> Vec<u8> {
    synthetic_dup(size, "CATM1-41065").unwrap()
}

// ----- echo ------------------------------------------------------------------------

#[test]
fn echo_is_a_persistent_setting() {
    let mut l = port(cfg(2));
    assert_eq!(at(&mut l, "AT"), "AT\r\r\nOK\r\n", "factory echo on");
    assert_eq!(at(&mut l, "ATE0"), "ATE0\r\r\nOK\r\n");
    assert_eq!(at(&mut l, "AT"), "\r\nOK\r\n");
    at(&mut l, "AT+SMSWBOOT=3,1");
    wait_sysstart(&mut l);
    assert_eq!(
        at(&mut l, "AT+SMOD?"),
        "\r\n4\r\n\r\nOK\r\n",
        "no echo after the reset"
    );
    at(&mut l, "AT+SMSWBOOT=1,1");
    wait_sysstart(&mut l);
    assert_eq!(
        at(&mut l, "AT+SMOD?"),
        "\r\n2\r\n\r\nOK\r\n",
        "nor after the switch back"
    );
    l.power_cycle();
    wait_sysstart(&mut l);
    assert_eq!(at(&mut l, "AT"), "\r\nOK\r\n", "nor after a power cycle");
    assert_eq!(at(&mut l, "ATE1"), "\r\nOK\r\n");
    at(&mut l, "AT^RESET");
    wait_sysstart(&mut l);
    assert_eq!(at(&mut l, "AT"), "AT\r\r\nOK\r\n", "ATE1 persists too");
    assert!(l
        .modem()
        .log()
        .commands()
        .iter()
        .any(|c| c.cmd == "ATE0" && c.changes_modem));
}

#[test]
fn ffh_never_echoes() {
    for state in [0, 1] {
        // Even with the setting on (`--echo on`).
        let mut l = port(Config {
            echo: Some(true),
            ..cfg(state)
        });
        assert!(l.modem().echo_setting());
        assert_eq!(at(&mut l, "AT"), "OK\r\n", "state {state}");
        assert_eq!(at(&mut l, "AT+SMOD?"), format!("{state}\r\nOK\r\n"));
        assert_eq!(at(&mut l, "ATE1"), "OK\r\n");
        assert_eq!(at(&mut l, "AT"), "OK\r\n");
    }
    // An echo-off setting stays off when FFH boots the application again.
    let mut l = port(Config {
        echo: Some(false),
        ..cfg(1)
    });
    at(&mut l, "AT+SMSWBOOT=1,1");
    wait_sysstart(&mut l);
    assert_eq!(at(&mut l, "AT"), "\r\nOK\r\n");
}

#[test]
fn echo_default_follows_the_start_state() {
    // Only application mode can be a modem as it left the factory (echo on); every other
    // start state is reached through an updater that sent ATE0 (docs/PROTOCOL.md section 3).
    for state in [0, 1, 2, 4] {
        let l = port(cfg(state));
        assert_eq!(l.modem().echo_setting(), state == 2, "state {state}");
        assert_eq!(default_echo(state), state == 2);
    }
    let mut l = port(cfg(4));
    assert_eq!(at(&mut l, "AT+SMOD?"), "\r\n4\r\n\r\nOK\r\n");
    // The resume path of the field updater: no ATE0, exactly 4 bytes.
    l.write(b"AT+SMSTPU=\"ON_THE_FLY\"\r\n").unwrap();
    assert_eq!(l.read_exact(4, 1000).unwrap(), b"OK\r\n");
    assert!(l.modem().log().violations().is_empty());
    // A modem that echoes in upgrade mode is still there for the tests that need one.
    let mut l = port(Config {
        echo: Some(true),
        ..cfg(4)
    });
    assert_eq!(at(&mut l, "AT"), "AT\r\r\nOK\r\n");
    assert_eq!(l.modem().log().to_json()["echo"], true);
}

#[test]
fn ate0_in_ffh_reaches_the_persistent_setting() {
    // mTools: the field updater's one ATE0 is sent there (docs/PROTOCOL.md section 6), before a boot switch.
    let mut l = port(Config {
        echo: Some(true),
        ..cfg(1)
    });
    assert_eq!(at(&mut l, "ATE0"), "OK\r\n", "FFH does not echo it");
    assert!(!l.modem().echo_setting());
    at(&mut l, "AT+SMSWBOOT=3,1");
    wait_sysstart(&mut l);
    l.discard_input();
    l.write(b"AT+SMSTPU=\"ON_THE_FLY\"\r\n").unwrap();
    assert_eq!(
        l.read_exact(4, 1000).unwrap(),
        b"OK\r\n",
        "no echo in mode 4"
    );
    // ATE1 in FFH (state 0) turns it on for the modes that echo.
    let mut l = port(cfg(0));
    assert_eq!(at(&mut l, "ATE1"), "OK\r\n");
    assert_eq!(at(&mut l, "AT"), "OK\r\n", "FFH still does not echo");
    assert!(l.modem().echo_setting());
    at(&mut l, "AT+SMSWBOOT=3,1");
    l.set_baud(FAST);
    wait_sysstart(&mut l);
    assert_eq!(at(&mut l, "AT"), "AT\r\r\nOK\r\n");
    assert!(l.modem().log().violations().is_empty());
}

#[test]
fn stp_entry_replies_have_exact_shapes() {
    let mut l = port(Config {
        echo: Some(false),
        ..cfg(4)
    });
    l.write(b"AT+SMSTPU=\"ON_THE_FLY\"\r\n").unwrap();
    assert_eq!(l.read_exact(4, 1000).unwrap(), b"OK\r\n");
    assert!(
        l.read(10, 200).unwrap().is_empty(),
        "nothing after OK\\r\\n"
    );
    assert!(l.modem().in_stp());
    let mut l = port(cfg(0));
    l.write(b"AT+STP\n").unwrap();
    assert_eq!(l.read_exact(2, 1000).unwrap(), b"OK");
    assert!(l.read(10, 200).unwrap().is_empty(), "nothing after OK");
    assert!(l.modem().in_stp());
}

// ----- baud rates -------------------------------------------------------------------

#[test]
fn ffh_talks_115200_until_ipr() {
    let mut l = port(cfg(0));
    l.set_baud(FAST);
    assert_eq!(at(&mut l, "AT"), "", "no answer at 921600");
    assert!(l.modem().log().dropped_bytes() > 0);
    l.set_baud(SLOW);
    assert_eq!(at(&mut l, "AT"), "OK\r\n");
    assert_eq!(at(&mut l, "AT+IPR=921600"), "OK\r\n", "OK at the old rate");
    assert_eq!(at(&mut l, "AT"), "", "now deaf at 115200");
    l.set_baud(FAST);
    assert_eq!(at(&mut l, "AT+SMOD?"), "0\r\nOK\r\n");
    // A reset of FFH starts at 115200 again.
    at(&mut l, "AT^RESET");
    l.sleep_ms(1000);
    assert_eq!(at(&mut l, "AT"), "");
    l.set_baud(SLOW);
    assert_eq!(at(&mut l, "AT"), "OK\r\n");
    // Application and upgrade mode talk 921600.
    let mut l = port(Config {
        echo: Some(true),
        ..cfg(0)
    });
    at(&mut l, "AT+SMSWBOOT=3,1");
    l.set_baud(FAST);
    wait_sysstart(&mut l);
    // (echo set on: states 2-4 echo)
    assert_eq!(at(&mut l, "AT+SMOD?"), "AT+SMOD?\r\r\n4\r\n\r\nOK\r\n");
}

#[test]
fn updater_load_keeps_the_ffh_rate() {
    let elf: Vec<u8> = b"\x7fELF"
        .iter()
        .copied()
        .chain(std::iter::repeat_n(7, 5000))
        .collect();
    // Loaded at 921600 after AT+IPR: mTools talks 921600.
    let mut l = port(cfg(0));
    at(&mut l, "AT+IPR=921600");
    l.set_baud(FAST);
    l.write(b"AT+STP\n").unwrap();
    assert_eq!(l.read_exact(2, 1000).unwrap(), b"OK");
    transfer(&mut l, &elf);
    wait_sysstart(&mut l);
    assert_eq!(at(&mut l, "AT+SMOD?"), "1\r\nOK\r\n");
    assert_eq!(l.modem().log().transfers()[0].kind, TransferKind::Updater);
    // Loaded at 115200 (no AT+IPR): it stays at 115200.
    let mut l = port(cfg(0));
    l.write(b"AT+STP\r\n").unwrap();
    assert_eq!(l.read_exact(2, 1000).unwrap(), b"OK");
    transfer(&mut l, &elf);
    wait_sysstart(&mut l);
    assert_eq!(at(&mut l, "AT+SMOD?"), "1\r\nOK\r\n");
    assert!(l.modem().log().violations().is_empty());
}

#[test]
fn paced_wire_takes_ten_bit_times_a_byte() {
    let mut l = port(Config {
        baud_pacing: true,
        echo: Some(false),
        ..cfg(2)
    });
    l.write(b"AT\r\n").unwrap();
    let got = l.read_until(b"OK\r\n", 100).unwrap();
    assert_eq!(got, b"\r\nOK\r\n");
    // 3 bytes in (the command ends at CR), 6 bytes out, 10.85 µs each.
    let t = l.now_us();
    assert!((95..=110).contains(&t), "{t} µs");
    // The rate change of AT+IPR waits until the OK has left.
    let mut l = Link::new(
        Modem::new(Config {
            baud_pacing: true,
            ..cfg(0)
        }),
        SLOW,
    );
    l.write(b"AT+IPR=921600\r\n").unwrap();
    assert_eq!(l.read_exact(4, 100).unwrap(), b"OK\r\n");
    l.set_baud(FAST);
    l.write(b"AT\r\n").unwrap();
    assert_eq!(l.read_exact(4, 100).unwrap(), b"OK\r\n");
}

// ----- STP sessions -----------------------------------------------------------------

#[test]
fn fff_is_accepted_in_mtools_and_upgrade_mode() {
    for state in [1, 2, 4] {
        let mut l = port(Config {
            echo: Some(false),
            ..cfg(state)
        });
        let img = image(50_000);
        l.write(b"AT+SMSTPU\r\n").unwrap();
        assert_eq!(l.read_exact(4, 1000).unwrap(), b"OK\r\n", "state {state}");
        transfer(&mut l, &img);
        assert!(at(&mut l, "AT+SMUPGRADE").contains("OK"));
        wait_sysstart(&mut l);
        assert_eq!(l.modem().state(), Some(3), "the updater flashes");
        wait_sysstart(&mut l);
        assert_eq!(l.modem().state(), Some(2), "state {state}");
        assert!(upgrade_result(&mut l).contains("success"));
        assert_eq!(l.modem().software_build(), 41065);
        let log = l.modem().log();
        assert!(log.violations().is_empty(), "{:?}", log.violations());
        assert_eq!(log.transfers()[0].bytes(), &img[..]);
        assert!(log.transfers()[0].complete);
    }
}

#[test]
fn state_3_while_the_updater_flashes_fff() {
    let mut l = port(Config {
        upgrade_ms: 60_000,
        ..cfg(2)
    });
    at(&mut l, "ATE0");
    l.write(b"AT+SMSTPU\r\n").unwrap();
    l.read_exact(4, 1000).unwrap();
    transfer(&mut l, &image(30_000));
    at(&mut l, "AT+SMUPGRADE");
    wait_sysstart(&mut l);
    assert_eq!(at(&mut l, "AT+SMOD?"), "\r\n3\r\n\r\nOK\r\n");
    assert!(at(&mut l, "AT+SMUPGRADE?").contains("+SMUPGRADE: on-going"));
    l.sleep_ms(30_000);
    assert!(at(&mut l, "AT+SMUPGRADE?").contains("on-going"));
    wait_sysstart(&mut l);
    assert_eq!(at(&mut l, "AT+SMOD?"), "\r\n2\r\n\r\nOK\r\n");
    assert!(at(&mut l, "AT+SMUPGRADE?").contains("success"));
    let states: Vec<u8> = l.modem().log().states().iter().map(|s| s.1).collect();
    assert_eq!(states, [2, 3, 2]);
}

#[test]
fn power_cycle_while_the_updater_flashes_leaves_upgrade_mode() {
    let mut l = port(Config {
        upgrade_ms: 60_000,
        echo: Some(false),
        ..cfg(2)
    });
    l.write(b"AT+SMSTPU\r\n").unwrap();
    l.read_exact(4, 1000).unwrap();
    transfer(&mut l, &image(30_000));
    at(&mut l, "AT+SMUPGRADE");
    wait_sysstart(&mut l);
    l.sleep_ms(5000);
    l.power_cycle();
    wait_sysstart(&mut l);
    assert_eq!(l.modem().state(), Some(4));
    assert!(at(&mut l, "AT+SMUPGRADE?").contains("fail"));
    // The application is not whole: switching back ends in upgrade mode again.
    at(&mut l, "AT+SMSWBOOT=1,1");
    wait_sysstart(&mut l);
    assert_eq!(l.modem().state(), Some(4));
}

#[test]
fn abandoned_session_is_deaf_until_a_reset_frame() {
    for closing in ["sid0-tid0", "next-tid", "power"] {
        let img = image(100_000);
        let mut l = port(Config {
            echo: Some(false),
            ..cfg(4)
        });
        l.write(b"AT+SMSTPU=\"ON_THE_FLY\"\r\n").unwrap();
        l.read_exact(4, 1000).unwrap();
        open(&mut l);
        let tid = blocks(&mut l, &img[..2016 * 10], 2016, 2);
        // The host gives up and tries AT: text is just bad frames.
        assert_eq!(at(&mut l, "AT"), "", "{closing}");
        assert_eq!(at(&mut l, "AT+SMOD?"), "");
        assert!(l.modem().in_stp());
        assert_eq!(l.modem().state(), None);
        assert!(!l.modem().log().violations().is_empty());
        l.sleep_ms(2000);
        match closing {
            "sid0-tid0" => {
                request(&mut l, OP_RESET, 0, 0, &[], 1000).expect("RESET answered");
            }
            "next-tid" => {
                request(&mut l, OP_RESET, 1, tid, &[], 1000).expect("RESET answered");
            }
            _ => {
                l.power_cycle();
                wait_sysstart(&mut l);
            }
        }
        assert!(!l.modem().in_stp());
        assert_eq!(l.modem().state(), Some(4), "{closing}");
        assert_eq!(at(&mut l, "AT+SMOD?"), "\r\n4\r\n\r\nOK\r\n");
        assert!(at(&mut l, "AT+SMUPGRADE?").contains("fail"));
        let t = &l.modem().log().transfers()[0];
        assert!(!t.complete && !t.active);
        // A plain re-run from the start completes.
        l.write(b"AT+SMSTPU=\"ON_THE_FLY\"\r\n").unwrap();
        assert_eq!(l.read_exact(4, 1000).unwrap(), b"OK\r\n");
        transfer(&mut l, &img);
        assert!(upgrade_result(&mut l).contains("success"));
        at(&mut l, "AT+SMSWBOOT=1,1");
        wait_sysstart(&mut l);
        assert_eq!(l.modem().state(), Some(2));
        let log = l.modem().log();
        assert_eq!(log.transfers()[1].bytes(), &img[..]);
        assert!(log.transfers()[1].complete);
    }
}

#[test]
fn long_waits_while_erasing_and_finishing() {
    let img = image(200_000);
    let mut l = port(Config {
        erase_ms: 120_000,
        finish_ms: 180_000,
        echo: Some(false),
        ..cfg(4)
    });
    l.write(b"AT+SMSTPU=\"ON_THE_FLY\"\r\n").unwrap();
    l.read_exact(4, 1000).unwrap();
    open(&mut l);
    let mut waits = Vec::new();
    let mut tid = 2;
    let mut sent = 0;
    for chunk in img.chunks(2016) {
        request(
            &mut l,
            OP_CMD,
            1,
            tid,
            &(chunk.len() as u16).to_be_bytes(),
            1000,
        )
        .unwrap();
        let t0 = l.now_ms();
        request(&mut l, OP_BLOCK, 1, tid + 1, chunk, 600_000).expect("a reply, however late");
        sent += chunk.len();
        let waited = l.now_ms() - t0;
        if waited > 1000 {
            waits.push((sent * 100 / img.len(), waited));
        }
        tid += 2;
    }
    assert_eq!(waits.len(), 2, "{waits:?}");
    assert!(
        (7..=10).contains(&waits[0].0) && waits[0].1 >= 120_000,
        "{waits:?}"
    );
    assert!(waits[1].0 >= 99 && waits[1].1 >= 180_000, "{waits:?}");
    request(&mut l, OP_RESET, 1, tid, &[], 1000).unwrap();
    assert!(upgrade_result(&mut l).contains("success"));
}

#[test]
fn cut_short_image_is_not_flashed() {
    let full = image(80_000);
    let short = &full[..60_000];
    // ON_THE_FLY: the report is fail at once, and the modem stays in upgrade mode.
    let mut l = port(Config {
        echo: Some(false),
        ..cfg(4)
    });
    l.write(b"AT+SMSTPU=\"ON_THE_FLY\"\r\n").unwrap();
    l.read_exact(4, 1000).unwrap();
    transfer(&mut l, short);
    assert!(at(&mut l, "AT+SMUPGRADE?").contains("+SMUPGRADE: fail"));
    assert!(!l.modem().log().transfers()[0].complete);
    // FFF: stored, then the flash fails; the application still runs the old build.
    let mut l = port(Config {
        echo: Some(false),
        ..cfg(2)
    });
    l.write(b"AT+SMSTPU\r\n").unwrap();
    l.read_exact(4, 1000).unwrap();
    transfer(&mut l, short);
    at(&mut l, "AT+SMUPGRADE");
    wait_sysstart(&mut l);
    wait_sysstart(&mut l);
    assert!(upgrade_result(&mut l).contains("fail"));
    assert_eq!(l.modem().state(), Some(2));
    assert_eq!(l.modem().software_build(), 38638);
}

#[test]
fn switch_back_and_its_fallback() {
    for (cmds, fault) in [
        (&["AT+SMSWBOOT=1,1"][..], None),
        (&["AT+SMSWBOOT=1,0", "AT^RESET"][..], None),
        (
            &["AT+SMSWBOOT=1,1", "AT+SMSWBOOT=1,0", "AT^RESET"][..],
            Some("swboot-error@1,1"),
        ),
    ] {
        let mut c = Config {
            echo: Some(false),
            ..cfg(4)
        };
        c.faults = fault.iter().map(|f| Fault::parse(f).unwrap()).collect();
        let mut l = port(c);
        l.write(b"AT+SMSTPU=\"ON_THE_FLY\"\r\n").unwrap();
        l.read_exact(4, 1000).unwrap();
        transfer(&mut l, &image(40_000));
        assert!(upgrade_result(&mut l).contains("success"));
        assert!(at(&mut l, "AT+SMSWBOOT?").contains("RECOVERY"));
        for c in cmds {
            at(&mut l, c);
        }
        wait_sysstart(&mut l);
        assert_eq!(l.modem().state(), Some(2), "{cmds:?}");
        assert_eq!(l.modem().software_build(), 41065);
    }
}

// ----- faults -----------------------------------------------------------------------

#[test]
fn fault_flip_hits_the_nth_request_of_any_kind() {
    let mut l = port(with_faults(2, &["flip@2", "flip@5:0"]));
    at(&mut l, "ATE0");
    let r = at(&mut l, "AT");
    assert!(!r.contains("OK"), "OK never arrives intact: {r:?}");
    assert_eq!(at(&mut l, "AT"), "\r\nOK\r\n");
    // Request 5 is the first STP frame.
    let mut l = port(with_faults(4, &["flip@2:0", "corrupt-reply@req=3"]));
    at(&mut l, "ATE0");
    l.write(b"AT+SMSTPU=\"ON_THE_FLY\"\r\n").unwrap();
    assert_eq!(l.read_exact(4, 1000).unwrap(), b"\xb0K\r\n");
    l.write(&frame(OP_RESET, 0, 0, &[])).unwrap();
    let r = l.read_exact(16, 1000).unwrap();
    assert_eq!(&r[..4], &SIG_MODEM.to_be_bytes());
    // A RESET reply's header CRC is 0 ("not given"); the fault flips a byte of it.
    assert_eq!(u16::from_be_bytes([r[12], r[13]]), 0xff00, "CRC corrupted");
    // The resend gets a clean reply.
    let r = request(&mut l, OP_RESET, 0, 0, &[], 1000).unwrap();
    assert_eq!(u16::from_be_bytes([r[12], r[13]]), 0);
    let r = request(&mut l, OP_OPEN, 1, 1, &[], 1000).unwrap();
    assert_eq!(
        u16::from_be_bytes([r[12], r[13]]),
        crate::stp::header_crc(&r)
    );
    assert_eq!(
        u16::from_be_bytes([r[14], r[15]]),
        crate::stp::crc16(&r[16..])
    );
}

#[test]
fn fault_noise_before_the_stpu_ok() {
    let mut l = port(with_faults(4, &["stpu-noise"]));
    at(&mut l, "ATE0");
    l.write(b"AT+SMSTPU=\"ON_THE_FLY\"\r\n").unwrap();
    assert_eq!(l.read_exact(8, 1000).unwrap(), b"\x00\xf0\xff\x80OK\r\n");
    let mut l = port(with_faults(2, &["stpu-noise@2:2"]));
    at(&mut l, "ATE0");
    l.write(b"AT+SMSTPU\r\n").unwrap();
    assert_eq!(
        l.read_exact(4, 1000).unwrap(),
        b"OK\r\n",
        "the first one is clean"
    );
    l.write(&frame(OP_RESET, 0, 0, &[])).unwrap();
    l.read_exact(16, 1000).unwrap();
    l.write(&frame(OP_RESET, 0, 0, &[])).unwrap();
    l.read_exact(16, 1000).unwrap();
}

#[test]
fn fault_hang_at_block_n_until_reset() {
    let img = image(40_000);
    let mut l = port(with_faults(4, &["hang@3"]));
    at(&mut l, "ATE0");
    l.write(b"AT+SMSTPU=\"ON_THE_FLY\"\r\n").unwrap();
    l.read_exact(4, 1000).unwrap();
    open(&mut l);
    let tid = blocks(&mut l, &img[..4032], 2016, 2);
    let chunk = &img[4032..6048];
    request(&mut l, OP_CMD, 1, tid, &[0x07, 0xe0], 1000).unwrap();
    for _ in 0..4 {
        assert!(request(&mut l, OP_BLOCK, 1, tid + 1, chunk, 90_000).is_none());
    }
    assert!(l.now_ms() >= 360_000);
    assert!(l.modem().in_stp());
    request(&mut l, OP_RESET, 0, 0, &[], 1000).expect("RESET ends it");
    assert_eq!(l.modem().state(), Some(4));
}

#[test]
fn fault_reboot_at_the_first_and_the_last_block() {
    let img = image(20_000); // 10 blocks of 2016
    for n in [1, 10] {
        let mut l = port(with_faults(4, &[&format!("reboot@{n}")]));
        at(&mut l, "ATE0");
        l.write(b"AT+SMSTPU=\"ON_THE_FLY\"\r\n").unwrap();
        l.read_exact(4, 1000).unwrap();
        open(&mut l);
        let tid = blocks(&mut l, &img[..(n - 1) * 2016], 2016, 2);
        let chunk = &img[(n - 1) * 2016..(n * 2016).min(img.len())];
        request(
            &mut l,
            OP_CMD,
            1,
            tid,
            &(chunk.len() as u16).to_be_bytes(),
            1000,
        )
        .unwrap();
        l.write(&frame(OP_BLOCK, 1, tid + 1, chunk)).unwrap();
        let got = l.read_until(b"+SYSSTART\r\n", 5000).unwrap();
        assert!(text(&got).contains("+SYSSTART"), "block {n}");
        assert_eq!(l.modem().state(), Some(4));
        let t = &l.modem().log().transfers()[0];
        assert!(!t.complete && !t.active);
        assert!(at(&mut l, "AT+SMUPGRADE?").contains("fail"));
    }
    // FFF too: an interrupted image transfer leaves upgrade mode.
    let mut l = port(with_faults(2, &["reboot@2"]));
    at(&mut l, "ATE0");
    l.write(b"AT+SMSTPU\r\n").unwrap();
    l.read_exact(4, 1000).unwrap();
    open(&mut l);
    blocks(&mut l, &img[..2016], 2016, 2);
    request(&mut l, OP_CMD, 1, 4, &[0x07, 0xe0], 1000).unwrap();
    l.write(&frame(OP_BLOCK, 1, 5, &img[2016..4032])).unwrap();
    wait_sysstart(&mut l);
    assert_eq!(l.modem().state(), Some(4));
}

#[test]
fn fault_each_boot_switch_errors_alone() {
    for (fault, failing) in [
        ("swboot-error@3,1", "AT+SMSWBOOT=3,1"),
        ("swboot-error@1,1", "AT+SMSWBOOT=1,1"),
        ("swboot-error@0,1", "AT+SMSWBOOT=0,1"),
        ("swboot-error@3,0", "AT+SMSWBOOT=3,0"),
        ("swboot-error@1,0", "AT+SMSWBOOT=1,0"),
        ("swboot-error@0,0", "AT+SMSWBOOT=0,0"),
    ] {
        for cmd in [
            "AT+SMSWBOOT=3,1",
            "AT+SMSWBOOT=1,1",
            "AT+SMSWBOOT=0,1",
            "AT+SMSWBOOT=3,0",
            "AT+SMSWBOOT=1,0",
            "AT+SMSWBOOT=0,0",
        ] {
            let mut l = port(with_faults(2, &[fault]));
            at(&mut l, "ATE0");
            let r = at(&mut l, cmd);
            let want = if cmd == failing { "ERROR" } else { "OK" };
            assert!(r.contains(want), "{fault} {cmd}: {r:?}");
        }
    }
}

#[test]
fn fault_switch_back_without_effect() {
    let mut l = port(with_faults(4, &["swboot-no-effect"]));
    at(&mut l, "ATE0");
    l.write(b"AT+SMSTPU=\"ON_THE_FLY\"\r\n").unwrap();
    l.read_exact(4, 1000).unwrap();
    transfer(&mut l, &image(30_000));
    assert!(upgrade_result(&mut l).contains("success"));
    assert!(at(&mut l, "AT+SMSWBOOT=1,1").contains("OK"));
    wait_sysstart(&mut l);
    assert_eq!(l.modem().state(), Some(4), "came back in upgrade mode");
    at(&mut l, "AT+SMSWBOOT=1,0");
    at(&mut l, "AT^RESET");
    wait_sysstart(&mut l);
    assert_eq!(l.modem().state(), Some(2), "the fallback works");
}

#[test]
fn fault_late_replies_even_in_detection() {
    let mut l = port(with_faults(0, &["late:1500"]));
    l.write(b"AT\r\n").unwrap();
    assert!(l.read(16, 1400).unwrap().is_empty());
    assert_eq!(l.read(16, 200).unwrap(), b"OK\r\n");
    let t0 = l.now_ms();
    at(&mut l, "AT+SMOD?");
    assert!(l.now_ms() - t0 >= 1500);
    // One command only, and a stall of one STP reply.
    let mut l = port(with_faults(2, &["late@cmd=AT+SMOD?:800"]));
    assert_eq!(at(&mut l, "AT").len(), 9);
    let t0 = l.now_ms();
    at(&mut l, "AT+SMOD?");
    assert!(l.now_ms() - t0 >= 800);
}

#[test]
fn fault_link_gone_at_a_command_or_a_block() {
    let mut l = port(with_faults(2, &["link-gone@cmd=AT+SMOD?"]));
    assert!(at(&mut l, "AT").contains("OK"));
    assert!(l.write(b"AT+SMOD?\r\n").is_err());
    assert!(l.read(10, 100).is_err());
    assert!(l.modem().link_gone());
    assert!(l.write(b"AT\r\n").is_err());
    assert_eq!(l.modem().state(), None);
    let mut l = port(with_faults(4, &["link-gone@2"]));
    at(&mut l, "ATE0");
    l.write(b"AT+SMSTPU=\"ON_THE_FLY\"\r\n").unwrap();
    l.read_exact(4, 1000).unwrap();
    open(&mut l);
    let img = image(10_000);
    blocks(&mut l, &img[..2016], 2016, 2);
    request(&mut l, OP_CMD, 1, 4, &[0x07, 0xe0], 1000).unwrap();
    assert!(l.write(&frame(OP_BLOCK, 1, 5, &img[2016..4032])).is_err());
    assert!(l.modem().link_gone());
    assert!(l.modem().log().to_json()["link_gone"].as_bool().unwrap());
}

#[test]
fn fault_repl_is_not_a_modem() {
    let mut l = port(with_faults(2, &["repl"]));
    l.write(b"AT\r\n").unwrap();
    let got = text(&l.read_until(b">>> ", 1000).unwrap());
    assert!(
        got.starts_with("AT\r\nTraceback (most recent call last):\r\n"),
        "{got:?}"
    );
    assert!(got.contains("NameError: name 'AT' isn't defined"));
    for cmd in ["AT+SMOD?", "ATE0", "+++", "AT+SMSWBOOT=3,1"] {
        l.write(format!("{cmd}\r\n").as_bytes()).unwrap();
        let got = text(&l.read_until(b">>> ", 1000).unwrap());
        assert!(!got.contains("\r\nOK\r\n"), "{got:?}");
        assert!(got.contains("Error"), "{got:?}");
    }
    // At any rate: it is a USB port.
    l.set_baud(SLOW);
    l.write(b"\r").unwrap();
    assert_eq!(l.read_until(b">>> ", 100).unwrap(), b"\r\n>>> ");
    assert_eq!(l.modem().state(), None);
    assert!(l.modem().log().commands().iter().all(|c| !c.changes_modem));
}

#[test]
fn fault_silent_and_data_mode_and_only_115200() {
    let mut l = port(with_faults(2, &["silent"]));
    assert_eq!(at(&mut l, "AT"), "");
    assert_eq!(l.modem().state(), None);
    assert_eq!(l.modem().log().commands().len(), 1);
    let mut l = port(with_faults(2, &["data-mode"]));
    assert_eq!(at(&mut l, "AT"), "");
    assert_eq!(l.modem().state(), None);
    l.sleep_ms(1200);
    l.write(b"+++").unwrap();
    let got = l.read_until(b"OK\r\n", 3000).unwrap();
    assert_eq!(got, b"\r\nOK\r\n");
    assert!(at(&mut l, "AT").ends_with("\r\nOK\r\n"));
    assert_eq!(l.modem().state(), Some(2));
    let mut l = Link::new(Modem::new(with_faults(2, &["only-115200"])), FAST);
    assert_eq!(at(&mut l, "AT"), "");
    l.set_baud(SLOW);
    assert!(at(&mut l, "AT").contains("OK"));
    assert!(at(&mut l, "AT+IPR=921600").contains("ERROR"));
}

#[test]
fn fault_on_a_named_command_and_at_a_time() {
    let mut l = port(with_faults(
        2,
        &[
            "drop-reply@cmd=AT+SMOD?#1",
            "error@cmd=ATI1",
            "reboot@t=5000",
        ],
    ));
    at(&mut l, "ATE0");
    assert_eq!(at(&mut l, "AT+SMOD?"), "");
    assert_eq!(at(&mut l, "AT+SMOD?"), "\r\n2\r\n\r\nOK\r\n");
    assert_eq!(at(&mut l, "ATI1"), "\r\nERROR\r\n");
    assert_eq!(at(&mut l, "ATI1"), "\r\nERROR\r\n");
    l.sleep_ms(5000 - l.now_ms() + 1);
    assert_eq!(l.modem().state(), None, "resetting");
    wait_sysstart(&mut l);
    assert_eq!(l.modem().state(), Some(2));
    let cmds = l.modem().log().commands();
    assert_eq!(
        cmds[1].reply, "OK",
        "a dropped reply is still answered inside"
    );
}

#[test]
fn stall_of_a_block_reply_and_resend_while_busy() {
    let img = image(30_000);
    let mut l = port(with_faults(4, &["stall@2:5000"]));
    at(&mut l, "ATE0");
    l.write(b"AT+SMSTPU=\"ON_THE_FLY\"\r\n").unwrap();
    l.read_exact(4, 1000).unwrap();
    open(&mut l);
    let tid = blocks(&mut l, &img[..2016], 2016, 2);
    request(&mut l, OP_CMD, 1, tid, &[0x07, 0xe0], 1000).unwrap();
    // The host gives up after 3 s and resends; both replies come after the stall.
    assert!(request(&mut l, OP_BLOCK, 1, tid + 1, &img[2016..4032], 3000).is_none());
    request(&mut l, OP_BLOCK, 1, tid + 1, &img[2016..4032], 3000).expect("late reply");
    // The resend is answered too, right after: a host skips that second copy.
    assert_eq!(l.read_exact(18, 10).unwrap().len(), 18);
    request(&mut l, OP_CMD, 1, tid + 2, &[0x07, 0xe0], 1000).expect("next request");
    let t = &l.modem().log().transfers()[0];
    assert_eq!(t.resends, 1);
    assert_eq!(t.bytes(), &img[..4032]);
}

#[test]
fn log_json_keeps_the_fields_tests_read() {
    let mut l = port(cfg(2));
    at(&mut l, "AT+SMOD?");
    at(&mut l, "AT+CFUN=4");
    let v = l.modem().log().to_json();
    for key in [
        "state",
        "baud",
        "echo",
        "software_build",
        "commands",
        "transfers",
        "violations",
        "result",
        "events",
        "dropped_bytes",
        "info",
    ] {
        assert!(!v[key].is_null(), "{key}");
    }
    assert_eq!(v["commands"][0]["cmd"], "AT+SMOD?");
    assert_eq!(v["commands"][0]["changes_modem"], false);
    assert_eq!(v["commands"][1]["changes_modem"], true);
    assert_eq!(v["commands"][0]["baud"], 921_600);
    assert!(v["result"]["upgrade"].is_null());
}
