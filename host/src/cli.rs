//! The `sqnsupgrade` command line (also what `pip install` puts on the PATH): update the
//! Sequans SQN3330 modem of a Pycom GPy, FiPy or G01 from a computer (the board in mirror
//! mode, or any serial port that reaches the modem), or try it against the built-in modem
//! simulator when no `--port` is given.
//!
//! Everything it says about a failure (the four lines, the exit status, the command that
//! continues) comes from the engine's report (`sqnsupgrade::report`); this module parses the
//! arguments, opens the port and the files, and prints.

use crate::port::{self, Port, Source, PORT_ENV};
use crate::progress::HostEvents;
use crate::{self as host, state_line, CtrlC, FileImage, StdClock};
use clap::{Parser, Subcommand};
use sqnsupgrade::report::{self, Command, Frontend, Request, UserOptions};
use sqnsupgrade::updater::FAST_BAUD;
use sqnsupgrade::{Failure, FileRole, Hal, Parts, Updater, Workspace};
use std::ffi::OsString;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ExitCode, Stdio};

#[derive(Parser)]
#[command(
    name = "sqnsupgrade",
    version,
    about = "Update the firmware of the Sequans SQN3330 LTE modem (Pycom GPy, FiPy, G01)",
    after_help = "The port: --port, else the environment variable SQNSUPGRADE_PORT, else the one Pycom board connected (sqnsupgrade list-ports shows them). --port sim uses the built-in modem simulator, so every command can be tried without a board.\n\nExit status: 0 success; 1 the modem failed (the output says its state and the command that continues); 2 a bad input or no usable port (the modem was not touched); 130 stopped with Ctrl-C."
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
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Print the modem's state, versions and IMEI.
    Info,
    /// Print the modem's state number and name.
    State,
    /// Update the modem with FILE (a .dup: full image or upgdiff).
    Run {
        /// The firmware image (.dup).
        file: String,
        /// updater.elf, needed when the modem is in recovery mode.
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
        /// The modem is in upgrade mode after an interrupted update: send the image again.
        #[arg(long)]
        resume: bool,
        /// Flash a .dup even when it is shorter than its header announces (normally refused:
        /// such a file is almost always an interrupted copy).
        #[arg(long)]
        allow_truncated: bool,
    },
    /// Load updater.elf into a modem in recovery mode (it goes to mTools mode).
    Load {
        /// updater.elf
        updater: String,
    },
    /// List the serial ports of this computer; Pycom boards are marked.
    ListPorts,
}

/// The built-in simulator, started when no port is given.
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
            .map_err(|e| format!("cannot start the simulator {}: {e}", sim.display()))?;
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

    fn stop(mut self) {
        // SIGTERM: the simulator writes its record and exits.
        #[cfg(unix)]
        // SAFETY: plain kill(2) on our own child.
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM)
        };
        #[cfg(not(unix))]
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Compares the last image the simulator received with `path`.
    fn verify(&self, path: &str) -> Option<bool> {
        let log = std::fs::read_to_string(format!("{}/log.json", self.record)).ok()?;
        let v: serde_json::Value = serde_json::from_str(&log).ok()?;
        let last = v["transfers"].as_array()?.last()?;
        let got = std::fs::read(last["file"].as_str()?).ok()?;
        let want = std::fs::read(path).ok()?;
        Some(got == want && v["violations"].as_array().is_some_and(|a| a.is_empty()))
    }
}

/// The request as the user typed it: the engine checks it and words every failure.
fn request<'a>(cli: &'a Cli, program: &'a str) -> Request<'a> {
    let command = match &cli.command {
        Cmd::Info => Command::Info,
        Cmd::State => Command::State,
        Cmd::Run { .. } => Command::Run,
        Cmd::Load { .. } => Command::Load,
        Cmd::ListPorts => Command::State,
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
    match &cli.command {
        Cmd::Run {
            file,
            updater,
            bootrom,
            fff,
            on_the_fly,
            block_size,
            resume,
            allow_truncated,
        } => {
            req.firmware = Some(file.as_bytes());
            req.updater = updater.as_deref().map(str::as_bytes);
            req.bootrom = bootrom.as_deref().map(str::as_bytes);
            req.options.fff = *fff;
            req.options.on_the_fly = *on_the_fly;
            req.options.block_size = if block_size == "max" {
                None
            } else {
                // Not a number: 0, which the engine refuses with the range.
                Some(block_size.parse().unwrap_or(0))
            };
            req.options.resume = *resume;
            req.options.allow_truncated = *allow_truncated;
        }
        Cmd::Load { updater } => req.updater = Some(updater.as_bytes()),
        Cmd::Info | Cmd::State | Cmd::ListPorts => {}
    }
    req
}

/// Prints the four failure lines and returns the exit status.
fn report_failure(f: &Failure, req: &Request<'_>) -> ExitCode {
    let mut lines = String::new();
    report::write_failure(f, req, &mut lines);
    eprint!("{lines}");
    ExitCode::from(report::failure_status(f))
}

/// Runs the command line `args` (the program's name first) and returns the exit status.
pub fn main(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let args: Vec<OsString> = args.into_iter().collect();
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    host::install_ctrl_c();
    let program = args
        .first()
        .map(|a| a.to_string_lossy().into_owned())
        .unwrap_or_else(|| "sqnsupgrade".into());
    if matches!(cli.command, Cmd::ListPorts) {
        return list_ports();
    }
    if cli.port.as_deref() == Some("sim") {
        return with_simulator(&cli, &program);
    }
    let environment = std::env::var(PORT_ENV).ok();
    let found = if cli.port.is_none() && environment.as_deref().is_none_or(str::is_empty) {
        port::list()
    } else {
        Vec::new()
    };
    let (name, source) = match port::choose(cli.port.as_deref(), environment.as_deref(), &found) {
        Ok(chosen) => chosen,
        Err(e) => {
            let req = request(&cli, &program);
            if !found.is_empty() {
                eprintln!("Serial ports of this computer:");
                for f in &found {
                    eprintln!("  {}", f.line());
                }
            }
            return report_failure(&Failure::untouched(e), &req);
        }
    };
    match source {
        Source::Option => {}
        Source::Environment => println!("Port {name} (from {PORT_ENV})"),
        Source::Detected(board) => println!("Port {name} ({board})"),
    }
    run_command(&cli, &program, &name, None)
}

/// `list-ports`: every serial port, Pycom boards marked.
fn list_ports() -> ExitCode {
    let found = port::list();
    if found.is_empty() {
        println!("No serial ports found.");
    }
    for f in &found {
        println!("{}", f.line());
    }
    let boards = found.iter().filter(|f| f.board().is_some()).count();
    match boards {
        0 => println!("No Pycom board connected (connect it over USB; its port appears here)."),
        1 => println!("One Pycom board: sqnsupgrade uses it when no --port is given."),
        n => println!("{n} Pycom boards: choose one with --port PORT or {PORT_ENV}."),
    }
    ExitCode::SUCCESS
}

/// `--port sim`: the built-in simulator (Linux and macOS).
fn with_simulator(cli: &Cli, program: &str) -> ExitCode {
    match BuiltinSim::start() {
        Ok(sim) => {
            println!(
                "Using the built-in modem simulator on {} (its record: {})",
                sim.pty, sim.record
            );
            let pty = sim.pty.clone();
            let code = run_command(cli, program, &pty, Some(&sim));
            sim.stop();
            code
        }
        Err(e) => {
            eprintln!("error: {e}");
            eprintln!("hint: the simulator (sqnsim, next to this program) runs on Linux and macOS: build it with cargo build --workspace");
            ExitCode::from(report::status::BAD_INPUT)
        }
    }
}

fn run_command(cli: &Cli, program: &str, port: &str, sim: Option<&BuiltinSim>) -> ExitCode {
    let req = request(cli, program);
    // A second Ctrl-C ends the process at once: the failure lines for a modem in an
    // unknown state are ready before anything starts.
    let mut second = String::from("\n");
    report::write_failure(&Failure::stopped_at_once(), &req, &mut second);
    host::at_second_ctrl_c(second);
    let options = match req.options.check() {
        Ok(o) => o,
        Err(e) => return report_failure(&Failure::untouched(e), &req),
    };
    if matches!(cli.command, Cmd::Run { .. } | Cmd::Load { .. }) {
        println!(
            "<<< Welcome to the SQN3330 firmware updater [{}] >>>",
            env!("CARGO_PKG_VERSION")
        );
    }
    let mut link = match Port::open(port, FAST_BAUD) {
        Ok(p) => p,
        Err(e) => return report_failure(&Failure::untouched(e), &req),
    };
    let mut console = HostEvents::stdout(cli.debug);
    let hal = Parts {
        link: &mut link,
        clock: StdClock::default(),
        events: &mut console,
        cancel: CtrlC,
    };
    let mut ws = Box::new(Workspace::new());
    let mut updater = Updater::new(hal, options, &mut ws);
    let result: Result<String, Failure> = match &cli.command {
        Cmd::ListPorts => Ok(String::new()),
        Cmd::State => updater.state().map(|s| state_line(Some(s))),
        Cmd::Info => updater.info().map(|_| String::new()),
        Cmd::Load { updater: path } => FileImage::open(path, FileRole::Updater)
            .map_err(Failure::untouched)
            .and_then(|mut f| updater.load(&mut f))
            .map(|s| format!("Modem state: {}", state_line(Some(s)))),
        Cmd::Run {
            file,
            updater: elf,
            bootrom,
            ..
        } => run_update(&mut updater, file, elf.as_deref(), bootrom.as_deref()),
    };
    console.close_line();
    let code = match result {
        Ok(summary) => {
            if !summary.is_empty() {
                println!("{summary}");
            }
            ExitCode::SUCCESS
        }
        Err(f) => report_failure(&f, &req),
    };
    if let (Some(sim), Cmd::Run { file, .. }, ExitCode::SUCCESS) = (sim, &cli.command, code) {
        match sim.verify(file) {
            Some(true) => println!("Simulator check: the image it received is identical to {file}, no protocol violations."),
            _ => {
                println!("Simulator check FAILED: see {}/log.json", sim.record);
                return ExitCode::from(report::status::MODEM_FAILURE);
            }
        }
    }
    code
}

fn run_update<H: Hal>(
    updater: &mut Updater<'_, H>,
    file: &str,
    elf: Option<&str>,
    bootrom: Option<&str>,
) -> Result<String, Failure> {
    host::run_files(updater, file, elf, bootrom).map(|outcome| host::done_line(&outcome))
}
