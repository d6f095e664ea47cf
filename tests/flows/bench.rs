//! The test bench: the engine's [`Hal`] over the simulator's modem model in virtual time,
//! a user who types Ctrl-C at a chosen moment, reads the four failure lines, follows the
//! hint's advice and runs the printed `next:` command as a shell would.

use sqnsim::link::Link;
use sqnsim::{Config, Modem};
use sqnsupgrade::console::{Console, TextOut};
use sqnsupgrade::error::Error;
use sqnsupgrade::hal::{Cancel, Clock, Event, Events, Link as ModemLink, Stage};
use sqnsupgrade::image::MemImage;
use sqnsupgrade::report::{self, Command, Frontend, Request, UserOptions};
use sqnsupgrade::state::State;
use sqnsupgrade::updater::{Failure, Outcome, Updater, Workspace};
use std::cell::RefCell;
use std::rc::Rc;

/// The user's files, under the names a user gives (one with a space, to be quoted).
pub struct Files {
    pub firmware: Vec<u8>,
    pub updater: Vec<u8>,
    pub bootrom: Vec<u8>,
}

pub const FIRMWARE: &str = "/sd/my images/CATM1-41065.dup";
pub const UPDATER: &str = "updater.elf";
pub const BOOTROM: &str = "boot recovery.pkg";
/// The build the image installs (its name and description say so).
pub const NEW_BUILD: u32 = 41065;

impl Files {
    pub fn new(firmware_size: usize) -> Files {
        let firmware = sqnsim::image::synthetic_dup(firmware_size, "CATM1-41065").unwrap();
        let mut updater = b"\x7fELF\x01\x01\x01".to_vec();
        updater.extend((0..9000u32).map(|i| (i * 7 + 3) as u8));
        let mut bootrom = b"BOOTROM-PKG".to_vec();
        bootrom.extend((0..5000u32).map(|i| (i * 13 + 1) as u8));
        Files {
            firmware,
            updater,
            bootrom,
        }
    }

    /// The contents of a file the user names (a placeholder means: the file it names).
    fn open(&self, arg: &str) -> (&[u8], &'static str) {
        match arg {
            FIRMWARE => (&self.firmware, FIRMWARE),
            UPDATER => (&self.updater, UPDATER),
            BOOTROM => (&self.bootrom, BOOTROM),
            other => panic!("the next step names a file the user does not have: {other:?}"),
        }
    }
}

/// When the user presses Ctrl-C: at the `poll`-th cancel check of `stage`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CtrlC {
    pub stage: Stage,
    pub poll: u32,
}

/// What the console printed.
#[derive(Clone, Default)]
pub struct Screen(Rc<RefCell<String>>);

impl TextOut for Screen {
    fn text(&mut self, text: &[u8]) {
        self.0.borrow_mut().push_str(&String::from_utf8_lossy(text));
    }
}

impl Screen {
    pub fn text(&self) -> String {
        self.0.borrow().clone()
    }
}

/// The board, the modem and the user's hands.
pub struct Bench {
    pub port: Link,
    console: Console<Screen>,
    pub screen: Screen,
    pub ctrl_c: Option<CtrlC>,
    /// Ctrl-C was pressed (it stays pressed for the rest of the command, as with a
    /// signal handler's flag).
    pub pressed: bool,
    stage: Option<Stage>,
    polls: u32,
    /// The longest time without a line of output during the current command (ms).
    pub longest_silence_ms: u64,
    last_output_ms: u64,
    /// The longest time without a sign of life (`Event::Alive`: what feeds a board's
    /// watchdog) during the current command, to its end (ms).
    pub longest_unfed_ms: u64,
    last_alive_ms: u64,
    /// Stages seen, in order.
    pub stages: Vec<Stage>,
    /// The modem's true state when the engine last listened to it (a read ended): what
    /// its report can know. A modem busy meanwhile (erasing flash) may change state after.
    pub truth_at_last_read: Option<State>,
}

impl Bench {
    pub fn new(cfg: Config) -> Bench {
        let baud = cfg
            .baud
            .unwrap_or(if cfg.state == 0 { 115_200 } else { 921_600 });
        let screen = Screen::default();
        Bench {
            port: Link::new(Modem::new(cfg), baud),
            console: Console::new(
                screen.clone(),
                std::env::var_os("SQN_FLOWS_DEBUG").is_some(),
            ),
            screen,
            ctrl_c: None,
            pressed: false,
            stage: None,
            polls: 0,
            longest_silence_ms: 0,
            last_output_ms: 0,
            longest_unfed_ms: 0,
            last_alive_ms: 0,
            stages: Vec::new(),
            truth_at_last_read: None,
        }
    }

    fn output(&mut self) {
        let now = self.port.now_ms();
        self.longest_silence_ms = self
            .longest_silence_ms
            .max(now.saturating_sub(self.last_output_ms));
        self.last_output_ms = now;
    }

    /// A new command starts (a new process: Ctrl-C released, silence measured anew).
    fn begin(&mut self) {
        self.pressed = false;
        self.stage = None;
        self.polls = 0;
        self.last_output_ms = self.port.now_ms();
        self.longest_silence_ms = 0;
        self.last_alive_ms = self.port.now_ms();
        self.longest_unfed_ms = 0;
    }

    fn alive(&mut self) {
        let now = self.port.now_ms();
        self.longest_unfed_ms = self
            .longest_unfed_ms
            .max(now.saturating_sub(self.last_alive_ms));
        self.last_alive_ms = now;
    }

    /// The command ended: the time since the last sign of life counts too.
    pub fn end(&mut self) {
        self.alive();
    }

    /// The modem's true state, as `AT+SMOD?` would answer it (None: resetting, in STP,
    /// silent, hung, not a modem).
    pub fn true_state(&self) -> Option<State> {
        self.port
            .modem()
            .state()
            .and_then(|n| State::from_smod(u32::from(n)))
    }
}

fn gone(_: std::io::Error) -> Error {
    Error::LinkGone
}

impl ModemLink for Bench {
    fn write_all(&mut self, data: &[u8]) -> Result<(), Error> {
        self.port.write(data).map_err(gone)
    }

    fn read(&mut self, buf: &mut [u8], timeout_ms: u32) -> Result<usize, Error> {
        let got = self
            .port
            .read(buf.len(), u64::from(timeout_ms))
            .map_err(gone)?;
        buf[..got.len()].copy_from_slice(&got);
        self.truth_at_last_read = self.true_state();
        Ok(got.len())
    }

    fn set_baud(&mut self, baud: u32) -> Result<(), Error> {
        self.port.set_baud(baud);
        Ok(())
    }

    fn discard_input(&mut self) -> Result<(), Error> {
        self.port.discard_input();
        Ok(())
    }
}

impl Clock for Bench {
    fn now_ms(&mut self) -> u32 {
        self.port.now_ms() as u32
    }

    fn sleep_ms(&mut self, ms: u32) {
        self.port.sleep_ms(u64::from(ms));
    }
}

impl Cancel for Bench {
    fn cancelled(&mut self) -> bool {
        if self.pressed {
            return true;
        }
        if let Some(c) = self.ctrl_c {
            if Some(c.stage) == self.stage {
                self.polls += 1;
                if self.polls >= c.poll {
                    self.pressed = true;
                    self.ctrl_c = None;
                }
            }
        }
        self.pressed
    }
}

impl Events for Bench {
    fn event(&mut self, event: &Event<'_>) {
        if let Event::Stage(s) = event {
            self.stage = Some(*s);
            self.polls = 0;
            self.stages.push(*s);
        }
        match event {
            Event::Alive => self.alive(),
            Event::Debug(_) => {}
            _ => self.output(),
        }
        self.console.event(event);
    }
}

/// A command as a user runs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cmd {
    Run {
        firmware: String,
        updater: Option<String>,
        bootrom: Option<String>,
        options: UserOptions,
    },
    State,
    Info,
    Load(String),
}

impl Cmd {
    /// The request as the CLI makes it (for the report).
    pub fn request(&self) -> Request<'_> {
        let mut r = Request::new(self.command(), Frontend::Shell);
        r.port = Some(b"/dev/ttyACM0");
        match self {
            Cmd::Run {
                firmware,
                updater,
                bootrom,
                options,
            } => {
                r.firmware = Some(firmware.as_bytes());
                r.updater = updater.as_deref().map(str::as_bytes);
                r.bootrom = bootrom.as_deref().map(str::as_bytes);
                r.options = *options;
            }
            Cmd::Load(u) => r.updater = Some(u.as_bytes()),
            Cmd::State | Cmd::Info => {}
        }
        r
    }

    fn command(&self) -> Command {
        match self {
            Cmd::Run { .. } => Command::Run,
            Cmd::State => Command::State,
            Cmd::Info => Command::Info,
            Cmd::Load(_) => Command::Load,
        }
    }

    /// Parses a `next:` line as a POSIX shell and the CLI would.
    pub fn parse(line: &str) -> Result<Cmd, String> {
        // The user puts their file where a placeholder asks for one.
        let line = line
            .replace("<full image .dup>", &format!("'{FIRMWARE}'"))
            .replace("<updater.elf>", UPDATER)
            .replace("<bootrom package>", &format!("'{BOOTROM}'"));
        let words = shell_words(&line)?;
        let mut it = words.iter().map(String::as_str).peekable();
        if it.next() != Some("sqnsupgrade") {
            return Err(format!("not a sqnsupgrade command: {line}"));
        }
        if it.peek() == Some(&"--port") {
            it.next();
            it.next().ok_or("--port without a value")?;
        }
        let cmd = match it.next() {
            Some("state") => Cmd::State,
            Some("info") => Cmd::Info,
            Some("load") => Cmd::Load(it.next().ok_or("load without a file")?.into()),
            Some("run") => {
                let mut firmware = None;
                let mut updater = None;
                let mut bootrom = None;
                let mut options = UserOptions::default();
                while let Some(w) = it.next() {
                    match w {
                        "--updater" => updater = Some(it.next().ok_or("--updater")?.into()),
                        "--bootrom" => bootrom = Some(it.next().ok_or("--bootrom")?.into()),
                        "--fff" => options.fff = true,
                        "--on-the-fly" => options.on_the_fly = true,
                        "--allow-truncated" => options.allow_truncated = true,
                        "--block-size" => {
                            options.block_size = match it.next().ok_or("--block-size")? {
                                "max" => None,
                                n => Some(n.parse().map_err(|_| "--block-size N")?),
                            }
                        }
                        "--reply-timeout" => {
                            options.reply_timeout_s = it
                                .next()
                                .ok_or("--reply-timeout")?
                                .parse()
                                .map_err(|_| "N")?
                        }
                        f if f.starts_with('-') => return Err(format!("unknown option {f}")),
                        f if firmware.is_none() => firmware = Some(f.to_string()),
                        f => return Err(format!("a second file {f}")),
                    }
                }
                Cmd::Run {
                    firmware: firmware.ok_or("run without a firmware image")?,
                    updater,
                    bootrom,
                    options,
                }
            }
            other => return Err(format!("unknown command {other:?} in {line}")),
        };
        if let Some(extra) = it.next() {
            return Err(format!("extra word {extra:?} in {line}"));
        }
        Ok(cmd)
    }
}

/// Splits a line into words as a POSIX shell does (`shlex`: quotes, backslashes); refuses
/// what a shell would not run as one plain command (unbalanced quotes, an unquoted `(`,
/// `)`, `;`, `|`, `&`, `<` or `>`).
pub fn shell_words(line: &str) -> Result<Vec<String>, String> {
    let words = shlex::split(line).ok_or_else(|| format!("unbalanced quotes in {line}"))?;
    // Such a character is quoted (or escaped) when the text before it does not split: a
    // quote is still open there, or it ends with a backslash.
    for (at, c) in line.char_indices() {
        if "();|&<>".contains(c) && line.get(..at).and_then(shlex::split).is_some() {
            return Err(format!("a shell would not run this as one command: {line}"));
        }
    }
    Ok(words)
}

/// What one command gave.
#[derive(Debug)]
pub enum Done {
    Updated(Outcome),
    State(State),
    Failed(Failure),
}

/// Runs `cmd` on the bench, as the CLI would.
pub fn execute(bench: &mut Bench, files: &Files, cmd: &Cmd) -> Done {
    bench.begin();
    let options = match cmd {
        Cmd::Run { options, .. } => *options,
        _ => UserOptions::default(),
    };
    let options = match options.check() {
        Ok(o) => o,
        Err(e) => return Done::Failed(Failure::untouched(e)),
    };
    let mut ws = Box::new(Workspace::new());
    let mut updater = Updater::new(&mut *bench, options, &mut ws);
    let done = match cmd {
        Cmd::Run {
            firmware,
            updater: up,
            bootrom,
            ..
        } => {
            let (data, name) = files.open(firmware);
            let mut fw = MemImage::new(data, name.as_bytes());
            let mut up = up.as_deref().map(|u| {
                let (data, name) = files.open(u);
                MemImage::new(data, name.as_bytes())
            });
            let mut br = bootrom.as_deref().map(|b| {
                let (data, name) = files.open(b);
                MemImage::new(data, name.as_bytes())
            });
            match updater.run(&mut fw, up.as_mut(), br.as_mut()) {
                Ok(o) => Done::Updated(o),
                Err(f) => Done::Failed(f),
            }
        }
        Cmd::State => match updater.state() {
            Ok(s) => Done::State(s),
            Err(f) => Done::Failed(f),
        },
        Cmd::Info => match updater.info() {
            Ok(i) => Done::State(i.state.expect("info without a state is a failure")),
            Err(f) => Done::Failed(f),
        },
        Cmd::Load(u) => {
            let (data, name) = files.open(u);
            let mut up = MemImage::new(data, name.as_bytes());
            match updater.load(&mut up) {
                Ok(s) => Done::State(s),
                Err(f) => Done::Failed(f),
            }
        }
    };
    bench.console.close_line();
    done
}

/// The four failure lines as the CLI prints them.
pub struct Lines {
    pub error: String,
    pub hint: String,
    pub modem: String,
    pub next: String,
}

pub fn failure_lines(f: &Failure, cmd: &Cmd) -> Lines {
    let mut text = String::new();
    report::write_failure(f, &cmd.request(), &mut text);
    let mut lines = text.lines().map(str::to_string);
    let mut take = |label: &str| {
        let l = lines.next().unwrap_or_default();
        l.strip_prefix(label)
            .unwrap_or_else(|| panic!("{label:?} line expected, got {l:?}"))
            .to_string()
    };
    Lines {
        error: take("error: "),
        hint: take("hint: "),
        modem: take("modem: "),
        next: take("next: "),
    }
}

/// What a user does with a hint before running the next command.
pub fn follow_advice(bench: &mut Bench, hint: &str) {
    if hint.contains("wait a few minutes") {
        bench.port.sleep_ms(5 * 60_000);
    }
    if hint.contains("plug it back in") {
        bench.port.reconnect();
        bench.port.sleep_ms(10_000);
    }
    if hint.contains("unplug") {
        bench.port.power_cycle();
        bench.port.sleep_ms(10_000);
    }
}

#[test]
fn a_next_line_splits_as_a_shell_splits_it() {
    let words = shell_words(r#"sqnsupgrade --port '/dev/tty (1)' run "a \"b\" \x.dup" c\ d"#);
    assert_eq!(
        words.unwrap(),
        [
            "sqnsupgrade",
            "--port",
            "/dev/tty (1)",
            "run",
            r#"a "b" \x.dup"#,
            "c d"
        ]
    );
    for line in [
        "sqnsupgrade run a.dup; rm x",
        "sqnsupgrade run a.dup > log",
        "sqnsupgrade run $(x) a.dup",
        "sqnsupgrade run 'a.dup",
        "sqnsupgrade run a.dup\\",
    ] {
        assert!(shell_words(line).is_err(), "{line}");
    }
    assert!(shell_words(r"sqnsupgrade run a\;b.dup").is_ok());
}
