//! sqnsupgrade on a computer: the engine's traits over a serial port, files, the system
//! clock and Ctrl-C ([`port::Port`], [`FileImage`], [`StdClock`], [`CtrlC`]), a console that
//! prints what users know, the `sqnsupgrade` command line ([`cli`]; `src/main.rs` only
//! calls it) and, with the feature `python`, the CPython extension module `sqnsupgrade`
//! (`py`, built by maturin: `pip install .` at the repository's root).

pub mod cli;
pub mod files;
pub mod package;
pub mod port;
pub mod progress;
#[cfg(feature = "python")]
pub mod py;
pub mod record;

use sha2::{Digest, Sha256};
use sqnsupgrade::console::TextOut;
use sqnsupgrade::error::{Error, FileProblem, FileRole};
use sqnsupgrade::hal::{Cancel, Clock, Confirm, Hal, ImageSource};
use sqnsupgrade::msg::{Arg, Msg};
use sqnsupgrade::state::State;
use sqnsupgrade::updater::{Failure, Outcome, Updater};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// A firmware file on disk.
pub struct FileImage {
    file: File,
    size: u32,
    name: String,
    /// Bytes read so far (where a check ahead goes back to).
    pos: u64,
    /// The SHA-256 the user gave, and the digest of what was read so far.
    sha256: Option<([u8; 32], Sha256)>,
}

fn firmware_problem(problem: FileProblem) -> Error {
    Error::File {
        role: FileRole::Firmware,
        problem,
    }
}

/// The SHA-256 of the whole file at `path` (a package's, checked whole when it is opened,
/// before the modem is asked anything).
pub fn sha256_of_file(path: &str) -> io::Result<[u8; 32]> {
    let mut hasher = Sha256::new();
    io::copy(&mut File::open(path)?, &mut hasher)?;
    Ok(hasher.finalize().into())
}

impl FileImage {
    /// Opens `path`; a missing or unreadable file is the engine's file error for `role`.
    pub fn open(path: &str, role: FileRole) -> Result<FileImage, Error> {
        let problem = |e: io::Error| {
            let problem = if e.kind() == io::ErrorKind::NotFound {
                FileProblem::Missing
            } else {
                FileProblem::Unreadable
            };
            Error::File { role, problem }
        };
        // Looked at before opening: opening a FIFO would wait for a writer.
        let meta = std::fs::metadata(path).map_err(problem)?;
        if !meta.is_file() {
            return Err(Error::File {
                role,
                problem: FileProblem::NotRegular,
            });
        }
        let size = u32::try_from(meta.len()).map_err(|_| Error::File {
            role,
            problem: FileProblem::TooBig,
        })?;
        let file = File::open(path).map_err(problem)?;
        Ok(FileImage {
            file,
            size,
            name: path.to_string(),
            pos: 0,
            sha256: None,
        })
    }

    /// The image must have this SHA-256: [`ImageSource::confirm`] checks it when the engine
    /// asks (after the transfer and before the commit in FFF, before anything changes the
    /// modem in the flows that flash as they stream).
    pub fn expect_sha256(&mut self, digest: [u8; 32]) {
        self.sha256 = Some((digest, Sha256::new()));
    }
}

impl ImageSource for FileImage {
    fn size(&self) -> u32 {
        self.size
    }

    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        let n = self.file.read(buf).map_err(|_| Error::ImageRead)?;
        let read = buf.get(..n).ok_or(Error::ImageRead)?;
        if let Some((_, hasher)) = &mut self.sha256 {
            hasher.update(read);
        }
        self.pos += n as u64;
        Ok(n)
    }

    fn name(&self) -> &[u8] {
        self.name.as_bytes()
    }

    /// Compares the SHA-256 of the image with the user's: of what was read (`Received`),
    /// or of what was read and the rest of the file, read now, after which the file goes
    /// back to where the reading was (`Ahead`). A file that cannot go back is read once
    /// only.
    fn confirm(&mut self, how: Confirm) -> Result<(), Error> {
        let Some((want, read)) = &self.sha256 else {
            return Ok(());
        };
        let (want, mut whole) = (*want, read.clone());
        if how == Confirm::Ahead {
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                match self.file.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => whole.update(buf.get(..n).ok_or(Error::ImageRead)?),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(_) => return Err(Error::ImageRead),
                }
            }
            self.file
                .seek(SeekFrom::Start(self.pos))
                .map_err(|_| firmware_problem(FileProblem::NotRereadable))?;
        }
        if whole.finalize().as_slice() == want {
            Ok(())
        } else {
            Err(firmware_problem(FileProblem::DigestMismatch))
        }
    }
}

/// The system's monotonic clock.
pub struct StdClock(Instant);

impl Default for StdClock {
    fn default() -> Self {
        StdClock(Instant::now())
    }
}

impl Clock for StdClock {
    fn now_ms(&mut self) -> u32 {
        // The engine's clock wraps at 2^32 ms; it only subtracts readings.
        self.0.elapsed().as_millis() as u32
    }

    fn sleep_ms(&mut self, ms: u32) {
        // Sleep in slices so Ctrl-C is noticed quickly.
        let end = self.0.elapsed() + std::time::Duration::from_millis(u64::from(ms));
        while !cancel_requested() {
            let now = self.0.elapsed();
            if now >= end {
                break;
            }
            std::thread::sleep((end - now).min(std::time::Duration::from_millis(50)));
        }
    }
}

static CANCEL: AtomicBool = AtomicBool::new(false);

/// What a second Ctrl-C prints before the process ends at once (set by
/// [`at_second_ctrl_c`]).
static SECOND: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();

/// Prepares what a second Ctrl-C prints (the first one asks the engine to stop at a safe
/// point; a second one ends the process at once, the modem's state then unknown).
pub fn at_second_ctrl_c(text: String) {
    let _ = SECOND.set(text.into_bytes());
}

/// Makes Ctrl-C, SIGTERM and SIGHUP ask the engine to stop (instead of killing the process
/// mid-transfer, which leaves the modem inside the transfer); a second one ends the
/// process at once. The handler runs on its own thread (the `ctrlc` crate), so it may
/// print and exit normally. A signal this process was started with ignored stays ignored
/// (`nohup` ignores SIGHUP; GNU libc's manual asks programs to keep such settings).
pub fn install_ctrl_c() {
    #[cfg(unix)]
    let ignored = ignored_signals();
    let _ = ctrlc::set_handler(|| {
        if CANCEL.swap(true, Ordering::SeqCst) {
            if let Some(text) = SECOND.get() {
                let mut err = std::io::stderr().lock();
                let _ = err.write_all(text);
                let _ = err.flush();
            }
            std::process::exit(130);
        }
    });
    #[cfg(unix)]
    for signal in ignored {
        // SAFETY: signal(2) with SIG_IGN, no handler code involved.
        unsafe { libc::signal(signal, libc::SIG_IGN) };
    }
}

/// The stop signals (SIGINT, SIGTERM, SIGHUP) this process ignores now.
#[cfg(unix)]
fn ignored_signals() -> Vec<libc::c_int> {
    [libc::SIGINT, libc::SIGTERM, libc::SIGHUP]
        .into_iter()
        .filter(|&signal| {
            // SAFETY: sigaction(2) only reads the current action into `old`.
            let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
            let read = unsafe { libc::sigaction(signal, std::ptr::null(), &mut old) };
            read == 0 && old.sa_sigaction == libc::SIG_IGN
        })
        .collect()
}

/// True once Ctrl-C was pressed (or SIGTERM or SIGHUP came).
pub fn cancel_requested() -> bool {
    CANCEL.load(Ordering::SeqCst)
}

/// The Ctrl-C check as the engine's [`Cancel`].
pub struct CtrlC;

impl Cancel for CtrlC {
    fn cancelled(&mut self) -> bool {
        cancel_requested()
    }
}

/// A file on disk or one unpacked from a firmware package: what the CLI hands the engine.
pub enum AnyImage {
    /// A file.
    File(FileImage),
    /// Bytes in memory, with the name the file had in its package.
    Mem {
        /// The file's bytes.
        data: Vec<u8>,
        /// How much was read.
        pos: usize,
        /// Its name.
        name: String,
    },
}

impl ImageSource for AnyImage {
    fn size(&self) -> u32 {
        match self {
            AnyImage::File(f) => f.size(),
            AnyImage::Mem { data, .. } => u32::try_from(data.len()).unwrap_or(u32::MAX),
        }
    }

    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        match self {
            AnyImage::File(f) => f.read(buf),
            AnyImage::Mem { data, pos, .. } => {
                let rest = data.get(*pos..).unwrap_or(&[]);
                let n = rest.len().min(buf.len());
                buf[..n].copy_from_slice(&rest[..n]);
                *pos += n;
                Ok(n)
            }
        }
    }

    fn name(&self) -> &[u8] {
        match self {
            AnyImage::File(f) => f.name(),
            AnyImage::Mem { name, .. } => name.as_bytes(),
        }
    }

    /// A file checks its digest; a package's file has none of its own (the package's
    /// SHA-256 is checked whole before the package is opened, and its files' CRC-32 as
    /// they are unpacked).
    fn confirm(&mut self, how: Confirm) -> Result<(), Error> {
        match self {
            AnyImage::File(f) => f.confirm(how),
            AnyImage::Mem { .. } => Ok(()),
        }
    }
}

/// Standard error as the console's [`TextOut`] (with `--json`, standard output carries
/// only the JSON).
pub struct Stderr;

impl TextOut for Stderr {
    fn text(&mut self, text: &[u8]) {
        let mut out = std::io::stderr().lock();
        let _ = out.write_all(text);
        let _ = out.flush();
    }
}

/// Standard output or standard error, chosen at run time.
#[derive(Debug, Clone, Copy)]
pub struct Terminal {
    /// Write to standard error (with `--json`).
    pub stderr: bool,
}

impl TextOut for Terminal {
    fn text(&mut self, text: &[u8]) {
        if self.stderr {
            Stderr.text(text)
        } else {
            Stdout.text(text)
        }
    }
}

/// Standard output as the console's [`TextOut`], flushed after each piece (progress shows
/// at once).
pub struct Stdout;

impl TextOut for Stdout {
    fn text(&mut self, text: &[u8]) {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text);
        let _ = out.flush();
    }
}

/// Sentence `m` of the engine's catalogue (`src/messages.txt`), its `{}` filled with `args`.
pub fn sentence(m: Msg, args: &[Arg<'_>]) -> String {
    let mut s = String::new();
    sqnsupgrade::msg::write(&mut s, m, args);
    s
}

/// The state as users read it: `2 application mode (FFF)` or `unknown (no answer)` (the
/// engine's words).
pub fn state_line(state: Option<State>) -> String {
    let mut s = String::new();
    sqnsupgrade::report::write_state(state, &mut s);
    s
}

/// Opens the files named by the user (a missing or unreadable one is the engine's file
/// error, the modem untouched; a package's files are chosen for the modem) and runs the
/// whole update; `sha256`: the digest the image (or the package) must have.
pub fn run_files<H: Hal>(
    updater: &mut Updater<'_, H>,
    firmware: &str,
    elf: Option<&str>,
    bootrom: Option<&str>,
    sha256: Option<[u8; 32]>,
) -> Result<Outcome, Failure> {
    let mut files = files::prepare(updater, firmware, elf, bootrom, sha256)?;
    updater.run(
        &mut files.firmware,
        files.updater.as_mut(),
        files.bootrom.as_mut(),
    )
}

/// The closing line of a successful update.
pub fn done_line(outcome: &Outcome) -> String {
    let seconds = format!("{:.1}", outcome.elapsed_ms as f64 / 1000.0);
    sentence(
        Msg::SayDone,
        &[
            Arg::Num(outcome.bytes_sent),
            Arg::Text(seconds.as_bytes()),
            Arg::Text(state_line(outcome.state_after).as_bytes()),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_welcome_line_says_the_version_of_sqnsupgrade_version_and_the_package() {
        // The engine's welcome line (every front end's) and the host's `--version` and
        // `sqnsupgrade.VERSION` say one version.
        assert_eq!(sqnsupgrade::VERSION, env!("CARGO_PKG_VERSION"));
    }

    fn image(tag: &str, data: &[u8]) -> String {
        let path =
            std::env::temp_dir().join(format!("sqnsupgrade-unit-{}-{tag}.dup", std::process::id()));
        std::fs::write(&path, data).unwrap();
        path.to_str().unwrap().to_string()
    }

    fn digest(data: &[u8]) -> [u8; 32] {
        Sha256::digest(data).into()
    }

    fn read_all(f: &mut FileImage, chunk: usize) -> Vec<u8> {
        let mut got = Vec::new();
        let mut buf = vec![0u8; chunk];
        loop {
            let n = f.read(&mut buf).unwrap();
            if n == 0 {
                return got;
            }
            got.extend_from_slice(&buf[..n]);
        }
    }

    #[test]
    fn a_check_ahead_reads_the_rest_and_goes_back() {
        let data: Vec<u8> = (0..300_000u32).map(|i| (i * 7 + i / 251) as u8).collect();
        let path = image("ahead", &data);
        let mut f = FileImage::open(&path, FileRole::Firmware).unwrap();
        f.expect_sha256(digest(&data));
        let mut head = vec![0u8; 1000];
        assert_eq!(f.read(&mut head).unwrap(), 1000);
        assert_eq!(f.confirm(Confirm::Ahead), Ok(()));
        // The transfer goes on from where it was.
        let mut got = head;
        got.extend(read_all(&mut f, 2016));
        assert_eq!(got, data);
        // What was read is the image: confirmed again after the transfer.
        assert_eq!(f.confirm(Confirm::Received), Ok(()));
        std::fs::remove_file(path).unwrap();
    }

    #[test]
    fn another_digest_is_refused_ahead_and_after_the_transfer() {
        let data = vec![0x55u8; 50_000];
        let path = image("wrong", &data);
        let mismatch = Err(Error::File {
            role: FileRole::Firmware,
            problem: FileProblem::DigestMismatch,
        });
        let mut f = FileImage::open(&path, FileRole::Firmware).unwrap();
        f.expect_sha256(digest(b"another image"));
        assert_eq!(f.confirm(Confirm::Ahead), mismatch);
        assert_eq!(read_all(&mut f, 4096), data);
        assert_eq!(f.confirm(Confirm::Received), mismatch);
        // Only part of the image read: not what the digest names.
        let mut f = FileImage::open(&path, FileRole::Firmware).unwrap();
        f.expect_sha256(digest(&data));
        let mut buf = vec![0u8; 100];
        f.read(&mut buf).unwrap();
        assert_eq!(f.confirm(Confirm::Received), mismatch);
        // Without a digest, nothing to check.
        let mut plain = FileImage::open(&path, FileRole::Firmware).unwrap();
        assert_eq!(plain.confirm(Confirm::Ahead), Ok(()));
        std::fs::remove_file(path).unwrap();
    }
}
