//! The `sqnsupgrade` command line (also what `pip install` puts on the PATH): update the
//! Sequans SQN3330 modem of a Pycom GPy, FiPy or G01 from a computer (the board in mirror
//! mode, or any serial port that reaches the modem), or try it against the built-in modem
//! simulator (`--port sim`).
//!
//! Everything it says about a failure (the four lines, the exit status, the command that
//! continues) comes from the engine's report (`sqnsupgrade::report`), and which files of a
//! package to use from `sqnsupgrade::package`; this module parses the arguments, finds and
//! opens the port and the files, and prints.

use crate::files;
use crate::port::{self, Port, Source, PORT_ENV};
use crate::progress::HostEvents;
use crate::record::{self, Lines};
use crate::{self as host, sentence, state_line, AnyImage, CtrlC, FileImage, StdClock, Terminal};
use clap::{Args, Parser, Subcommand};
use serde_json::Value as Json;
use sqnsupgrade::error::PortProblem;
use sqnsupgrade::hal::Confirm;
use sqnsupgrade::image::FirmwareKind;
use sqnsupgrade::msg::{Arg, Msg};
use sqnsupgrade::report::{self, Command, Frontend, Record, Request, UserOptions};
use sqnsupgrade::updater::{check_files, Survey, FAST_BAUD};
use sqnsupgrade::{Error, Failure, FileRole, Hal, ImageSource, Parts, Updater, Workspace};
use std::ffi::OsString;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ExitCode, Stdio};

#[derive(Parser)]
#[command(
    name = "sqnsupgrade",
    version,
    about = "Update the firmware of the Sequans SQN3330 LTE modem (Pycom GPy, FiPy, G01)",
    after_help = "The port: --port, else the environment variable SQNSUPGRADE_PORT, else the one Pycom board connected (sqnsupgrade list-ports shows them). --port sim uses the built-in modem simulator, so every command can be tried without a board.\n\nExit status: 0 success; 1 the modem failed (the output says its state and the command that continues); 2 a bad input or no usable port (the modem was not touched); 130 stopped with Ctrl-C, SIGTERM or SIGHUP (at the next safe point; a second one ends at once)."
)]
struct Cli {
    /// Serial port that reaches the modem (the board in mirror mode): /dev/ttyACM0, COM9,
    /// or `sim` for the built-in simulator. Default: SQNSUPGRADE_PORT, else the one Pycom
    /// board connected.
    #[arg(short, long, global = true, value_name = "PORT")]
    port: Option<String>,
    /// Print every AT command and reply.
    #[arg(long, global = true)]
    debug: bool,
    /// Print the whole SYSTEM VERSION block instead of the short versions.
    #[arg(long, global = true)]
    verbose: bool,
    /// Seconds to wait for each STP reply before resending (at least 1).
    #[arg(long, global = true, default_value_t = 90, value_name = "SECS")]
    reply_timeout: u32,
    /// Print one JSON object with the result record on standard output (everything else
    /// goes to standard error): for run, check, info and state.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Cmd,
}

/// The files and options of an update (`run`, `check`).
#[derive(Args)]
struct Update {
    /// The firmware image (.dup: a full image or an upgdiff), or the vendor's package
    /// (.zip): the file is then chosen from the modem's state and build.
    file: String,
    /// updater.elf, needed when the modem is in recovery mode (from a package: taken
    /// from it when needed).
    #[arg(long, value_name = "ELF")]
    updater: Option<String>,
    /// The bootrom package, needed for recovery on bootloader 33080.
    #[arg(long, value_name = "FILE")]
    bootrom: Option<String>,
    /// Store the image first, then flash it (files up to 4 MiB).
    #[arg(long)]
    fff: bool,
    /// Flash while streaming (the only way for files over 4 MiB).
    #[arg(long)]
    on_the_fly: bool,
    /// STP block size in bytes (16 to 8176), or "max" for the session's max transfer − 16.
    #[arg(long, value_name = "N|max", default_value = "2016")]
    block_size: String,
    /// Flash a .dup even when it is shorter than its header announces (normally refused:
    /// such a file is almost always an interrupted copy).
    #[arg(long)]
    allow_truncated: bool,
    /// The SHA-256 of FILE (64 hex digits, as sha256sum prints it): an image with another
    /// digest is refused before anything changes the modem (FFF: after the transfer,
    /// before the modem commits it). For a package (.zip), the package file's SHA-256,
    /// checked before the modem is asked anything.
    #[arg(long, value_name = "HEX")]
    sha256: Option<String>,
}

#[derive(Subcommand)]
enum Cmd {
    #[command(flatten)]
    Modem(Op),
    /// List the serial ports of this computer; Pycom boards are marked.
    ListPorts,
    /// Print the completion script of SHELL (bash, zsh, fish, powershell, elvish): e.g.
    /// `sqnsupgrade completions bash > ~/.local/share/bash-completion/completions/sqnsupgrade`.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// The commands that ask a modem (`check` also works on the files alone).
#[derive(Subcommand)]
enum Op {
    /// Print the modem's state, versions and IMEI.
    Info,
    /// Print the modem's state number and name.
    State,
    /// Update the modem with FILE (a .dup, or the vendor's .zip package).
    Run {
        #[command(flatten)]
        update: Update,
        /// The modem is in upgrade mode after an interrupted update: send the image again.
        #[arg(long)]
        resume: bool,
    },
    /// What `run` would do: every file check and, with a modem, its state and the plan;
    /// nothing that changes the modem is sent.
    Check {
        #[command(flatten)]
        update: Update,
    },
    /// Load updater.elf into a modem in recovery mode (it goes to mTools mode).
    Load {
        /// updater.elf
        updater: String,
    },
}

/// The built-in simulator (`--port sim`).
struct BuiltinSim {
    child: Child,
    pty: String,
    record: String,
}

impl BuiltinSim {
    fn start() -> Result<BuiltinSim, String> {
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        let sim: PathBuf = exe.with_file_name("sqnsim");
        let mut child = std::process::Command::new(&sim)
            .args(["--exit-after-ms", "3600000"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| {
                let (sim, e) = (sim.display().to_string(), e.to_string());
                sentence(
                    Msg::ErrSimulator,
                    &[Arg::Text(sim.as_bytes()), Arg::Text(e.as_bytes())],
                )
            })?;
        let stdout = child.stdout.take().ok_or("simulator has no stdout")?;
        let mut first = String::new();
        BufReader::new(stdout)
            .read_line(&mut first)
            .map_err(|e| e.to_string())?;
        let v: serde_json::Value =
            serde_json::from_str(&first).map_err(|e| format!("simulator said {first:?}: {e}"))?;
        let field = |k: &str| v[k].as_str().map(str::to_string).ok_or(format!("no {k}"));
        Ok(BuiltinSim {
            pty: field("pty")?,
            record: field("record")?,
            child,
        })
    }

    /// Stops the simulator; its record folder (the log and a copy of every image it
    /// received) is removed unless `keep`.
    fn stop(mut self, keep: bool) {
        // SIGTERM: the simulator writes its record and exits.
        #[cfg(unix)]
        // SAFETY: plain kill(2) on our own child.
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM)
        };
        #[cfg(not(unix))]
        let _ = self.child.kill();
        let _ = self.child.wait();
        if !keep {
            let _ = std::fs::remove_dir_all(&self.record);
        }
    }

    /// Compares the last image the simulator received with `expected`.
    fn verify(&self, expected: &[u8]) -> Option<bool> {
        let log = std::fs::read_to_string(format!("{}/log.json", self.record)).ok()?;
        let v: serde_json::Value = serde_json::from_str(&log).ok()?;
        let last = v["transfers"].as_array()?.last()?;
        let got = std::fs::read(last["file"].as_str()?).ok()?;
        Some(got == expected && v["violations"].as_array().is_some_and(|a| a.is_empty()))
    }
}

/// The request as the user typed it: the engine checks it and words every failure.
fn request<'a>(cli: &'a Cli, op: &'a Op, program: &'a str) -> Request<'a> {
    let command = match op {
        Op::Info => Command::Info,
        Op::State => Command::State,
        Op::Run { .. } => Command::Run,
        Op::Check { .. } => Command::Check,
        Op::Load { .. } => Command::Load,
    };
    let mut req = Request {
        program: program.as_bytes(),
        port: cli.port.as_deref().map(str::as_bytes),
        options: UserOptions {
            verbose: cli.verbose,
            reply_timeout_s: cli.reply_timeout,
            ..UserOptions::default()
        },
        ..Request::new(command, Frontend::Shell)
    };
    let update = match op {
        Op::Run { update, resume } => {
            req.options.resume = *resume;
            Some(update)
        }
        Op::Check { update } => Some(update),
        Op::Load { updater } => {
            req.updater = Some(updater.as_bytes());
            None
        }
        Op::Info | Op::State => None,
    };
    if let Some(u) = update {
        req.firmware = Some(u.file.as_bytes());
        req.updater = u.updater.as_deref().map(str::as_bytes);
        req.bootrom = u.bootrom.as_deref().map(str::as_bytes);
        req.options.fff = u.fff;
        req.options.on_the_fly = u.on_the_fly;
        req.options.block_size = if u.block_size == "max" {
            None
        } else {
            // Not a number: 0, which the engine refuses with the range.
            Some(u.block_size.parse().unwrap_or(0))
        };
        req.options.allow_truncated = u.allow_truncated;
        req.sha256 = u.sha256.as_deref().map(str::as_bytes);
    }
    req
}

/// Where the human output goes: standard output, or standard error with `--json`.
struct Say {
    out: Terminal,
}

impl Say {
    fn line(&self, text: &str) {
        let mut out = self.out;
        sqnsupgrade::console::TextOut::text(&mut out, text.as_bytes());
        sqnsupgrade::console::TextOut::text(&mut out, b"\n");
    }

    /// Sentence `m` of the catalogue as a line.
    fn say(&self, m: Msg, args: &[Arg<'_>]) {
        sqnsupgrade::console::line(&mut self.out.clone(), m, args);
    }
}

/// How a command ended, for the exit status, the summary and `--json`.
enum Ended {
    /// Success: the record, the summary line, the extra JSON fields.
    Ok(Record, String, Vec<(&'static str, Json)>),
    /// A failure.
    Failed(Failure),
    /// The built-in simulator did not receive the file (a broken build, not a modem).
    SimulatorMismatch(String),
}

/// Prints the failure lines (and the JSON record) and returns the exit status.
fn report_failure(f: &Failure, req: &Request<'_>, json: bool) -> u8 {
    let lines = Lines::of(f, req);
    eprint!("{}", lines.text());
    if json {
        let record = Record::from_failure(req.command, f);
        println!(
            "{}",
            record::to_json(&record::fields(&record, Some(&lines)))
        );
    }
    report::failure_status(f)
}

/// Runs the command line `args` (the program's name first) and returns the exit status.
pub fn main(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    ExitCode::from(exit_status(args))
}

/// Runs the command line `args` (the program's name first) and returns the exit status as
/// a number (0, 1, 2 or 130: `report::status`).
pub fn exit_status(args: impl IntoIterator<Item = OsString>) -> u8 {
    let args: Vec<OsString> = args.into_iter().collect();
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                report::status::BAD_INPUT
            } else {
                report::status::OK
            };
        }
    };
    host::install_ctrl_c();
    let program = args
        .first()
        .map(|a| a.to_string_lossy().into_owned())
        .unwrap_or_else(|| "sqnsupgrade".into());
    let op = match &cli.command {
        Cmd::Modem(op) => op,
        Cmd::ListPorts => return list_ports(),
        Cmd::Completions { shell } => {
            use clap::CommandFactory;
            use std::io::Write;
            // Written whole afterwards: clap_complete panics on a closed pipe (`| head`).
            let mut script = Vec::new();
            clap_complete::generate(*shell, &mut Cli::command(), "sqnsupgrade", &mut script);
            let _ = std::io::stdout().write_all(&script);
            return report::status::OK;
        }
    };
    let say = Say {
        out: Terminal { stderr: cli.json },
    };
    if cli.port.as_deref() == Some("sim") {
        return with_simulator(&cli, op, &program, &say);
    }
    let environment = std::env::var(PORT_ENV).ok();
    let found = if cli.port.is_none() && environment.as_deref().is_none_or(str::is_empty) {
        port::list()
    } else {
        Vec::new()
    };
    let (name, source) = match port::choose(cli.port.as_deref(), environment.as_deref(), &found) {
        Ok(chosen) => chosen,
        // `check` without a modem still checks the files.
        Err(Error::Port(PortProblem::NoneFound)) if matches!(op, Op::Check { .. }) => {
            return run_command(&cli, op, &program, None, None, &say);
        }
        Err(e) => {
            let req = request(&cli, op, &program);
            if !found.is_empty() {
                eprintln!("{}", sentence(Msg::PortsHeading, &[]));
                for f in &found {
                    eprintln!("  {}", f.line());
                }
            }
            return report_failure(&Failure::untouched(e), &req, cli.json);
        }
    };
    let port = Arg::Text(name.as_bytes());
    match source {
        Source::Option => {}
        Source::Environment => say.say(Msg::SayPortEnv, &[port, Arg::Text(PORT_ENV.as_bytes())]),
        Source::Detected(board) => say.say(Msg::SayPortBoard, &[port, Arg::Text(board.as_bytes())]),
    }
    run_command(&cli, op, &program, Some(&name), None, &say)
}

/// `list-ports`: every serial port, Pycom boards marked.
fn list_ports() -> u8 {
    let found = port::list();
    if found.is_empty() {
        println!("{}", sentence(Msg::PortsNone, &[]));
    }
    for f in &found {
        println!("{}", f.line());
    }
    let boards = found.iter().filter(|f| f.board().is_some()).count();
    let summary = match boards {
        0 => sentence(Msg::PortsNoBoard, &[]),
        1 => sentence(Msg::PortsOneBoard, &[]),
        n => sentence(
            Msg::PortsBoards,
            &[
                Arg::Num(u32::try_from(n).unwrap_or(u32::MAX)),
                Arg::Msg(Msg::HintSeveralBoards),
            ],
        ),
    };
    println!("{summary}");
    report::status::OK
}

/// `--port sim`: the built-in simulator (Linux and macOS).
fn with_simulator(cli: &Cli, op: &Op, program: &str, say: &Say) -> u8 {
    match BuiltinSim::start() {
        Ok(sim) => {
            let (pty, record) = (
                Arg::Text(sim.pty.as_bytes()),
                Arg::Text(sim.record.as_bytes()),
            );
            if cli.debug {
                say.say(Msg::SimUsingKept, &[pty, record]);
            } else {
                say.say(Msg::SimUsing, &[pty]);
            }
            let pty = sim.pty.clone();
            let record = sim.record.clone();
            let code = run_command(cli, op, program, Some(&pty), Some(&sim), say);
            // Kept to look into when the simulated modem failed or the update was stopped
            // (not for a refused input: the modem was not asked).
            let failed = [report::status::MODEM_FAILURE, report::status::CANCELLED].contains(&code);
            sim.stop(cli.debug || failed);
            if failed && !cli.debug {
                say.say(Msg::SimKept, &[Arg::Text(record.as_bytes())]);
            }
            code
        }
        Err(e) => {
            eprintln!("error: {e}");
            eprintln!("hint: {}", sentence(Msg::HintSimulator, &[]));
            report::status::BAD_INPUT
        }
    }
}

fn run_command(
    cli: &Cli,
    op: &Op,
    program: &str,
    port: Option<&str>,
    sim: Option<&BuiltinSim>,
    say: &Say,
) -> u8 {
    let req = request(cli, op, program);
    // A second Ctrl-C ends the process at once: the failure lines for a modem in an
    // unknown state are ready before anything starts.
    let mut second = String::from("\n");
    report::write_failure(&Failure::stopped_at_once(), &req, &mut second);
    host::at_second_ctrl_c(second);
    let options = match req.options.check() {
        Ok(o) => o,
        Err(e) => return report_failure(&Failure::untouched(e), &req, cli.json),
    };
    let sha256 = match req.sha256.map(report::sha256_digest).transpose() {
        Ok(d) => d,
        Err(e) => return report_failure(&Failure::untouched(e), &req, cli.json),
    };
    if matches!(op, Op::Run { .. } | Op::Load { .. }) {
        sqnsupgrade::console::welcome(&mut say.out.clone());
    }
    let Some(port) = port else {
        // `check` without a modem: the files only.
        let Op::Check { update } = op else {
            return report_failure(
                &Failure::untouched(Error::Port(PortProblem::NoneFound)),
                &req,
                cli.json,
            );
        };
        return finish(
            check_without_modem(update, &options, sha256, say),
            &req,
            cli,
            say,
        );
    };
    let mut link = match Port::open(port, FAST_BAUD) {
        Ok(p) => p,
        Err(e) => return report_failure(&Failure::untouched(e), &req, cli.json),
    };
    let mut console = HostEvents::new(cli.debug, say.out);
    let hal = Parts {
        link: &mut link,
        clock: StdClock::default(),
        events: &mut console,
        cancel: CtrlC,
    };
    let mut ws = Box::new(Workspace::new());
    let mut updater = Updater::new(hal, options, &mut ws);
    let ended = match op {
        Op::State => match updater.state() {
            Ok(s) => Ended::Ok(
                Record::from_state(Command::State, Some(s)),
                state_line(Some(s)),
                Vec::new(),
            ),
            Err(f) => Ended::Failed(f),
        },
        Op::Info => match updater.info() {
            Ok(info) => {
                let mut r = Record::from_state(Command::Info, info.state);
                r.take_versions(&info.versions, info.imei.as_deref());
                Ended::Ok(r, String::new(), Vec::new())
            }
            Err(f) => Ended::Failed(f),
        },
        Op::Load { updater: path } => match FileImage::open(path, FileRole::Updater)
            .map_err(Failure::untouched)
            .and_then(|mut f| updater.load(&mut f))
        {
            Ok(s) => Ended::Ok(
                Record::from_state(Command::Load, Some(s)),
                sentence(
                    Msg::SayModemState,
                    &[Arg::Text(state_line(Some(s)).as_bytes())],
                ),
                Vec::new(),
            ),
            Err(f) => Ended::Failed(f),
        },
        Op::Run { update, .. } => run_update(&mut updater, update, sha256, sim, say),
        Op::Check { update } => check_with_modem(&mut updater, update, sha256),
    };
    console.close_line();
    finish(ended, &req, cli, say)
}

/// Prints how the command ended; returns the exit status.
fn finish(ended: Ended, req: &Request<'_>, cli: &Cli, say: &Say) -> u8 {
    match ended {
        Ended::Ok(record, summary, extra) => {
            if !summary.is_empty() {
                say.line(&summary);
            }
            if cli.json {
                let mut fields = record::fields(&record, None);
                fields.extend(extra);
                println!("{}", record::to_json(&fields));
            }
            report::status::OK
        }
        Ended::Failed(f) => report_failure(&f, req, cli.json),
        Ended::SimulatorMismatch(text) => {
            eprintln!("{text}");
            report::status::MODEM_FAILURE
        }
    }
}

/// The files of `update`: a .dup from disk, or those its package's choice picks.
fn prepare<H: Hal>(
    updater: &mut Updater<'_, H>,
    update: &Update,
    sha256: Option<[u8; 32]>,
) -> Result<files::Files, Failure> {
    files::prepare(
        updater,
        &update.file,
        update.updater.as_deref(),
        update.bootrom.as_deref(),
        sha256,
    )
}

/// `run`: the files (a package's chosen for the modem), then the update.
fn run_update<H: Hal>(
    updater: &mut Updater<'_, H>,
    update: &Update,
    sha256: Option<[u8; 32]>,
    sim: Option<&BuiltinSim>,
    say: &Say,
) -> Ended {
    let mut files = match prepare(updater, update, sha256) {
        Ok(f) => f,
        Err(f) => return Ended::Failed(f),
    };
    let expected = sim.map(|_| image_bytes(&update.file, &files.firmware));
    match updater.run(
        &mut files.firmware,
        files.updater.as_mut(),
        files.bootrom.as_mut(),
    ) {
        Ok(outcome) => {
            let mut summary = host::done_line(&outcome);
            if let (Some(sim), Some(Some(expected))) = (sim, expected) {
                match sim.verify(&expected) {
                    Some(true) => {
                        summary.push('\n');
                        summary.push_str(&sentence(Msg::SimIdentical, &[]));
                    }
                    _ => {
                        say.line(&summary);
                        return Ended::SimulatorMismatch(sentence(
                            Msg::SimDiffers,
                            &[Arg::Text(sim.record.as_bytes())],
                        ));
                    }
                }
            }
            Ended::Ok(Record::from_outcome(&outcome), summary, Vec::new())
        }
        Err(f) => Ended::Failed(f),
    }
}

/// The bytes the simulator must have received: the file, or the package's chosen file.
fn image_bytes(path: &str, image: &AnyImage) -> Option<Vec<u8>> {
    match image {
        AnyImage::Mem { data, .. } => Some(data.clone()),
        AnyImage::File(_) => std::fs::read(path).ok(),
    }
}

/// `check` with a modem: its state (read-only), a package's choice, the checks and the plan.
fn check_with_modem<H: Hal>(
    updater: &mut Updater<'_, H>,
    update: &Update,
    sha256: Option<[u8; 32]>,
) -> Ended {
    let mut files = match prepare(updater, update, sha256) {
        Ok(f) => f,
        Err(f) => return Ended::Failed(f),
    };
    let name = String::from_utf8_lossy(files.firmware.name()).into_owned();
    let name = if name.is_empty() {
        update.file.clone()
    } else {
        name
    };
    match updater.check(
        &mut files.firmware,
        files.updater.as_mut(),
        files.bootrom.as_mut(),
    ) {
        Ok(survey) => {
            if let Err(f) = confirm_sha256(&mut files.firmware, sha256) {
                return Ended::Failed(f);
            }
            let mut lines: Vec<String> = Vec::new();
            say_files(
                &name,
                &survey.check,
                survey.size,
                files.updater.as_ref(),
                &mut |l| lines.push(l.to_string()),
            );
            if sha256.is_some() {
                lines.push(sha256_line(&update.file));
            }
            let mut plan = String::new();
            sqnsupgrade::msg::write(
                &mut plan,
                sqnsupgrade::msg::Msg::CheckPlan,
                &[
                    sqnsupgrade::msg::Arg::Msg(survey.state.name()),
                    sqnsupgrade::msg::Arg::Msg(record::plan_msg(survey.plan)),
                ],
            );
            lines.push(plan);
            lines.push(untouched());
            for l in &lines {
                files::message(updater, l);
            }
            Ended::Ok(survey_record(&survey), String::new(), plan_fields(&survey))
        }
        Err(f) => Ended::Failed(f),
    }
}

/// `check` without a modem: the files only (each image of a package).
fn check_without_modem(
    update: &Update,
    options: &sqnsupgrade::Options,
    sha256: Option<[u8; 32]>,
    say: &Say,
) -> Ended {
    let all = match files::every_image(
        &update.file,
        update.updater.as_deref(),
        update.bootrom.as_deref(),
        sha256,
    ) {
        Ok(all) => all,
        Err(f) => return Ended::Failed(f),
    };
    for mut files in all {
        let name = String::from_utf8_lossy(files.firmware.name()).into_owned();
        let name = if name.is_empty() {
            update.file.clone()
        } else {
            name
        };
        let size = files.firmware.size();
        match check_files(
            &mut files.firmware,
            files.updater.as_mut(),
            files.bootrom.as_mut(),
            options,
        ) {
            Ok(check) => {
                if let Err(f) = confirm_sha256(&mut files.firmware, sha256) {
                    return Ended::Failed(f);
                }
                say_files(&name, &check, size, files.updater.as_ref(), &mut |l| {
                    say.line(l)
                })
            }
            Err(f) => return Ended::Failed(f),
        }
    }
    if sha256.is_some() {
        say.line(&sha256_line(&update.file));
    }
    let mut text = String::new();
    sqnsupgrade::msg::write(&mut text, sqnsupgrade::msg::Msg::CheckNoModem, &[]);
    say.line(&text);
    let record = Record {
        command: Some(Command::Check),
        ..Record::default()
    };
    Ended::Ok(record, String::new(), vec![("plan", Json::Null)])
}

/// The lines saying what the files are.
fn say_files(
    name: &str,
    check: &sqnsupgrade::image::FirmwareCheck,
    size: u32,
    updater: Option<&AnyImage>,
    say: &mut dyn FnMut(&str),
) {
    use sqnsupgrade::msg::{write, Arg, Msg};
    let mut text = String::new();
    match check.kind {
        FirmwareKind::Full => write(
            &mut text,
            Msg::CheckFull,
            &[Arg::Text(name.as_bytes()), Arg::Num(size)],
        ),
        FirmwareKind::Diff { from, to } => write(
            &mut text,
            Msg::CheckDiff,
            &[
                Arg::Text(name.as_bytes()),
                Arg::Num(from),
                Arg::Num(to),
                Arg::Num(size),
            ],
        ),
    }
    say(&text);
    if let Some(u) = updater {
        let mut text = String::new();
        write(
            &mut text,
            Msg::CheckUpdater,
            &[Arg::Text(u.name()), Arg::Num(u.size())],
        );
        say(&text);
    }
}

/// `check` with a SHA-256: the image is read whole and compared, as `run` does before a
/// flow that flashes as it streams (a package's digest was checked when it was opened).
fn confirm_sha256(image: &mut AnyImage, sha256: Option<[u8; 32]>) -> Result<(), Failure> {
    match sha256 {
        Some(_) => image.confirm(Confirm::Ahead).map_err(Failure::untouched),
        None => Ok(()),
    }
}

/// `FILE: its SHA-256 is the one given`.
fn sha256_line(path: &str) -> String {
    let mut text = String::new();
    sqnsupgrade::msg::write(
        &mut text,
        sqnsupgrade::msg::Msg::CheckSha256,
        &[sqnsupgrade::msg::Arg::Text(path.as_bytes())],
    );
    text
}

fn untouched() -> String {
    let mut text = String::new();
    sqnsupgrade::msg::write(&mut text, sqnsupgrade::msg::Msg::CheckUntouched, &[]);
    text
}

/// The record of a successful `check`.
fn survey_record(s: &Survey) -> Record {
    let mut r = Record::from_state(Command::Check, Some(s.state));
    r.build_before = s.versions.software_build;
    r.take_versions(&s.versions, None);
    r.build_after = s.check.build;
    r
}

/// `check --json`'s fields beyond the record: the plan and what the image is.
fn plan_fields(s: &Survey) -> Vec<(&'static str, Json)> {
    let kind = match s.check.kind {
        FirmwareKind::Full => "full",
        FirmwareKind::Diff { .. } => "upgdiff",
    };
    vec![
        ("plan", Json::from(record::plan_name(s.plan))),
        ("image_kind", Json::from(kind)),
        ("image_bytes", Json::from(s.size)),
    ]
}
