//! The procedures: detect, info, update (FFF, ON_THE_FLY, mTools, resume, recovery,
//! bootrom) and the preparation before mirror mode, as spec section 6 describes them.
//!
//! Every `run` first checks the files and decides a [`Plan`] from the modem's state using
//! only read-only commands (`AT`, `AT+SMOD?`, `ATI1`, `showver`). Only then does it send the
//! first command that changes the modem, so a bad input leaves the modem as it was.

use crate::at::{self, Reply, ReplyBuf, Status};
use crate::error::{Error, FileProblem, FileRole};
use crate::hal::{Deadline, Event, Hal, ImageSource, Payload, Stage};
use crate::image::{self, FirmwareKind, Headed, FFF_LIMIT};
use crate::state::State;
use crate::stp::{Session, SessionInfo, StpConfig, MAX_BLOCK_SIZE};
use crate::text::{as_str, contains, Sink, Text};
use crate::version::{parse_imei, Versions};
use heapless::String;

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
    pub imei: Option<String<16>>,
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
    pub imei: Option<String<16>>,
    /// FFF or ON_THE_FLY for the firmware image.
    pub method: Method,
    /// Bytes of all files the modem acknowledged.
    pub bytes_sent: u32,
    /// How long it took.
    pub elapsed_ms: u64,
}

/// What the user does next after a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// The modem was not changed: fix the input, then run the same command.
    FixInput,
    /// Run the same command again.
    RunAgain,
    /// Run again with the full image (the modem is in upgrade mode).
    RunFullImage,
    /// Run again with the full image and updater.elf (recovery mode).
    RunWithUpdater,
    /// Unplug the power first, then check the state and run again.
    PowerCycle,
}

/// A failed operation: what went wrong, the modem's state now, and what to do.
#[derive(Debug, Clone)]
pub struct Failure {
    /// The error.
    pub error: Error,
    /// The modem's state as far as known.
    pub state: Option<State>,
    /// True when a command that changes the modem had been sent.
    pub modem_changed: bool,
}

impl Failure {
    /// What the user should do next.
    pub fn next(&self) -> Next {
        if !self.modem_changed {
            return match self.error {
                Error::NoResponse | Error::Timeout { .. } => Next::PowerCycle,
                e if e.is_input_error() => Next::FixInput,
                _ => Next::RunAgain,
            };
        }
        match self.state {
            Some(State::Upgrade) | Some(State::MTools) | Some(State::Updater) => Next::RunFullImage,
            Some(State::Recovery) => Next::RunWithUpdater,
            Some(State::Application) => Next::RunAgain,
            None => Next::PowerCycle,
        }
    }
}

impl Failure {
    /// A failure before anything was sent to the modem.
    pub fn untouched(error: Error) -> Failure {
        Failure {
            error,
            state: None,
            modem_changed: false,
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

/// The memory one call of the engine works in: the STP block buffer, the AT reply and a
/// line of text for messages. On the board it is static (nothing on the stack, nothing
/// on the heap); on a computer it may be boxed.
pub struct Workspace {
    block: [u8; MAX_BLOCK_SIZE],
    reply: ReplyBuf,
    text: Text<256>,
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
            block: [0; MAX_BLOCK_SIZE],
            reply: ReplyBuf::new(),
            text: Text::new(),
        }
    }
}

/// The engine: one modem link, its options and a workspace.
pub struct Updater<'w, H: Hal> {
    hal: H,
    opts: Options,
    ws: &'w mut Workspace,
    baud: u32,
    state: Option<State>,
    changed: bool,
    sent: u32,
}

type Step<T> = Result<T, Error>;

impl<'w, H: Hal> Updater<'w, H> {
    /// An updater over the platform `hal`, working in `ws`.
    pub fn new(hal: H, opts: Options, ws: &'w mut Workspace) -> Self {
        Updater {
            hal,
            opts,
            ws,
            baud: FAST_BAUD,
            state: None,
            changed: false,
            sent: 0,
        }
    }

    /// The platform, e.g. to finish its console output.
    pub fn hal_mut(&mut self) -> &mut H {
        &mut self.hal
    }

    // ----- small helpers -------------------------------------------------------------

    fn say(&mut self, text: &str) {
        self.hal.event(&Event::Message(text));
    }

    /// Starts a message in the workspace's text line; [`Self::say_text`] prints it.
    fn compose(&mut self, start: &str) -> &mut Text<256> {
        self.ws.text.clear();
        self.ws.text.put(start);
        &mut self.ws.text
    }

    fn say_text(&mut self) {
        self.hal.event(&Event::Message(self.ws.text.as_str()));
    }

    fn stage(&mut self, stage: Stage) {
        self.hal.event(&Event::Stage(stage));
    }

    fn tick(&mut self) {
        self.hal.event(&Event::Tick);
    }

    fn at(&mut self, command: &str, timeout_ms: u32) -> Step<Reply> {
        at::command(
            &mut self.hal,
            &mut self.ws.reply,
            &mut self.ws.text,
            command,
            timeout_ms,
        )
    }

    /// A command that changes the modem and must answer OK.
    fn must(&mut self, command: &'static str) -> Step<Reply> {
        self.changed = true;
        let reply = self.at(command, self.opts.timeouts.command_ms)?;
        match reply.status {
            Status::Ok => Ok(reply),
            Status::Error => Err(Error::AtError { command }),
            Status::Timeout => Err(Error::Timeout {
                waiting_for: command,
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
        self.wake(t.saturating_mul(3), "AT")?;
        match self.at(command, t)?.status {
            Status::Timeout => Err(Error::Timeout {
                waiting_for: command,
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
    fn wake(&mut self, limit_ms: u32, what: &'static str) -> Step<()> {
        let deadline = Deadline::after(&mut self.hal, limit_ms);
        let mut tries = 0u32;
        loop {
            if self.at("AT", 1_000)?.ok() {
                return Ok(());
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
                return Err(Error::Timeout { waiting_for: what });
            }
            self.hal.sleep_ms(500);
        }
    }

    fn smod(&mut self) -> Step<Option<State>> {
        for _ in 0..2 {
            self.at("AT+SMOD?", self.opts.timeouts.command_ms)?;
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
        if self.changed && !matches!(error, Error::Cancelled | Error::Link) {
            if let Ok(state) = self.detect() {
                self.state = state;
            }
        }
        self.fail(error)
    }

    fn fail(&self, error: Error) -> Failure {
        Failure {
            error,
            state: self.state,
            modem_changed: self.changed,
        }
    }

    // ----- detection and information -----------------------------------------------

    /// Finds the modem's state: `AT` at 921600, `+++` only when plain `AT` gets nothing,
    /// then `AT` at 115200 (recovery). `None` when nothing answers.
    #[inline(never)]
    pub fn detect(&mut self) -> Step<Option<State>> {
        self.stage(Stage::Detect);
        self.hal.set_baud(FAST_BAUD)?;
        self.baud = FAST_BAUD;
        if self.knock(3)? || self.leave_data_mode()? {
            return self.found();
        }
        self.set_baud(RECOVERY_BAUD)?;
        if self.knock(3)? {
            return self.found();
        }
        self.set_baud(FAST_BAUD)?;
        self.state = None;
        Ok(None)
    }

    fn found(&mut self) -> Step<Option<State>> {
        let state = self.smod()?;
        self.state = state;
        if self.baud == RECOVERY_BAUD && state != Some(State::Recovery) {
            self.say("The modem answers at 115200 baud only; continuing at 115200 (slower).");
        }
        Ok(state)
    }

    /// Plain `AT`, `tries` times with growing waits.
    fn knock(&mut self, tries: u32) -> Step<bool> {
        for i in 1..=tries {
            if self.at("AT", 300 * i)?.ok() {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// `+++` with silence around it, for a modem left in data (PPP) mode.
    #[inline(never)]
    fn leave_data_mode(&mut self) -> Step<bool> {
        self.hal
            .event(&Event::Debug("no answer: trying +++ (data mode)"));
        let guard = self.opts.timeouts.guard_ms;
        self.hal.discard_input()?;
        self.hal.sleep_ms(guard);
        self.hal.write_all(b"+++")?;
        self.hal.sleep_ms(guard);
        at::collect(&mut self.hal, &mut self.ws.reply, "+++", 1_000)?;
        self.knock(2)
    }

    /// The modem's state (`AT+SMOD?`), `None` when it does not answer.
    pub fn state(&mut self) -> Result<Option<State>, Failure> {
        self.detect().map_err(|e| self.fail(e))
    }

    /// `ATI1` (and the `showver` block when asked), parsed into `v`; with `print`, the
    /// lines are printed as they came.
    fn versions(&mut self, v: &mut Versions, showver: bool, print: bool) -> Step<()> {
        let t = self.opts.timeouts.command_ms;
        self.at("ATI1", t)?;
        v.add_ati1(self.ws.reply.lines());
        if print && !showver {
            self.print_reply();
        }
        if showver {
            self.at("AT!=\"showver\"", t)?;
            v.add_showver(self.ws.reply.lines());
            if print {
                self.print_reply();
            }
        }
        Ok(())
    }

    fn print_reply(&mut self) {
        for line in self.ws.reply.lines() {
            self.hal.event(&Event::Message(as_str(line)));
        }
    }

    #[inline(never)]
    fn print_versions(&mut self, verbose: bool) -> Step<(Versions, Option<String<16>>)> {
        let t = self.opts.timeouts.command_ms;
        self.at("AT+CGSN", t)?;
        let imei = parse_imei(self.ws.reply.lines());
        let mut v = Versions::default();
        self.versions(&mut v, verbose, true)?;
        if let Some(imei) = &imei {
            self.compose("IMEI: ").put(imei);
            self.say_text();
        }
        Ok((v, imei))
    }

    /// `info()`: the state, and in application mode the versions and the IMEI.
    pub fn info(&mut self) -> Result<ModemInfo, Failure> {
        self.info_inner().map_err(|e| self.fail(e))
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
            self.say(crate::state::UNKNOWN_STATE_LINE);
            return Ok(info);
        };
        self.say(state.info_line());
        if state == State::Application {
            self.at("AT", self.opts.timeouts.command_ms)?;
            let (versions, imei) = self.print_versions(self.opts.verbose)?;
            info.versions = versions;
            info.imei = imei;
        }
        Ok(info)
    }

    // ----- the update ---------------------------------------------------------------

    /// The whole update: checks, detection, plan, then the flow for the modem's state.
    /// The three files are sources of the same kind (files, or stream objects).
    pub fn run<I: ImageSource + ?Sized>(
        &mut self,
        firmware: &mut I,
        updater: Option<&mut I>,
        bootrom: Option<&mut I>,
    ) -> Result<Outcome, Failure> {
        let started = self.hal.now_ms();
        self.changed = false;
        self.sent = 0;
        self.stage(Stage::CheckFiles);
        let mut fw = open_checked(firmware, FileRole::Firmware)?;
        let name = fw.name().as_bytes();
        let check =
            image::check_firmware(fw.head(), fw.size(), name).map_err(Failure::untouched)?;
        let mut up = match updater {
            Some(u) => Some(open_checked(u, FileRole::Updater)?),
            None => None,
        };
        let mut br = match bootrom {
            Some(b) => Some(open_checked(b, FileRole::Bootrom)?),
            None => None,
        };
        let mut result = self.run_checked(
            &mut fw,
            check.kind,
            check.length_mismatch,
            up.as_mut(),
            br.as_mut(),
        );
        if let Ok(outcome) = &mut result {
            outcome.elapsed_ms = u64::from(self.hal.now_ms().wrapping_sub(started));
        }
        result
    }

    #[inline(never)]
    fn run_checked<I: ImageSource + ?Sized>(
        &mut self,
        fw: &mut Headed<'_, I>,
        kind: FirmwareKind,
        length_mismatch: bool,
        up: Option<&mut Headed<'_, I>>,
        br: Option<&mut Headed<'_, I>>,
    ) -> Result<Outcome, Failure> {
        if length_mismatch {
            self.say(
                "Warning: the file's size differs from what its header says; it may be cut short.",
            );
        }
        let size = fw.size();
        let input = |problem| Error::File {
            role: FileRole::Firmware,
            problem,
        };
        if matches!(kind, FirmwareKind::Diff { .. }) && up.is_some() {
            return Err(self.fail(input(FileProblem::DiffWithUpdater)));
        }
        if self.opts.method == MethodChoice::Fff && size > FFF_LIMIT {
            return Err(self.fail(input(FileProblem::TooBigForFff { size })));
        }
        if size > FFF_LIMIT && self.opts.method == MethodChoice::Auto {
            self.say("Firmware file is too big to load via FFF method. Using ON_THE_FLY");
        }
        self.say("Attempting AT wakeup...");
        let state = match self.detect() {
            Ok(Some(state)) => state,
            Ok(None) => return Err(self.fail(Error::NoResponse)),
            Err(e) => return Err(self.fail(e)),
        };
        let mut before = Versions::default();
        if state == State::Application {
            self.versions(&mut before, true, false)
                .map_err(|e| self.fail(e))?;
        }
        let plan = self
            .plan(state, kind, size, &before, up.is_some(), br.is_some())
            .map_err(|e| self.fail(e))?;
        let method = match plan {
            Plan::Normal(m) => m,
            _ => Method::OnTheFly,
        };
        let done = self
            .execute(plan, fw, up, br)
            .and_then(|()| self.closing_report());
        let (after, imei) = done.map_err(|e| self.fail_after_change(e))?;
        Ok(Outcome {
            state_before: state,
            state_after: self.state,
            before,
            after,
            imei,
            method,
            bytes_sent: self.sent,
            elapsed_ms: 0,
        })
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
                    self.say("The modem is in application mode: nothing to resume, doing a normal update.");
                }
                if have_updater && versions.has_old_bootloader() {
                    return if have_bootrom {
                        Ok(Plan::Bootrom)
                    } else {
                        Err(Error::BootromNeeded)
                    };
                }
                if have_updater {
                    self.say("FFH mode is not necessary... ignoring!");
                    self.say("Do not specify updater.elf when updating!");
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
                self.say("The modem is in upgrade mode: sending the image again from the start.");
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

    /// The preparation of a normal update (spec section 6), up to radio off.
    #[inline(never)]
    fn prepare(&mut self) -> Step<()> {
        self.stage(Stage::Prepare);
        let wake = self.opts.timeouts.command_ms.saturating_mul(5);
        self.wake(wake, "AT wakeup")?;
        for command in ["AT+BIND=AT", "ATE0", "AT+SMLOG?", "AT+SMOD?"] {
            self.prep(command)?;
        }
        self.prep("AT+SQNSUPGRADENTF=\"started\"")?;
        self.wake(wake, "AT wakeup")?;
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
            Status::Timeout => Err(Error::Timeout { waiting_for: now }),
            Status::Error => {
                let text = self.compose(now);
                text.put(" returned ERROR, trying ");
                text.put(later);
                text.put(" and a reset");
                self.say_text();
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
    fn after_reset(&mut self, what: &'static str) -> Step<()> {
        at::wait_for(&mut self.hal, b"+SYSSTART", self.opts.timeouts.settle_ms)?;
        self.wake(self.opts.timeouts.wake_ms, what)
    }

    #[inline(never)]
    fn switch_to_upgrade(&mut self) -> Step<()> {
        self.stage(Stage::SwitchToUpgrade);
        self.say("Entering upgrade mode...");
        self.switch_boot("AT+SMSWBOOT=3,1", "AT+SMSWBOOT=3,0")?;
        self.state = Some(State::Upgrade);
        self.after_reset("the modem to restart in upgrade mode")?;
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
        self.must(command)?;
        let mut session = Session::new(self.opts.stp);
        let info = session.open(&mut self.hal)?;
        let block = session.block_size(&info, self.ws.block.len());
        let total = image.size();
        let text = self.compose("Session opened: version ");
        text.put_u32(u32::from(info.version));
        text.put(", max transfer ");
        text.put_u32(u32::from(info.max_transfer));
        text.put(" bytes");
        self.say_text();
        self.hal.event(&Event::TransferStart { what, total });
        let result = session.send_image(&mut self.hal, image, &mut self.ws.block, block);
        let acked = session.acked();
        self.sent = self.sent.saturating_add(acked);
        if let Err(e) = result {
            if matches!(
                e,
                Error::Cancelled | Error::ImageRead | Error::StreamCount { link: false, .. }
            ) {
                // The link still works: end the session so the modem leaves STP and
                // answers AT again (it stays in the mode it was in).
                let _ = session.close(&mut self.hal);
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
        self.say("Starting STP (DO NOT DISCONNECT POWER!!!)");
        self.transfer("AT+SMSTPU", fw, Payload::Firmware)?;
        self.must("AT+SMUPGRADE")?;
        self.stage(Stage::Flashing);
        self.say("Resetting (DO NOT DISCONNECT POWER!!!)");
        self.wait_upgrade_result()?;
        self.state = Some(State::Application);
        self.prep("AT+SQNSUPGRADENTF=\"success\"")
    }

    #[inline(never)]
    fn on_the_fly<I: ImageSource + ?Sized>(&mut self, fw: &mut Headed<'_, I>) -> Step<()> {
        self.wait_while_flashing()?;
        self.say("Starting STP ON_THE_FLY");
        self.transfer("AT+SMSTPU=\"ON_THE_FLY\"", fw, Payload::Firmware)?;
        self.say("Code download done, returning to user mode");
        self.stage(Stage::Flashing);
        self.say("Resetting (DO NOT DISCONNECT POWER!!!)");
        self.wait_upgrade_result()?;
        self.wait_boot_mode_known()?;
        self.stage(Stage::Finish);
        self.switch_boot("AT+SMSWBOOT=1,1", "AT+SMSWBOOT=1,0")?;
        self.after_reset("the modem to restart in application mode")?;
        self.state = self.smod()?;
        self.prep("AT+SQNSUPGRADENTF=\"success\"")
    }

    /// True when the last reply has a `+SMUPGRADE` line containing `word`.
    fn upgrade_says(&self, word: &[u8]) -> bool {
        self.ws
            .reply
            .find(b"+SMUPGRADE")
            .is_some_and(|line| contains(line, word))
    }

    /// `AT` until the modem answers, then `AT+SMUPGRADE?` until `success` or `fail`.
    #[inline(never)]
    fn wait_upgrade_result(&mut self) -> Step<()> {
        self.hal.sleep_ms(self.opts.timeouts.settle_ms.min(1_000));
        self.wake(self.opts.timeouts.wake_ms, "the modem after the transfer")?;
        let deadline = Deadline::after(&mut self.hal, self.opts.timeouts.upgrade_ms);
        loop {
            self.at("AT+SMUPGRADE?", self.opts.timeouts.command_ms)?;
            if self.upgrade_says(b"success") {
                return Ok(());
            }
            if self.upgrade_says(b"fail") {
                return Err(Error::UpgradeFailed);
            }
            self.tick();
            if deadline.passed(self.hal.now_ms()) {
                return Err(Error::UpgradeTimeout);
            }
            self.hal.sleep_ms(1_000);
        }
    }

    /// A modem still busy with an earlier image (`+SMUPGRADE: on-going`) refuses a new
    /// transfer: wait until it is done (read-only).
    #[inline(never)]
    fn wait_while_flashing(&mut self) -> Step<()> {
        let deadline = Deadline::after(&mut self.hal, self.opts.timeouts.upgrade_ms);
        loop {
            self.at("AT+SMUPGRADE?", self.opts.timeouts.command_ms)?;
            if !self.upgrade_says(b"on-going") {
                return Ok(());
            }
            if deadline.passed(self.hal.now_ms()) {
                return Err(Error::UpgradeTimeout);
            }
            self.tick();
            self.hal.sleep_ms(1_000);
        }
    }

    /// `AT+SMSWBOOT?` until it names RECOVERY, FFH or FFF.
    #[inline(never)]
    fn wait_boot_mode_known(&mut self) -> Step<()> {
        for _ in 0..30 {
            self.at("AT+SMSWBOOT?", self.opts.timeouts.command_ms)?;
            if let Some(line) = self.ws.reply.find(b"+SMSWBOOT") {
                if [&b"RECOVERY"[..], b"FFH", b"FFF"]
                    .iter()
                    .any(|w| contains(line, w))
                {
                    return Ok(());
                }
            }
            self.tick();
            self.hal.sleep_ms(1_000);
        }
        Err(Error::UnexpectedReply {
            command: "AT+SMSWBOOT?",
        })
    }

    /// Bootloader 33080: stream the bootrom package, then switch to FFH (recovery).
    #[inline(never)]
    fn flash_bootrom<I: ImageSource + ?Sized>(&mut self, br: &mut Headed<'_, I>) -> Step<()> {
        self.switch_to_upgrade()?;
        self.say("Starting STP (DO NOT DISCONNECT POWER!!!)");
        self.transfer("AT+SMSTPU=\"ON_THE_FLY\"", br, Payload::Bootrom)?;
        self.wake(self.opts.timeouts.wake_ms, "the modem after the bootrom")?;
        self.say("Bootrom updated successfully, switching to upgrade mode");
        self.switch_boot("AT+SMSWBOOT=0,1", "AT+SMSWBOOT=0,0")?;
        self.state = Some(State::Recovery);
        self.set_baud(RECOVERY_BAUD)?;
        at::wait_for(&mut self.hal, b"+SYSSTART", self.opts.timeouts.settle_ms)?;
        Ok(())
    }

    /// Recovery: AT auto-negotiation at 115200, `AT+IPR=921600`, `AT+STP` with updater.elf,
    /// then wait for the updater to load (the modem is then ready for ON_THE_FLY).
    #[inline(never)]
    fn load_updater_from_ffh<I: ImageSource + ?Sized>(
        &mut self,
        up: &mut Headed<'_, I>,
    ) -> Step<()> {
        self.stage(Stage::LoadUpdater);
        self.say("Attempting AT auto-negotiation...");
        self.negotiate()?;
        if self.smod()? != Some(State::Recovery) {
            return Err(Error::UnexpectedReply {
                command: "AT+SMOD?",
            });
        }
        self.say("Starting STP (DO NOT DISCONNECT POWER!!!)");
        self.transfer("AT+STP", up, Payload::Updater)?;
        self.say("Waiting for updater to load...");
        self.hal.sleep_ms(self.opts.timeouts.settle_ms.min(1_000));
        self.wake(self.opts.timeouts.updater_load_ms, "updater.elf to load")?;
        self.state = self.smod()?.or(Some(State::MTools));
        self.say("Upgrader loaded successfully, modem is in upgrade mode");
        self.prep("AT+CFUN=4")?;
        self.prep("AT+SMLOG?")
    }

    /// `AT` until OK (10 tries, 1 s apart) at the modem's rate, then `AT+IPR=921600`.
    #[inline(never)]
    fn negotiate(&mut self) -> Step<()> {
        let start_baud = self.baud;
        let mut answered = false;
        for i in 0..10 {
            if i == 5 {
                let other = self.other_baud();
                self.set_baud(other)?;
            }
            if self.at("AT", 1_000)?.ok() {
                answered = true;
                break;
            }
            self.tick();
        }
        if !answered {
            self.set_baud(start_baud)?;
            self.say("AT auto-negotiation failed! Exiting.");
            return Err(Error::Timeout {
                waiting_for: "AT auto-negotiation",
            });
        }
        if self.baud == FAST_BAUD {
            return Ok(());
        }
        self.changed = true;
        if !self
            .at("AT+IPR=921600", self.opts.timeouts.command_ms)?
            .ok()
        {
            self.say("The modem keeps 115200 baud; continuing at 115200 (slower).");
            return Ok(());
        }
        self.set_baud(FAST_BAUD)?;
        self.hal.sleep_ms(100);
        self.wake(
            self.opts.timeouts.command_ms.saturating_mul(3),
            "AT after AT+IPR=921600",
        )
    }

    fn closing_report(&mut self) -> Step<(Versions, Option<String<16>>)> {
        self.say("Upgrade completed!");
        self.say("Here's the current firmware version:");
        self.print_versions(self.opts.verbose)
    }

    // ----- other entry points ----------------------------------------------------------

    /// `load(mfile)`: in recovery mode, load updater.elf (the modem goes to mTools mode).
    pub fn load<I: ImageSource + ?Sized>(&mut self, updater: &mut I) -> Result<State, Failure> {
        self.changed = false;
        let mut up = open_checked(updater, FileRole::Updater)?;
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
    pub fn prepare_for_mirror<I: ImageSource + ?Sized>(
        &mut self,
        ffh_mode: bool,
        updater: Option<&mut I>,
    ) -> Result<State, Failure> {
        self.changed = false;
        self.say("Preparing modem for upgrade...");
        let mut up = match updater {
            Some(u) => Some(open_checked(u, FileRole::Updater)?),
            None => None,
        };
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
                    self.say("FFH mode is not necessary... ignoring!");
                }
                if up.is_some() {
                    self.say("Do not specify updater.elf when updating!");
                }
                self.say("Attempting AT wakeup...");
                self.prepare()
            }
            _ => Ok(()),
        };
        step.map_err(|e| self.fail(e))?;
        Ok(self.state.unwrap_or(state))
    }
}

fn open_checked<I: ImageSource + ?Sized>(
    src: &mut I,
    role: FileRole,
) -> Result<Headed<'_, I>, Failure> {
    let size = src.size();
    let headed = Headed::new(src, role).map_err(Failure::untouched)?;
    let check = match role {
        FileRole::Firmware => Ok(()),
        FileRole::Updater => image::check_updater(headed.head(), size),
        FileRole::Bootrom => image::check_bootrom(headed.head(), size),
    };
    check.map_err(Failure::untouched)?;
    Ok(headed)
}
