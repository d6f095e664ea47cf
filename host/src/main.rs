//! `sqnsupgrade`: update the Sequans SQN3330 modem of a Pycom GPy, FiPy or G01 from a
//! computer (the board in mirror mode, or any serial port that reaches the modem), or try
//! it against the built-in modem simulator when no `--port` is given.

use clap::{Parser, Subcommand};
use sqnsupgrade::console::Console;
use sqnsupgrade::stp::{StpConfig, MAX_BLOCK_SIZE};
use sqnsupgrade::updater::FAST_BAUD;
use sqnsupgrade::{
    Error, Failure, FileRole, Hal, MethodChoice, Next, Options, Parts, Updater, Workspace,
};
use sqnsupgrade_host::tty::Tty;
use sqnsupgrade_host::{self as host, state_line, CtrlC, FileImage, StdClock, Stdout};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, ExitCode, Stdio};

#[derive(Parser)]
#[command(
    name = "sqnsupgrade",
    version,
    about = "Update the firmware of the Sequans SQN3330 LTE modem (Pycom GPy, FiPy, G01)",
    after_help = "Without --port, the built-in modem simulator is started and used, so every command can be tried without a board."
)]
struct Cli {
    /// Serial port that reaches the modem (the board in mirror mode), e.g. /dev/ttyUSB0.
    #[arg(long, global = true)]
    port: Option<String>,
    /// Print every AT command and reply.
    #[arg(long, global = true)]
    debug: bool,
    /// Print the whole SYSTEM VERSION block instead of the short versions.
    #[arg(long, global = true)]
    verbose: bool,
    /// Seconds to wait for each STP reply before resending.
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
        #[arg(long, conflicts_with = "on_the_fly")]
        fff: bool,
        /// Flash while streaming (the only way for files over 4 MiB).
        #[arg(long)]
        on_the_fly: bool,
        /// STP block size in bytes, or "max" for the session's max transfer − 16.
        #[arg(long, value_name = "N|max", default_value = "2016")]
        block_size: String,
        /// The modem is in upgrade mode after an interrupted update: send the image again.
        #[arg(long)]
        resume: bool,
    },
    /// Load updater.elf into a modem in recovery mode (it goes to mTools mode).
    Load {
        /// updater.elf
        updater: String,
    },
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
        let mut child = Command::new(&sim)
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
        // SAFETY: plain kill(2) on our own child.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
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

fn block_size(arg: &str) -> Result<Option<u16>, String> {
    if arg == "max" {
        return Ok(None);
    }
    match arg.parse::<u16>() {
        Ok(n) if n >= 16 && usize::from(n) <= MAX_BLOCK_SIZE => Ok(Some(n)),
        _ => Err(format!(
            "--block-size must be a number from 16 to {MAX_BLOCK_SIZE}, or max"
        )),
    }
}

fn open_image(path: &str, role: FileRole) -> Result<FileImage, Failure> {
    FileImage::open(path, role).map_err(Failure::untouched)
}

/// The path the user gave for the file a failure is about.
fn failed_file<'c>(failure: &Failure, cli: &'c Cli) -> Option<&'c str> {
    let Cmd::Run {
        file,
        updater,
        bootrom,
        ..
    } = &cli.command
    else {
        return match (&cli.command, failure.file_role()) {
            (Cmd::Load { updater }, Some(_)) => Some(updater),
            _ => None,
        };
    };
    match failure.file_role()? {
        FileRole::Firmware => Some(file),
        FileRole::Updater => updater.as_deref(),
        FileRole::Bootrom => bootrom.as_deref(),
    }
}

/// Prints a failure: the reason, a hint, the modem's state and the command that continues.
fn report(failure: &Failure, cli: &Cli, port: &str) -> ExitCode {
    match failed_file(failure, cli) {
        Some(path) => eprintln!("error: {path}: {failure}"),
        None => eprintln!("error: {failure}"),
    }
    eprintln!("hint: {}", failure.error.hint());
    let modem = if failure.modem_changed {
        format!("modem: {}", state_line(failure.state))
    } else {
        "modem: not changed".to_string()
    };
    eprintln!("{modem}");
    let base = format!("sqnsupgrade --port {port}");
    let again = match &cli.command {
        Cmd::Run { file, updater, .. } => match updater {
            Some(u) => format!("{base} run {file} --updater {u}"),
            None => format!("{base} run {file}"),
        },
        Cmd::Info => format!("{base} info"),
        Cmd::State => format!("{base} state"),
        Cmd::Load { updater } => format!("{base} load {updater}"),
    };
    let file = match &cli.command {
        Cmd::Run { file, .. } => file.as_str(),
        _ => "FIRMWARE.dup",
    };
    let next = match failure.next() {
        Next::FixInput => format!("fix the input, then: {again}"),
        Next::RunAgain => again,
        Next::RunFullImage => format!(
            "{base} run {} (the full image, e.g. CATM1-38638.dup)",
            full_image_hint(file)
        ),
        Next::RunWithUpdater => {
            format!("{base} run {} --updater updater.elf", full_image_hint(file))
        }
        Next::PowerCycle => format!("unplug the board's power, plug it in, then: {base} state"),
    };
    eprintln!("next: {next}");
    match failure.error {
        Error::Cancelled => ExitCode::from(130),
        e if e.is_input_error() => ExitCode::from(2),
        _ => ExitCode::from(1),
    }
}

fn full_image_hint(file: &str) -> &str {
    if host::is_upgdiff(file) {
        "FULL_IMAGE.dup"
    } else {
        file
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    host::install_ctrl_c();
    let (port, sim) = match &cli.port {
        Some(p) => (p.clone(), None),
        None => match BuiltinSim::start() {
            Ok(sim) => {
                println!(
                    "No --port given: using the built-in modem simulator on {} (its record: {})",
                    sim.pty, sim.record
                );
                (sim.pty.clone(), Some(sim))
            }
            Err(e) => {
                eprintln!("error: {e}");
                eprintln!("hint: give the modem's serial port with --port, or build the simulator (cargo build)");
                return ExitCode::from(1);
            }
        },
    };
    let code = run_command(&cli, &port, sim.as_ref());
    if let Some(sim) = sim {
        sim.stop();
    }
    code
}

fn run_command(cli: &Cli, port: &str, sim: Option<&BuiltinSim>) -> ExitCode {
    let mut options = Options {
        verbose: cli.verbose,
        stp: StpConfig {
            reply_timeout_ms: cli.reply_timeout.saturating_mul(1000),
            ..StpConfig::default()
        },
        ..Options::default()
    };
    if let Cmd::Run {
        fff,
        on_the_fly,
        block_size: bs,
        resume,
        ..
    } = &cli.command
    {
        options.method = match (fff, on_the_fly) {
            (true, _) => MethodChoice::Fff,
            (_, true) => MethodChoice::OnTheFly,
            _ => MethodChoice::Auto,
        };
        options.resume = *resume;
        match block_size(bs) {
            Ok(b) => options.stp.block_size = b,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        }
    }
    if matches!(cli.command, Cmd::Run { .. } | Cmd::Load { .. }) {
        println!(
            "<<< Welcome to the SQN3330 firmware updater [{}] >>>",
            env!("CARGO_PKG_VERSION")
        );
    }
    let mut link = match Tty::open(port, FAST_BAUD) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: cannot open {port}: {e}");
            eprintln!("hint: check the port name (ls /dev/tty*), that the board is in mirror mode (sqnsupgrade.uart() on the board) and that no terminal has it open");
            eprintln!("modem: not changed");
            return ExitCode::from(1);
        }
    };
    let mut console = Console::new(Stdout, cli.debug);
    let hal = Parts {
        link: &mut link,
        clock: StdClock::default(),
        events: &mut console,
        cancel: CtrlC,
    };
    let mut ws = Box::new(Workspace::new());
    let mut updater = Updater::new(hal, options, &mut ws);
    let result: Result<String, Failure> = match &cli.command {
        Cmd::State => updater.state().map(state_line),
        Cmd::Info => updater.info().map(|_| String::new()),
        Cmd::Load { updater: path } => open_image(path, FileRole::Updater)
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
        Err(f) => report(&f, cli, port),
    };
    if let (Some(sim), Cmd::Run { file, .. }, ExitCode::SUCCESS) = (sim, &cli.command, code) {
        match sim.verify(file) {
            Some(true) => println!("Simulator check: the image it received is identical to {file}, no protocol violations."),
            _ => {
                println!("Simulator check FAILED: see {}/log.json", sim.record);
                return ExitCode::from(1);
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
