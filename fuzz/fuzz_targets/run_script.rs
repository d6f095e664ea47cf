//! A whole update against a modem whose every reply is the fuzzer's bytes, in virtual
//! time. Properties: no panic; the engine ends (within a bounded number of link calls and
//! of virtual hours); a failure that says the modem was not changed sent no command that
//! changes it; the four failure lines and the next command render for every front end.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sqnsupgrade::error::Error;
use sqnsupgrade::hal::{Cancel, Clock, Event, Events, Link};
use sqnsupgrade::image::MemImage;
use sqnsupgrade::report::{write_failure, Command, Frontend, Request, UserOptions};
use sqnsupgrade::updater::{Updater, Workspace};

/// The modem: each read takes one control byte, then that many bytes of reply.
struct Script<'a> {
    script: &'a [u8],
    now: u64,
    calls: u32,
    sent: Vec<u8>,
}

const MAX_CALLS: u32 = 200_000;
const MAX_MS: u64 = 48 * 3_600_000;

impl Script<'_> {
    fn tick(&mut self) {
        self.calls += 1;
        assert!(
            self.calls < MAX_CALLS,
            "the engine does not end (link calls)"
        );
        assert!(self.now < MAX_MS, "the engine does not end (virtual time)");
    }
}

impl Link for Script<'_> {
    fn write_all(&mut self, data: &[u8]) -> Result<(), Error> {
        self.tick();
        self.sent.extend_from_slice(data);
        self.now += 1;
        Ok(())
    }

    fn read(&mut self, buf: &mut [u8], timeout_ms: u32) -> Result<usize, Error> {
        self.tick();
        let Some((&c, rest)) = self.script.split_first() else {
            self.now += u64::from(timeout_ms.max(1));
            return Ok(0);
        };
        self.script = rest;
        match c {
            0 => {
                self.now += u64::from(timeout_ms.max(1));
                Ok(0)
            }
            0xff => Err(Error::LinkGone),
            _ => {
                // The high bit: the reply comes late (up to 3.1 s).
                if c & 0x80 != 0 {
                    self.now += u64::from(c & 0x1f) * 100;
                }
                let want = usize::from(c & 0x7f).min(buf.len()).min(self.script.len());
                let (now, later) = self.script.split_at(want);
                buf[..want].copy_from_slice(now);
                self.script = later;
                self.now += 1;
                Ok(want)
            }
        }
    }

    fn set_baud(&mut self, _baud: u32) -> Result<(), Error> {
        Ok(())
    }

    fn discard_input(&mut self) -> Result<(), Error> {
        Ok(())
    }
}

impl Clock for Script<'_> {
    fn now_ms(&mut self) -> u32 {
        self.now as u32
    }

    fn sleep_ms(&mut self, ms: u32) {
        self.tick();
        self.now += u64::from(ms);
    }
}

impl Cancel for Script<'_> {
    fn cancelled(&mut self) -> bool {
        false
    }
}

impl Events for Script<'_> {
    fn event(&mut self, _event: &Event<'_>) {}
}

/// A small `.dup` that passes the file checks (version 3, the length its header says).
fn firmware() -> Vec<u8> {
    let mut f = b"UPGR".to_vec();
    f.extend_from_slice(&3u32.to_le_bytes());
    f.extend_from_slice(&(600u32 - 46).to_le_bytes());
    f.extend_from_slice(b"CATM1-41065\0");
    f.resize(600, 0x5a);
    f
}

fn updater_elf() -> Vec<u8> {
    let mut f = b"\x7fELF".to_vec();
    f.resize(400, 0x11);
    f
}

/// Commands that change the modem (boot switch, reset, STP, baud, radio off).
const CHANGING: [&[u8]; 6] = [
    b"AT+SMSWBOOT",
    b"AT^RESET",
    b"AT+SMSTPU",
    b"AT+IPR=",
    b"AT+CFUN=",
    b"AT+SMUPGRADE=",
];

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fuzz_target!(|data: &[u8]| {
    let Some((&ctl, script)) = data.split_first() else {
        return;
    };
    let user = UserOptions {
        fff: ctl & 3 == 1,
        on_the_fly: ctl & 3 == 2,
        resume: ctl & 4 != 0,
        ..UserOptions::default()
    };
    let Ok(options) = user.check() else {
        return;
    };
    let fw = firmware();
    let up = updater_elf();
    let with_updater = ctl & 8 != 0;
    let mut ws = Box::new(Workspace::new());
    let modem = Script {
        script,
        now: 0,
        calls: 0,
        sent: Vec::new(),
    };
    let mut updater = Updater::new(modem, options, &mut ws);
    let mut fw_src = MemImage::new(&fw, b"CATM1-41065.dup");
    let mut up_src = MemImage::new(&up, b"updater.elf");
    let result = updater.run(&mut fw_src, with_updater.then_some(&mut up_src), None);
    let sent = std::mem::take(&mut updater.hal_mut().sent);
    let failure = match result {
        Ok(outcome) => {
            assert_eq!(
                outcome.state_after,
                Some(sqnsupgrade::state::State::Application),
                "success outside application mode"
            );
            return;
        }
        Err(f) => f,
    };
    if !failure.modem_changed {
        for c in CHANGING {
            assert!(
                !contains(&sent, c),
                "said `modem: not changed` after sending {}",
                String::from_utf8_lossy(c)
            );
        }
    }
    for frontend in [Frontend::Shell, Frontend::CPython, Frontend::MicroPython] {
        let request = Request {
            firmware: Some(b"CATM1-41065.dup"),
            updater: with_updater.then_some(&b"updater.elf"[..]),
            options: user,
            ..Request::new(Command::Run, frontend)
        };
        let mut text = String::new();
        write_failure(&failure, &request, &mut text);
        assert_eq!(text.lines().count(), 4, "not four failure lines: {text}");
    }
});
