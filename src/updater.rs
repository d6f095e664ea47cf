//! The procedures: detect, info, update (FFF, ON_THE_FLY, mTools, resume, recovery,
//! bootrom) and the preparation before mirror mode, as docs/PROTOCOL.md section 6 describes them.
//!
//! Every `run` first checks the files and decides a [`Plan`] from the modem's state using
//! only read-only commands (`AT`, `AT+SMOD?`, `ATI1`, `showver`). Only then does it send the
//! first command that changes the modem, so a bad input leaves the modem as it was.

use crate::at::{self, Ask, Reply, ReplyBuf, Status};
use crate::error::{Awaited, Error, FileProblem, FileRole};
use crate::hal::{Clock, Confirm, Event, Events, Hal, ImageSource, Link, Payload, Stage};
use crate::image::{self, FirmwareKind, Headed, FFF_LIMIT};
use crate::msg::{self, Arg, Msg};
use crate::state::State;
use crate::stp::{Session, SessionInfo, StpConfig, MAX_BLOCK_SIZE};
use crate::text::{contains, Text};
use crate::version::{parse_imei, Versions};
use crate::watch::{Deadline, Watched};
use heapless::Vec;

/// The modem's usual baud rate.
pub const FAST_BAUD: u32 = 921_600;
/// The rate of a modem in FFH (recovery) mode.
pub const RECOVERY_BAUD: u32 = 115_200;

/// FFF (store, then flash) or ON_THE_FLY (flash while streaming).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Store first (`AT+SMSTPU`, then `AT+SMUPGRADE`); files up to 4 MiB, application mode.
    Fff,
    /// Flash as it streams (`AT+SMSTPU="ON_THE_FLY"`), from upgrade mode.
    OnTheFly,
}

/// Which method the user wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MethodChoice {
    /// FFF for files up to 4 MiB in application mode, else ON_THE_FLY (the default).
    #[default]
    Auto,
    /// FFF only (error when impossible).
    Fff,
    /// ON_THE_FLY always (`load_fff=False`).
    OnTheFly,
}

/// Time limits, in milliseconds. The defaults are the field updater's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// One ordinary AT command.
    pub command_ms: u32,
    /// Waiting for the modem to answer again after a reset or while it works.
    pub wake_ms: u32,
    /// Waiting for updater.elf to load.
    pub updater_load_ms: u32,
    /// Waiting for `+SMUPGRADE: success`/`fail`.
    pub upgrade_ms: u32,
    /// Pause after a boot switch before talking to the modem.
    pub settle_ms: u32,
    /// Pause before the fallback after `AT+SMSWBOOT=…,1` answered ERROR.
    pub error_retry_ms: u32,
    /// Silence around `+++`.
    pub guard_ms: u32,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            command_ms: 3_000,
            wake_ms: 600_000,
            updater_load_ms: 600_000,
            upgrade_ms: 300_000,
            settle_ms: 3_000,
            error_retry_ms: 5_000,
            guard_ms: 1_150,
        }
    }
}

/// How an update runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Options {
    /// FFF or ON_THE_FLY.
    pub method: MethodChoice,
    /// The user says the modem is in upgrade mode (an interrupted update).
    pub resume: bool,
    /// Print the whole `showver` block instead of `ATI1`.
    pub verbose: bool,
    /// Flash a `.dup` even when it is shorter than its header announces.
    pub allow_truncated: bool,
    /// STP settings (block size, reply timeout, tries).
    pub stp: StpConfig,
    /// Time limits.
    pub timeouts: Timeouts,
}

/// What the modem told about itself.
#[derive(Debug, Clone, Default)]
pub struct ModemInfo {
    /// Its state, if it answered.
    pub state: Option<State>,
    /// The baud rate it answered at.
    pub baud: u32,
    /// Versions (application mode only).
    pub versions: Versions,
    /// IMEI (application mode only).
    pub imei: Option<Vec<u8, 16>>,
}

/// A finished update.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// State before the update.
    pub state_before: State,
    /// State after (application mode on success).
    pub state_after: Option<State>,
    /// Versions before (application mode only).
    pub before: Versions,
    /// Versions after.
    pub after: Versions,
    /// IMEI after.
    pub imei: Option<Vec<u8, 16>>,
    /// FFF or ON_THE_FLY for the firmware image.
    pub method: Method,
    /// Bytes of all files the modem acknowledged.
    pub bytes_sent: u32,
    /// How long it took.
    pub elapsed_ms: u64,
}

/// A failed operation: what went wrong, the modem's state now, and what was done.
/// [`crate::report`] turns it into the failure lines and the command that continues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failure {
    /// The error.
    pub error: Error,
    /// The modem's state now, as far as known (asked again after a failure part-way).
    pub state: Option<State>,
    /// True when a command that changes the modem had been sent.
    pub modem_changed: bool,
    /// The state when the operation started, when it was found.
    pub state_before: Option<State>,
    /// The method of the update, once decided.
    pub method: Option<Method>,
    /// The software build before, when read.
    pub build_before: Option<u32>,
    /// Bytes of the files the modem acknowledged.
    pub bytes_sent: u32,
    /// How long the operation ran, in milliseconds.
    pub elapsed_ms: u32,
}

impl Failure {
    /// The process was stopped at once (a second Ctrl-C): the modem may have been in
    /// any state, so it is unknown.
    pub fn stopped_at_once() -> Failure {
        Failure {
            modem_changed: true,
            ..Failure::untouched(Error::Cancelled)
        }
    }

    /// A failure before anything was sent to the modem.
    pub fn untouched(error: Error) -> Failure {
        Failure {
            error,
            state: None,
            modem_changed: false,
            state_before: None,
            method: None,
            build_before: None,
            bytes_sent: 0,
            elapsed_ms: 0,
        }
    }

    /// The file the error is about, if it is about one (the caller knows its path).
    pub fn file_role(&self) -> Option<FileRole> {
        match self.error {
            Error::File { role, .. } => Some(role),
            _ => None,
        }
    }
}

#[cfg(feature = "std")]
impl core::fmt::Display for Failure {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Display::fmt(&self.error, f)
    }
}

/// What `run` will do, decided before the modem is changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// Application mode: prepare, then FFF or ON_THE_FLY.
    Normal(Method),
    /// mTools mode: prepare, ON_THE_FLY without the boot switch.
    MTools,
    /// Upgrade mode: straight to ON_THE_FLY (resume).
    Resume,
    /// Recovery mode: load updater.elf, then ON_THE_FLY.
    Recovery,
    /// Bootloader 33080: bootrom package, switch to FFH, then recovery.
    Bootrom,
}

/// What [`Updater::check`] found: what `run` would do, decided without changing the modem.
#[derive(Debug, Clone)]
pub struct Survey {
    /// What the checks found out about the image.
    pub check: image::FirmwareCheck,
    /// The image's size.
    pub size: u32,
    /// The modem's state.
    pub state: State,
    /// Its versions (application mode).
    pub versions: Versions,
    /// What `run` would do.
    pub plan: Plan,
}

/// What [`Updater::ensure`] found: the modem's state and versions, and the index of the
/// image to use (`None`: the modem already runs the target build).
pub type Ensured = (State, Versions, Option<usize>);

/// The memory one call of the engine works in: the STP block buffer, the AT reply and a
/// line of text for messages. On the board it is static (nothing on the stack, nothing
/// on the heap); on a computer it may be boxed.
/// (In this order, the small fields first: on the ESP32 an offset past the first few
/// hundred bytes costs a literal load at every access.)
#[repr(C)]
pub struct Workspace {
    reply: ReplyBuf,
    text: Text<256>,
    block: [u8; MAX_BLOCK_SIZE],
}

impl Default for Workspace {
    fn default() -> Self {
        Self::new()
    }
}

impl Workspace {
    /// A fresh workspace (usable in a `static`).
    pub const fn new() -> Self {
        Workspace {
            reply: ReplyBuf::new(),
            text: Text::new(),
            block: [0; MAX_BLOCK_SIZE],
        }
    }
}

/// The engine: one modem link, its options and a workspace.
///
/// (In this order: the link and the workspace are used everywhere, and on the ESP32 an
/// offset of up to 60 bytes fits a 2-byte load.)
#[repr(C)]
pub struct Updater<'w, H: Hal> {
    hal: Watched<H>,
    ws: &'w mut Workspace,
    baud: u32,
    state: Option<State>,
    changed: bool,
    sent: u32,
    started: u32,
    state_before: Option<State>,
    method: Option<Method>,
    build_before: Option<u32>,
    opts: Options,
}

type Step<T> = Result<T, Error>;

/// What [`Updater::poll`] waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Poll {
    /// `+SMUPGRADE: success` (or `fail`).
    UpgradeResult,
    /// No `+SMUPGRADE: on-going`.
    NotFlashing,
    /// `+SMSWBOOT:` naming RECOVERY, FFH or FFF.
    BootMode,
}

/// What the updater says while the modem flashes.
const FLASHING_NOTE: Msg = Msg::WaitFlashing;

impl<'w, H: Hal> Updater<'w, H> {
    /// An updater over the platform `hal`, working in `ws`.
    pub fn new(hal: H, opts: Options, ws: &'w mut Workspace) -> Self {
        Updater {
            hal: Watched::new(hal),
            opts,
            ws,
            baud: FAST_BAUD,
            state: None,
            changed: false,
            sent: 0,
            started: 0,
            state_before: None,
            method: None,
            build_before: None,
        }
    }

    /// The platform, e.g. to finish its console output.
    pub fn hal_mut(&mut self) -> &mut H {
        &mut self.hal.inner
    }

    // ----- small helpers -------------------------------------------------------------

    /// Prints a sentence of the catalogue.
    fn say(&mut self, m: Msg) {
        self.say_args(m, &[]);
    }

    /// Prints a sentence of the catalogue with its arguments (composed in the workspace's
    /// text line).
    #[inline(never)]
    fn say_args(&mut self, m: Msg, args: &[Arg<'_>]) {
        self.ws.text.clear();
        msg::write(&mut self.ws.text, m, args);
        self.hal.event(&Event::Message(self.ws.text.as_bytes()));
    }

    fn stage(&mut self, stage: Stage) {
        self.hal.event(&Event::Stage(stage));
    }

    fn tick(&mut self) {
        self.hal.event(&Event::Tick);
    }

    fn ask(&mut self, command: &str, timeout_ms: u32, need_body: bool) -> Step<Reply> {
        let ask = Ask {
            timeout_ms,
            need_body,
            cancellable: true,
        };
        at::command(
            &mut self.hal,
            &mut self.ws.reply,
            &mut self.ws.text,
            command,
            ask,
        )
    }

    fn at(&mut self, command: &str, timeout_ms: u32) -> Step<Reply> {
        self.ask(command, timeout_ms, false)
    }

    /// A command whose reply has a body (`AT+SMOD?`): a late `OK` of an earlier command
    /// is not taken for it.
    fn at_body(&mut self, command: &str, timeout_ms: u32) -> Step<Reply> {
        self.ask(command, timeout_ms, true)
    }

    /// A command that changes the modem and must answer OK.
    fn must(&mut self, command: &'static str) -> Step<Reply> {
        self.changed = true;
        let reply = self.at(command, self.opts.timeouts.command_ms)?;
        match reply.status {
            Status::Ok => Ok(reply),
            Status::Error => Err(Error::AtError { command }),
            Status::Timeout => Err(Error::Timeout {
                waiting_for: Awaited::Command(command),
            }),
        }
    }

    /// A preparation command: ERROR is tolerated (not every mode knows every command),
    /// silence is not.
    #[inline(never)]
    fn prep(&mut self, command: &'static str) -> Step<()> {
        let b = command.as_bytes();
        if matches!(b.get(2), Some(b'+') | Some(b'^')) && !b.ends_with(b"?") {
            self.changed = true;
        }
        let t = self.opts.timeouts.command_ms;
        if self.at(command, t)?.status != Status::Timeout {
            return Ok(());
        }
        self.wake(t.saturating_mul(3), Msg::WaitWakeup)?;
        match self.at(command, t)?.status {
            Status::Timeout => Err(Error::Timeout {
                waiting_for: Awaited::Command(command),
            }),
            _ => Ok(()),
        }
    }

    fn set_baud(&mut self, baud: u32) -> Step<()> {
        if self.baud != baud {
            self.hal.set_baud(baud)?;
            self.baud = baud;
        }
        Ok(())
    }

    fn other_baud(&self) -> u32 {
        if self.baud == FAST_BAUD {
            RECOVERY_BAUD
        } else {
            FAST_BAUD
        }
    }

    /// `AT` until `OK`, for up to `limit_ms`, printing dots. After the first few silent
    /// tries it also tries the other baud rate (a reset may have changed the modem's).
    #[inline(never)]
    fn wake(&mut self, limit_ms: u32, what: Msg) -> Step<()> {
        let deadline = Deadline::after(&mut self.hal, limit_ms);
        self.hal.waiting_for(what);
        let mut tries = 0u32;
        loop {
            let reply = self.at("AT", 1_000)?;
            if reply.ok() {
                return Ok(());
            }
            if self.ws.reply.restarted_only() {
                continue; // it just restarted: ask again at once
            }
            tries += 1;
            if tries % 4 == 3 {
                let (here, there) = (self.baud, self.other_baud());
                self.set_baud(there)?;
                if self.at("AT", 1_000)?.ok() {
                    return Ok(());
                }
                self.set_baud(here)?;
            }
            self.tick();
            if deadline.passed(self.hal.now_ms()) {
                return Err(Error::Timeout {
                    waiting_for: Awaited::Wait(what),
                });
            }
            self.hal.sleep_ms(500);
        }
    }

    fn smod(&mut self) -> Step<Option<State>> {
        for _ in 0..3 {
            self.at_body("AT+SMOD?", self.opts.timeouts.command_ms)?;
            if let Some(state) = self.ws.reply.integer().and_then(State::from_smod) {
                return Ok(Some(state));
            }
        }
        Ok(None)
    }

    /// A failure after the modem was changed: asks the modem where it is now (read-only),
    /// so the user is told the real state and the command that continues.
    #[inline(never)]
    fn fail_after_change(&mut self, error: Error) -> Failure {
        let link_lost = matches!(
            error,
            Error::Link { .. }
                | Error::LinkGone
                | Error::MicroPythonPrompt
                | Error::StreamCount { link: true, .. }
        );
        if link_lost {
            // Whatever the modem did since, nothing can be asked: its state is unknown.
            self.state = None;
        } else if self.changed {
            // Asked even after a Ctrl-C (read-only commands, about 10 s at most): the
            // report must say where the modem really is.
            self.hal.hold_cancel = true;
            // A detection that fails leaves the state unknown, never the one before.
            self.state = self.find_state(false).unwrap_or(None);
            self.hal.hold_cancel = false;
        }
        self.fail(error)
    }

    fn fail(&mut self, error: Error) -> Failure {
        let now = self.hal.now_ms();
        Failure {
            error,
            state: self.state,
            modem_changed: self.changed,
            state_before: self.state_before,
            method: self.method,
            build_before: self.build_before,
            bytes_sent: self.sent,
            elapsed_ms: now.wrapping_sub(self.started),
        }
    }

    /// Forgets what the last operation found: a new one starts.
    fn begin(&mut self) {
        self.hal.restart();
        self.started = self.hal.now_ms();
        self.changed = false;
        self.sent = 0;
        self.state_before = None;
        self.method = None;
        self.build_before = None;
    }

    // ----- detection and information -----------------------------------------------

    /// Finds the modem's state: `AT` at 921600 and 115200 (recovery), `+++` only when plain
    /// `AT` gets nothing, then an STP RESET at each rate (a transfer left open). `None`
    /// when nothing answers.
    pub fn detect(&mut self) -> Step<Option<State>> {
        self.find_state(true)
    }

    /// [`Updater::detect`]; `end_session`: try the STP RESET too (not after a failure of
    /// this run: its own transfer was ended already).
    #[inline(never)]
    fn find_state(&mut self, end_session: bool) -> Step<Option<State>> {
        self.stage(Stage::Detect);
        self.hal.waiting_for(Msg::WaitWakeup);
        self.hal.set_baud(FAST_BAUD)?;
        self.baud = FAST_BAUD;
        // Both rates at once (recovery mode talks at 115200), then both again with time
        // for a reply up to 2 s late, then `+++` for a modem left in data mode.
        for wait in [500, 2_500] {
            for baud in [FAST_BAUD, RECOVERY_BAUD] {
                self.set_baud(baud)?;
                if self.knock(wait)? {
                    return self.found();
                }
            }
        }
        self.set_baud(FAST_BAUD)?;
        if self.leave_data_mode()? {
            return self.found();
        }
        // A modem whose host died in the middle of a transfer is still inside the STP
        // session, deaf to AT until a RESET frame (docs/PROTOCOL.md 4.6): the protocol's way out,
        // at both rates, before giving up.
        for baud in [FAST_BAUD, RECOVERY_BAUD]
            .into_iter()
            .filter(|_| end_session)
        {
            self.set_baud(baud)?;
            self.hal.event(&Event::Debug(
                b"no answer: trying an STP RESET (a transfer left open)",
            ));
            Session::new(self.opts.stp).abandon(&mut self.hal)?;
            if self.knock(2_500)? {
                self.changed = true;
                self.say(Msg::SaySessionEnded);
                return self.found();
            }
        }
        self.state = None;
        Ok(None)
    }

    fn found(&mut self) -> Step<Option<State>> {
        let state = self.smod()?;
        self.state = state;
        if self.baud == RECOVERY_BAUD && state != Some(State::Recovery) {
            self.say(Msg::SayOnly115200);
        }
        Ok(state)
    }

    /// One plain `AT`, waiting `wait_ms` for its `OK` (a late `OK` counts). A MicroPython
    /// prompt answering instead is an error of its own.
    fn knock(&mut self, wait_ms: u32) -> Step<bool> {
        if self.at("AT", wait_ms)?.ok() {
            return Ok(true);
        }
        if self.ws.reply.looks_like_micropython() {
            return Err(Error::MicroPythonPrompt);
        }
        Ok(false)
    }

    /// `+++` with silence around it, for a modem left in data (PPP) mode.
    #[inline(never)]
    fn leave_data_mode(&mut self) -> Step<bool> {
        self.hal
            .event(&Event::Debug(b"no answer: trying +++ (data mode)"));
        let guard = self.opts.timeouts.guard_ms;
        self.hal.discard_input()?;
        self.hal.sleep_ms(guard);
        self.hal.write_all(b"+++")?;
        self.hal.sleep_ms(guard);
        at::collect(&mut self.hal, &mut self.ws.reply, "+++", Ask::wait(1_000))?;
        // A modem that was not in data mode took `+++` as the start of a line: end it, so
        // that the `AT` below is a line of its own.
        self.hal.write_all(b"\r")?;
        self.knock(2_500)
    }

    /// The modem's state (`AT+SMOD?`); nothing answering is a failure
    /// ([`Error::NoResponse`]), so that scripts see it.
    #[inline(never)]
    pub fn state(&mut self) -> Result<State, Failure> {
        self.begin();
        match self.detect() {
            Ok(Some(state)) => Ok(state),
            Ok(None) => Err(self.fail(Error::NoResponse)),
            Err(e) => Err(self.fail(e)),
        }
    }

    /// `ATI1` (and the `showver` block when asked), parsed into `v`; with `print`, the
    /// lines are printed as they came.
    fn versions(&mut self, v: &mut Versions, showver: bool, print: bool) -> Step<()> {
        let t = self.opts.timeouts.command_ms;
        // One loop for both commands (one copy of the asking and printing on the board).
        for (command, block) in [("ATI1", false), ("AT!=\"showver\"", true)] {
            if block && !showver {
                break;
            }
            self.at(command, t)?;
            let lines = self.ws.reply.lines();
            if block {
                v.add_showver(lines);
            } else {
                v.add_ati1(lines);
            }
            // Printed: ATI1's reply alone, or else the showver block.
            if print && block == showver {
                self.print_reply();
            }
        }
        Ok(())
    }

    fn print_reply(&mut self) {
        for line in self.ws.reply.lines() {
            self.hal.event(&Event::Message(line));
        }
    }

    /// `AT+CGSN`, then the versions (see [`Updater::versions`]), into `v` and `imei` (in
    /// place: nothing large is moved).
    #[inline(never)]
    fn identity(
        &mut self,
        v: &mut Versions,
        imei: &mut Option<Vec<u8, 16>>,
        showver: bool,
        print: bool,
    ) -> Step<()> {
        let t = self.opts.timeouts.command_ms;
        self.at("AT+CGSN", t)?;
        *imei = parse_imei(self.ws.reply.lines());
        self.versions(v, showver, print)
    }

    fn say_imei(&mut self, imei: &Option<Vec<u8, 16>>) {
        if let Some(imei) = imei {
            self.say_args(Msg::SayImei, &[Arg::Text(imei)]);
        }
    }

    /// `info()`: the state, and in application mode the versions and the IMEI. Nothing
    /// answering is a failure ([`Error::NoResponse`]) after the familiar line.
    #[inline(never)]
    pub fn info(&mut self) -> Result<ModemInfo, Failure> {
        self.begin();
        match self.info_inner() {
            Ok(info) if info.state.is_none() => Err(self.fail(Error::NoResponse)),
            Ok(info) => Ok(info),
            Err(e) => Err(self.fail(e)),
        }
    }

    #[inline(never)]
    fn info_inner(&mut self) -> Step<ModemInfo> {
        let state = self.detect()?;
        let mut info = ModemInfo {
            state,
            baud: self.baud,
            ..ModemInfo::default()
        };
        let Some(state) = state else {
            self.say(Msg::InfoUnknown);
            return Ok(info);
        };
        self.say(state.info_line());
        if state == State::Application {
            self.at("AT", self.opts.timeouts.command_ms)?;
            self.identity(&mut info.versions, &mut info.imei, self.opts.verbose, true)?;
            self.say_imei(&info.imei);
        }
        Ok(info)
    }

    // ----- the update ---------------------------------------------------------------

    /// The whole update: checks, detection, plan, then the flow for the modem's state.
    /// The three files are sources of the same kind (files, or stream objects).
    #[inline(never)]
    pub fn run<I: ImageSource + ?Sized>(
        &mut self,
        firmware: &mut I,
        updater: Option<&mut I>,
        bootrom: Option<&mut I>,
    ) -> Result<Outcome, Failure> {
        self.begin();
        let started = self.started;
        self.stage(Stage::CheckFiles);
        let mut fw = Headed::unread(firmware);
        let mut up = updater.map(Headed::unread);
        let mut br = bootrom.map(Headed::unread);
        let check = open_files(&mut fw, up.as_mut(), br.as_mut(), self.opts.allow_truncated)
            .map_err(Failure::untouched)?;
        let mut result = self.run_checked(&mut fw, check, up.as_mut(), br.as_mut());
        if let Ok(outcome) = &mut result {
            outcome.elapsed_ms = u64::from(self.hal.now_ms().wrapping_sub(started));
        }
        result
    }

    /// The modem's state and, in application mode, its versions: read-only and quiet,
    /// what a caller needs to pick files (from a firmware package) before [`Updater::run`].
    pub fn identify(&mut self) -> Result<(State, Versions), Failure> {
        let mut versions = Versions::default();
        let state = self.identify_into(&mut versions)?;
        Ok((state, versions))
    }

    /// [`Updater::identify`], the versions written into `versions` (in place).
    #[inline(never)]
    fn identify_into(&mut self, versions: &mut Versions) -> Result<State, Failure> {
        self.begin();
        let state = match self.detect() {
            Ok(Some(state)) => state,
            Ok(None) => return Err(self.fail(Error::NoResponse)),
            Err(e) => return Err(self.fail(e)),
        };
        if state == State::Application {
            self.versions(versions, false, false)
                .map_err(|e| self.fail(e))?;
        }
        Ok(state)
    }

    /// What `ensure()` does before an update, read-only: the modem's state and build; when
    /// it already runs `target` (application mode), nothing more (`Ok(None)`); else the
    /// image to use among `names` (an upgdiff from the modem's build, else the full image,
    /// as for a package: [`crate::package::choose`]; a single name is used as it is), unless
    /// `tries` reached `max_tries` ([`Error::GaveUp`], with the image it would have used).
    #[inline(never)]
    pub fn ensure(
        &mut self,
        names: &[&[u8]],
        target: u32,
        tries: u32,
        max_tries: u32,
    ) -> Result<Ensured, (Failure, Option<usize>)> {
        let mut versions = Versions::default();
        let state = self.identify_into(&mut versions).map_err(|f| (f, None))?;
        let build = versions.software_build;
        if state == State::Application && build == Some(target) {
            self.say_args(Msg::SayUpToDate, &[Arg::Num(target)]);
            return Ok((state, versions, None));
        }
        let choice = match names {
            [_] => 0,
            _ => {
                crate::package::choose(names, state, &versions)
                    .map_err(|e| (self.fail(e), None))?
                    .firmware
            }
        };
        if tries >= max_tries {
            return Err((self.fail(Error::GaveUp { tries }), Some(choice)));
        }
        match build.filter(|_| state == State::Application) {
            Some(b) => self.say_args(Msg::SayEnsureUpdate, &[Arg::Num(b), Arg::Num(target)]),
            None => self.say_args(
                Msg::SayEnsureMode,
                &[Arg::Msg(state.name()), Arg::Num(target)],
            ),
        }
        Ok((state, versions, Some(choice)))
    }

    /// What `run` would do with these files on this modem: the same file checks, the
    /// same read-only detection and the same decision ([`Updater::survey`]), and nothing
    /// that changes the modem (a dry run).
    pub fn check<I: ImageSource + ?Sized>(
        &mut self,
        firmware: &mut I,
        updater: Option<&mut I>,
        bootrom: Option<&mut I>,
    ) -> Result<Survey, Failure> {
        self.begin();
        self.stage(Stage::CheckFiles);
        let mut fw = Headed::unread(firmware);
        let mut up = updater.map(Headed::unread);
        let mut br = bootrom.map(Headed::unread);
        let check = open_files(&mut fw, up.as_mut(), br.as_mut(), self.opts.allow_truncated)
            .map_err(Failure::untouched)?;
        let (have_updater, have_bootrom) = (up.is_some(), br.is_some());
        let size = fw.size();
        let mut versions = Versions::default();
        let (state, plan) = self.survey(check, size, have_updater, have_bootrom, &mut versions)?;
        Ok(Survey {
            check,
            size,
            state,
            versions,
            plan,
        })
    }

    #[inline(never)]
    fn run_checked<I: ImageSource + ?Sized>(
        &mut self,
        fw: &mut Headed<'_, I>,
        check: image::FirmwareCheck,
        up: Option<&mut Headed<'_, I>>,
        br: Option<&mut Headed<'_, I>>,
    ) -> Result<Outcome, Failure> {
        // Filled in place as the update goes.
        let mut o = Outcome {
            state_before: State::Application,
            state_after: None,
            before: Versions::default(),
            after: Versions::default(),
            imei: None,
            method: Method::OnTheFly,
            bytes_sent: 0,
            elapsed_ms: 0,
        };
        let (state, plan) =
            self.survey(check, fw.size(), up.is_some(), br.is_some(), &mut o.before)?;
        o.state_before = state;
        if let Plan::Normal(m) = plan {
            o.method = m;
        }
        self.method = Some(o.method);
        self.execute(plan, fw, up, br)
            .and_then(|()| self.closing_report(check.build, &mut o))
            .map_err(|e| self.fail_after_change(e))?;
        o.state_after = self.state;
        o.bytes_sent = self.sent;
        Ok(o)
    }

    /// Everything `run` decides before it changes the modem: the rules on the files that
    /// need no modem (an upgdiff is never combined with updater.elf, FFF takes at most
    /// 4 MiB), the warnings, the modem's state and versions (read-only), and the plan.
    #[inline(never)]
    fn survey(
        &mut self,
        check: image::FirmwareCheck,
        size: u32,
        have_updater: bool,
        have_bootrom: bool,
        versions: &mut Versions,
    ) -> Result<(State, Plan), Failure> {
        file_rules(check, size, have_updater, &self.opts).map_err(|e| self.fail(e))?;
        if check.length_mismatch {
            self.say(Msg::SayLengthWarning);
        }
        if size > FFF_LIMIT && self.opts.method == MethodChoice::Auto {
            self.say(Msg::SayTooBigForFff);
        }
        self.say(Msg::SayWakeup);
        let state = match self.detect() {
            Ok(Some(state)) => state,
            Ok(None) => return Err(self.fail(Error::NoResponse)),
            Err(e) => return Err(self.fail(e)),
        };
        self.state_before = Some(state);
        if state == State::Application {
            self.versions(versions, true, false)
                .map_err(|e| self.fail(e))?;
            self.build_before = versions.software_build;
        }
        let plan = self
            .plan(
                state,
                check.kind,
                size,
                versions,
                have_updater,
                have_bootrom,
            )
            .map_err(|e| self.fail(e))?;
        Ok((state, plan))
    }

    /// Decides the flow from the state and the files. Sends nothing that changes the modem.
    pub fn plan(
        &mut self,
        state: State,
        kind: FirmwareKind,
        size: u32,
        versions: &Versions,
        have_updater: bool,
        have_bootrom: bool,
    ) -> Step<Plan> {
        let input = |problem| Error::File {
            role: FileRole::Firmware,
            problem,
        };
        let is_diff = matches!(kind, FirmwareKind::Diff { .. });
        if state.needs_full_image() && is_diff {
            return Err(input(FileProblem::DiffNeedsFullImage));
        }
        if state != State::Application && self.opts.method == MethodChoice::Fff {
            return Err(Error::FffNeedsApplicationMode);
        }
        match state {
            State::Recovery if !have_updater => Err(Error::UpdaterNeeded),
            State::Recovery => Ok(Plan::Recovery),
            State::Upgrade => Ok(Plan::Resume),
            State::MTools | State::Updater => Ok(Plan::MTools),
            State::Application => {
                if let (FirmwareKind::Diff { from, .. }, Some(modem)) =
                    (kind, versions.software_build)
                {
                    if from != modem {
                        return Err(input(FileProblem::DiffFromMismatch { from, modem }));
                    }
                }
                if self.opts.resume {
                    self.say(Msg::SayNothingToResume);
                }
                if have_updater && versions.has_old_bootloader() {
                    return if have_bootrom {
                        Ok(Plan::Bootrom)
                    } else {
                        Err(Error::BootromNeeded)
                    };
                }
                if have_updater {
                    self.say(Msg::SayFfhNotNecessary);
                    self.say(Msg::SayNoUpdaterElf);
                }
                let fff = match self.opts.method {
                    MethodChoice::Fff | MethodChoice::Auto => true,
                    MethodChoice::OnTheFly => false,
                };
                Ok(Plan::Normal(if fff && size <= FFF_LIMIT {
                    Method::Fff
                } else {
                    Method::OnTheFly
                }))
            }
        }
    }

    #[inline(never)]
    fn execute<I: ImageSource + ?Sized>(
        &mut self,
        plan: Plan,
        fw: &mut Headed<'_, I>,
        up: Option<&mut Headed<'_, I>>,
        br: Option<&mut Headed<'_, I>>,
    ) -> Step<()> {
        // A flow that flashes as it streams checks the image's digest (when one was given)
        // before it changes anything; FFF checks it before the commit (`fff`).
        if plan != Plan::Normal(Method::Fff) {
            fw.confirm(Confirm::Ahead)?;
        }
        match plan {
            Plan::Normal(Method::Fff) => {
                self.prepare()?;
                self.fff(fw)
            }
            Plan::Normal(Method::OnTheFly) => {
                self.prepare()?;
                self.switch_to_upgrade()?;
                self.on_the_fly(fw)
            }
            Plan::MTools => {
                self.prepare()?;
                self.on_the_fly(fw)
            }
            Plan::Resume => {
                self.say(Msg::SayResume);
                self.on_the_fly(fw)
            }
            Plan::Recovery => {
                let up = up.ok_or(Error::UpdaterNeeded)?;
                self.load_updater_from_ffh(up)?;
                self.on_the_fly(fw)
            }
            Plan::Bootrom => {
                let br = br.ok_or(Error::BootromNeeded)?;
                let up = up.ok_or(Error::UpdaterNeeded)?;
                self.prepare()?;
                self.flash_bootrom(br)?;
                self.load_updater_from_ffh(up)?;
                self.on_the_fly(fw)
            }
        }
    }

    /// The preparation of a normal update (docs/PROTOCOL.md 6.3), up to radio off.
    #[inline(never)]
    fn prepare(&mut self) -> Step<()> {
        self.stage(Stage::Prepare);
        let wake = self.opts.timeouts.command_ms.saturating_mul(5);
        self.wake(wake, Msg::WaitWakeup)?;
        for command in ["AT+BIND=AT", "ATE0", "AT+SMLOG?", "AT+SMOD?"] {
            self.prep(command)?;
        }
        self.prep("AT+SQNSUPGRADENTF=\"started\"")?;
        self.wake(wake, Msg::WaitWakeup)?;
        self.prep("AT+SQNWL=\"sqndcc\",2")?;
        self.prep("AT+CFUN=4")
    }

    /// `AT+SMSWBOOT=m,1`; on ERROR wait, `AT+SMSWBOOT=m,0` and `AT^RESET`.
    #[inline(never)]
    fn switch_boot(&mut self, now: &'static str, later: &'static str) -> Step<()> {
        self.changed = true;
        let t = self.opts.timeouts.command_ms;
        let reply = self.at(now, t)?;
        match reply.status {
            Status::Ok => Ok(()),
            Status::Timeout => Err(Error::Timeout {
                waiting_for: Awaited::Command(now),
            }),
            Status::Error => {
                self.say_args(
                    Msg::SaySwbootFallback,
                    &[Arg::Text(now.as_bytes()), Arg::Text(later.as_bytes())],
                );
                self.hal.sleep_ms(self.opts.timeouts.error_retry_ms);
                if !self.at(later, t)?.ok() {
                    return Err(Error::AtError { command: now });
                }
                self.hal.write_all(b"AT^RESET\r\n")?;
                Ok(())
            }
        }
    }

    /// Waits for the modem to come back after a reset: `+SYSSTART` or the settle time,
    /// then `AT` until `OK`.
    fn after_reset(&mut self, what: Msg) -> Step<()> {
        self.await_restart()?;
        self.wake(self.opts.timeouts.wake_ms, what)
    }

    /// Waits for `+SYSSTART` (the end of a reset), at most the settle time.
    fn await_restart(&mut self) -> Step<()> {
        let settle = Ask::wait(self.opts.timeouts.settle_ms);
        at::collect(&mut self.hal, &mut self.ws.reply, "", settle)?;
        Ok(())
    }

    #[inline(never)]
    fn switch_to_upgrade(&mut self) -> Step<()> {
        self.stage(Stage::SwitchToUpgrade);
        self.say(Msg::SayEnteringUpgrade);
        self.switch_boot("AT+SMSWBOOT=3,1", "AT+SMSWBOOT=3,0")?;
        self.state = Some(State::Upgrade);
        self.after_reset(Msg::WaitUpgradeRestart)?;
        self.prep("AT+CFUN=4")?;
        self.prep("AT+SMLOG?")
    }

    /// Enters STP with `command`, then streams `image`.
    #[inline(never)]
    fn transfer<I: ImageSource + ?Sized>(
        &mut self,
        command: &'static str,
        image: &mut Headed<'_, I>,
        what: Payload,
    ) -> Step<SessionInfo> {
        self.stage(match what {
            Payload::Firmware => Stage::Transfer,
            Payload::Updater => Stage::LoadUpdater,
            Payload::Bootrom => Stage::Bootrom,
        });
        // Not cancellable: once the command is out the modem may be in STP, and only
        // the session below (or its RESET) brings it back.
        let held = core::mem::replace(&mut self.hal.hold_cancel, true);
        let entered = self.must(command);
        self.hal.hold_cancel = held;
        // A lost or garbled OK: the modem may be in STP all the same. A short probe
        // (RESET, SESSION_OPEN) tells; if it answers, the transfer goes on.
        let lost_ok = matches!(entered, Err(Error::Timeout { .. }));
        if !lost_ok {
            entered?;
        }
        let probe = StpConfig {
            reply_timeout_ms: 2_000,
            tries: 2,
            ..self.opts.stp
        };
        let mut session = Session::new(if lost_ok { probe } else { self.opts.stp });
        let info = match session.open(&mut self.hal) {
            Ok(info) => info,
            Err(e) => {
                // A session that may have begun is ended with RESET (docs/PROTOCOL.md 4.6),
                // so that the modem answers AT again.
                let _ = session.abandon(&mut self.hal);
                return Err(if lost_ok {
                    entered.err().unwrap_or(e)
                } else {
                    e
                });
            }
        };
        session.configure(self.opts.stp);
        let block = session.block_size(&info, self.ws.block.len());
        let total = image.size();
        self.say_args(
            Msg::SaySession,
            &[
                Arg::Num(u32::from(info.version)),
                Arg::Num(u32::from(info.max_transfer)),
            ],
        );
        self.hal.event(&Event::TransferStart { what, total });
        let result = session.send_image(&mut self.hal, image, &mut self.ws.block, block);
        let acked = session.acked();
        self.sent = self.sent.saturating_add(acked);
        if let Err(e) = result {
            let link_works = !matches!(
                e,
                Error::Link { .. }
                    | Error::LinkGone
                    | Error::StreamCount { link: true, .. }
                    | Error::RebootedDuringTransfer { .. }
            );
            if link_works {
                // An abandoned session leaves the modem deaf to AT until it gets a RESET
                // (docs/PROTOCOL.md 4.6): end it, so that it answers again in upgrade mode and
                // a plain re-run continues.
                self.say(Msg::SayEndingTransfer);
                let _ = session.abandon(&mut self.hal);
            }
            return Err(e);
        }
        session.close(&mut self.hal)?;
        self.hal.event(&Event::TransferEnd);
        if acked != total {
            return Err(Error::File {
                role: match what {
                    Payload::Firmware => FileRole::Firmware,
                    Payload::Updater => FileRole::Updater,
                    Payload::Bootrom => FileRole::Bootrom,
                },
                problem: FileProblem::Truncated {
                    expected: total,
                    got: acked,
                },
            });
        }
        Ok(info)
    }

    #[inline(never)]
    fn fff<I: ImageSource + ?Sized>(&mut self, fw: &mut Headed<'_, I>) -> Step<()> {
        self.say(Msg::SayStartingStp);
        self.transfer("AT+SMSTPU", fw, Payload::Firmware)?;
        // The image is stored, not committed: a digest that differs stops here, and the
        // modem stays in application mode at its build.
        fw.confirm(Confirm::Received)?;
        self.must("AT+SMUPGRADE")?;
        self.stage(Stage::Flashing);
        self.say(Msg::SayResetting);
        self.wait_upgrade_result()?;
        self.state = self.smod()?;
        if self.state != Some(State::Application) {
            return Err(Error::NotBackInApplication);
        }
        self.prep("AT+SQNSUPGRADENTF=\"success\"")
    }

    #[inline(never)]
    fn on_the_fly<I: ImageSource + ?Sized>(&mut self, fw: &mut Headed<'_, I>) -> Step<()> {
        // A modem still busy with an earlier image refuses a new transfer (read-only).
        self.poll(Poll::NotFlashing)?;
        self.say(Msg::SayStartingOnTheFly);
        self.transfer("AT+SMSTPU=\"ON_THE_FLY\"", fw, Payload::Firmware)?;
        self.say(Msg::SayDownloadDone);
        self.stage(Stage::Flashing);
        self.say(Msg::SayResetting);
        self.wait_upgrade_result()?;
        self.poll(Poll::BootMode)?;
        self.stage(Stage::Finish);
        self.switch_boot("AT+SMSWBOOT=1,1", "AT+SMSWBOOT=1,0")?;
        self.after_reset(Msg::WaitApplicationRestart)?;
        self.state = self.smod()?;
        if self.state != Some(State::Application) {
            // The switch did not take: select application boot, then reset (the fallback).
            self.say(Msg::SaySwitchingAgain);
            if !self
                .at("AT+SMSWBOOT=1,0", self.opts.timeouts.command_ms)?
                .ok()
            {
                return Err(Error::AtError {
                    command: "AT+SMSWBOOT=1,0",
                });
            }
            self.hal.write_all(b"AT^RESET\r\n")?;
            self.after_reset(Msg::WaitApplicationRestart)?;
            self.state = self.smod()?;
            if self.state != Some(State::Application) {
                return Err(Error::NotBackInApplication);
            }
        }
        self.prep("AT+SQNSUPGRADENTF=\"success\"")
    }

    /// `AT` until the modem answers, then `AT+SMUPGRADE?` until `success` or `fail`.
    #[inline(never)]
    fn wait_upgrade_result(&mut self) -> Step<()> {
        self.hal.sleep_ms(self.opts.timeouts.settle_ms.min(1_000));
        self.wake(self.opts.timeouts.wake_ms, Msg::WaitAfterTransfer)?;
        self.poll(Poll::UpgradeResult)
    }

    /// Asks `poll`'s command once a second (at once after a restart) until its answer
    /// settles it, saying every 10 s what it waits for.
    #[inline(never)]
    fn poll(&mut self, poll: Poll) -> Step<()> {
        let (command, answer, limit): (_, &[u8], _) = match poll {
            Poll::UpgradeResult | Poll::NotFlashing => (
                "AT+SMUPGRADE?",
                b"+SMUPGRADE",
                self.opts.timeouts.upgrade_ms,
            ),
            Poll::BootMode => ("AT+SMSWBOOT?", b"+SMSWBOOT", 30_000),
        };
        let deadline = Deadline::after(&mut self.hal, limit);
        self.hal.waiting_for(FLASHING_NOTE);
        loop {
            self.at_body(command, self.opts.timeouts.command_ms)?;
            let says = |w: &[u8]| {
                self.ws
                    .reply
                    .find(answer)
                    .is_some_and(|line| contains(line, w))
            };
            let done = match poll {
                Poll::UpgradeResult if says(b"fail") => return Err(Error::UpgradeFailed),
                Poll::UpgradeResult => says(b"success"),
                Poll::NotFlashing => !says(b"on-going"),
                Poll::BootMode => says(b"RECOVERY") || says(b"FFH") || says(b"FFF"),
            };
            if done {
                return Ok(());
            }
            self.tick();
            if deadline.passed(self.hal.now_ms()) {
                return Err(match poll {
                    Poll::BootMode => Error::UnexpectedReply { command },
                    _ => Error::UpgradeTimeout,
                });
            }
            if !self.ws.reply.restarted_only() {
                self.hal.sleep_ms(1_000);
            }
        }
    }

    /// Bootloader 33080: stream the bootrom package, then switch to FFH (recovery).
    #[inline(never)]
    fn flash_bootrom<I: ImageSource + ?Sized>(&mut self, br: &mut Headed<'_, I>) -> Step<()> {
        self.switch_to_upgrade()?;
        self.say(Msg::SayStartingStp);
        self.transfer("AT+SMSTPU=\"ON_THE_FLY\"", br, Payload::Bootrom)?;
        self.wake(self.opts.timeouts.wake_ms, Msg::WaitAfterBootrom)?;
        self.say(Msg::SayBootromDone);
        self.switch_boot("AT+SMSWBOOT=0,1", "AT+SMSWBOOT=0,0")?;
        self.state = Some(State::Recovery);
        self.set_baud(RECOVERY_BAUD)?;
        self.await_restart()
    }

    /// Recovery: AT auto-negotiation at 115200, `AT+IPR=921600`, `AT+STP` with updater.elf,
    /// then wait for the updater to load (the modem is then ready for ON_THE_FLY).
    #[inline(never)]
    fn load_updater_from_ffh<I: ImageSource + ?Sized>(
        &mut self,
        up: &mut Headed<'_, I>,
    ) -> Step<()> {
        self.stage(Stage::LoadUpdater);
        self.say(Msg::SayNegotiation);
        self.negotiate()?;
        if self.smod()? != Some(State::Recovery) {
            return Err(Error::UnexpectedReply {
                command: "AT+SMOD?",
            });
        }
        self.say(Msg::SayStartingStp);
        self.transfer("AT+STP", up, Payload::Updater)?;
        self.say(Msg::SayWaitingUpdater);
        self.hal.sleep_ms(self.opts.timeouts.settle_ms.min(1_000));
        self.wake(self.opts.timeouts.updater_load_ms, Msg::WaitUpdaterLoad)?;
        self.state = self.smod()?.or(Some(State::MTools));
        self.say(Msg::SayUpdaterLoaded);
        self.prep("AT+CFUN=4")?;
        self.prep("AT+SMLOG?")
    }

    /// `AT` until OK (10 tries, 1 s apart) at the modem's rate, then `AT+IPR=921600`.
    #[inline(never)]
    fn negotiate(&mut self) -> Step<()> {
        // `AT` until OK for about 10 s, trying the other rate too (what `wake` does).
        if let Err(e) = self.wake(10_000, Msg::WaitNegotiation) {
            self.say(Msg::SayNegotiationFailed);
            return Err(e);
        }
        if self.baud == FAST_BAUD {
            return Ok(());
        }
        self.changed = true;
        if !self
            .at("AT+IPR=921600", self.opts.timeouts.command_ms)?
            .ok()
        {
            self.say(Msg::SayKeeps115200);
            return Ok(());
        }
        self.set_baud(FAST_BAUD)?;
        self.hal.sleep_ms(100);
        self.wake(
            self.opts.timeouts.command_ms.saturating_mul(3),
            Msg::WaitAfterIpr,
        )
    }

    /// Success is said only now: the modem is back in application mode; it must also run
    /// the image's build when the image names one.
    /// The versions and IMEI go into `o`.
    fn closing_report(&mut self, expected: Option<u32>, o: &mut Outcome) -> Step<()> {
        if self.state != Some(State::Application) {
            return Err(Error::NotBackInApplication);
        }
        self.identity(&mut o.after, &mut o.imei, self.opts.verbose, false)?;
        if let (Some(expected), Some(got)) = (expected, o.after.software_build) {
            if expected != got {
                return Err(Error::WrongBuild { expected, got });
            }
        }
        self.say(Msg::SayCompleted);
        self.say(Msg::SayCurrentVersion);
        self.print_reply();
        self.say_imei(&o.imei);
        Ok(())
    }

    // ----- other entry points ----------------------------------------------------------

    /// `load(mfile)`: in recovery mode, load updater.elf (the modem goes to mTools mode).
    #[inline(never)]
    pub fn load<I: ImageSource + ?Sized>(&mut self, updater: &mut I) -> Result<State, Failure> {
        self.begin();
        let mut up = Headed::unread(updater);
        open_checked(&mut up, FileRole::Updater).map_err(Failure::untouched)?;
        let state = self.detect().map_err(|e| self.fail(e))?;
        match state {
            Some(State::Recovery) => {}
            Some(other) => {
                self.say(other.info_line());
                return Ok(other);
            }
            None => return Err(self.fail(Error::NoResponse)),
        }
        self.load_updater_from_ffh(&mut up)
            .map_err(|e| self.fail(e))?;
        Ok(self.state.unwrap_or(State::MTools))
    }

    /// What `uart()` does on the board before mirror mode: prepares the modem so that a
    /// computer can run the rest (`run(port, file)`), loading updater.elf when the modem is
    /// in recovery mode and one is given. Returns the state the computer will find.
    #[inline(never)]
    pub fn prepare_for_mirror<I: ImageSource + ?Sized>(
        &mut self,
        ffh_mode: bool,
        updater: Option<&mut I>,
    ) -> Result<State, Failure> {
        self.begin();
        self.say(Msg::SayPreparing);
        let mut up = updater.map(Headed::unread);
        if let Some(u) = up.as_mut() {
            open_checked(u, FileRole::Updater).map_err(Failure::untouched)?;
        }
        let state = match self.detect() {
            Ok(Some(s)) => s,
            Ok(None) => return Err(self.fail(Error::NoResponse)),
            Err(e) => return Err(self.fail(e)),
        };
        let step = match (state, up.as_mut()) {
            (State::Recovery, Some(up)) => self.load_updater_from_ffh(up),
            (State::Recovery, None) => {
                self.say(state.info_line());
                Ok(())
            }
            (State::Application, up) => {
                if ffh_mode || up.is_some() {
                    self.say(Msg::SayFfhNotNecessary);
                }
                if up.is_some() {
                    self.say(Msg::SayNoUpdaterElf);
                }
                self.say(Msg::SayWakeup);
                self.prepare()
            }
            _ => Ok(()),
        };
        step.map_err(|e| self.fail(e))?;
        Ok(self.state.unwrap_or(state))
    }
}

/// The rules on the files that need no modem: an upgdiff is never combined with
/// updater.elf, FFF takes at most 4 MiB.
fn file_rules(
    check: image::FirmwareCheck,
    size: u32,
    have_updater: bool,
    opts: &Options,
) -> Result<(), Error> {
    let input = |problem| Error::File {
        role: FileRole::Firmware,
        problem,
    };
    if matches!(check.kind, FirmwareKind::Diff { .. }) && have_updater {
        return Err(input(FileProblem::DiffWithUpdater));
    }
    if opts.method == MethodChoice::Fff && size > FFF_LIMIT {
        return Err(input(FileProblem::TooBigForFff { size }));
    }
    Ok(())
}

/// Every check `run` makes on its files before it asks the modem anything (for `check`
/// without a modem): each file's own checks and the rules between them.
pub fn check_files<I: ImageSource + ?Sized>(
    firmware: &mut I,
    updater: Option<&mut I>,
    bootrom: Option<&mut I>,
    opts: &Options,
) -> Result<image::FirmwareCheck, Failure> {
    let mut fw = Headed::unread(firmware);
    let mut up = updater.map(Headed::unread);
    let mut br = bootrom.map(Headed::unread);
    let check = open_files(&mut fw, up.as_mut(), br.as_mut(), opts.allow_truncated)
        .map_err(Failure::untouched)?;
    file_rules(check, fw.size(), up.is_some(), opts).map_err(Failure::untouched)?;
    Ok(check)
}

/// Reads the heads of the files and checks them, in order: the firmware image (its own
/// checks, then what it is), updater.elf, the bootrom package.
#[inline(never)]
fn open_files<I: ImageSource + ?Sized>(
    fw: &mut Headed<'_, I>,
    up: Option<&mut Headed<'_, I>>,
    br: Option<&mut Headed<'_, I>>,
    allow_truncated: bool,
) -> Result<image::FirmwareCheck, Error> {
    open_checked(fw, FileRole::Firmware)?;
    let check = image::check_firmware(fw.head(), fw.size(), fw.name(), allow_truncated)?;
    if let Some(u) = up {
        open_checked(u, FileRole::Updater)?;
    }
    if let Some(b) = br {
        open_checked(b, FileRole::Bootrom)?;
    }
    Ok(check)
}

/// Reads the head of a file and makes the checks of its role (the firmware image's are
/// [`image::check_firmware`]).
fn open_checked<I: ImageSource + ?Sized>(
    h: &mut Headed<'_, I>,
    role: FileRole,
) -> Result<(), Error> {
    let size = h.size();
    h.read_head(role)?;
    match role {
        FileRole::Firmware => Ok(()),
        FileRole::Updater => image::check_updater(h.head(), size),
        FileRole::Bootrom => image::check_bootrom(h.head(), size),
    }
}
