//! The files of an update as the user named them: a `.dup` (and `updater.elf`, the
//! bootrom package) from disk, or the vendor's package (`CATM1-41065.zip`), whose files are
//! chosen for the modem by the engine ([`sqnsupgrade::package`]) once its state and build
//! are known (read-only). Used by the CLI and the Python package alike.

use crate::package::write_choice;
use crate::package::{is_package, Package};
use crate::{AnyImage, FileImage};
use sqnsupgrade::package::{choose, member, Member};
use sqnsupgrade::{Error, Event, Failure, FileProblem, FileRole, Hal, State, Updater};

/// The files of one update.
pub struct Files {
    /// The firmware image.
    pub firmware: AnyImage,
    /// updater.elf.
    pub updater: Option<AnyImage>,
    /// The bootrom package.
    pub bootrom: Option<AnyImage>,
}

fn open_file(path: &str, role: FileRole) -> Result<AnyImage, Failure> {
    FileImage::open(path, role)
        .map(AnyImage::File)
        .map_err(Failure::untouched)
}

/// The firmware image, checked against `sha256` when one is given (by the engine, when
/// it asks).
fn open_firmware(path: &str, sha256: Option<[u8; 32]>) -> Result<AnyImage, Failure> {
    let mut image = FileImage::open(path, FileRole::Firmware).map_err(Failure::untouched)?;
    if let Some(digest) = sha256 {
        image.expect_sha256(digest);
    }
    Ok(AnyImage::File(image))
}

/// Opens the package at `path`; with a SHA-256, the package file's digest is then checked,
/// whole. The digest names the package the user downloaded: which of its images is
/// used depends on the modem (an upgdiff at one build, the full image at another), so a
/// digest of one of them would hold only for one state of the modem.
fn open_package(path: &str, sha256: Option<[u8; 32]>) -> Result<Package, Failure> {
    // Opened first: a file that is no package says so, whatever its digest.
    let pkg = Package::open(path).map_err(Failure::untouched)?;
    if let Some(digest) = sha256 {
        let problem = match crate::sha256_of_file(path) {
            Ok(d) if d == digest => None,
            Ok(_) => Some(FileProblem::DigestMismatch),
            Err(_) => Some(FileProblem::Unreadable),
        };
        if let Some(problem) = problem {
            return Err(Failure::untouched(Error::File {
                role: FileRole::Firmware,
                problem,
            }));
        }
    }
    Ok(pkg)
}

fn no_image() -> Failure {
    Failure::untouched(Error::File {
        role: FileRole::Firmware,
        problem: FileProblem::NoImageInPackage,
    })
}

fn unpacked(pkg: &mut Package, i: usize) -> Result<AnyImage, Failure> {
    Ok(AnyImage::Mem {
        data: pkg.read(i).map_err(Failure::untouched)?,
        pos: 0,
        name: pkg.base_name(i),
    })
}

/// A line for the user, through the engine's console (which ends its open line first).
pub fn message<H: Hal>(updater: &mut Updater<'_, H>, line: &str) {
    updater.hal_mut().event(&Event::Message(line.as_bytes()));
}

/// The files for `run` and `check`: from disk, or chosen from a package for this modem
/// (asked read-only; a package that cannot be read is refused before it is asked
/// anything). What was chosen, and why, is said. `updater`/`bootrom` given by the user
/// win over a package's. `sha256`: the digest of the image, or of the package (checked
/// whole before the modem is asked anything).
pub fn prepare<H: Hal>(
    updater: &mut Updater<'_, H>,
    firmware: &str,
    elf: Option<&str>,
    bootrom: Option<&str>,
    sha256: Option<[u8; 32]>,
) -> Result<Files, Failure> {
    let given_updater = elf.map(|p| open_file(p, FileRole::Updater)).transpose()?;
    let bootrom = bootrom
        .map(|p| open_file(p, FileRole::Bootrom))
        .transpose()?;
    if !is_package(firmware) {
        return Ok(Files {
            firmware: open_firmware(firmware, sha256)?,
            updater: given_updater,
            bootrom,
        });
    }
    let mut pkg = open_package(firmware, sha256)?;
    let (state, versions): (State, _) = updater.identify()?;
    let names: Vec<Vec<u8>> = pkg.names().iter().map(|n| n.to_vec()).collect();
    let names: Vec<&[u8]> = names.iter().map(Vec::as_slice).collect();
    let choice = choose(&names, state, &versions).map_err(Failure::untouched)?;
    let mut text = String::new();
    write_choice(&choice, &names, &mut text);
    for line in text.lines() {
        message(updater, line);
    }
    let firmware = unpacked(&mut pkg, choice.firmware)?;
    let updater = match (given_updater, choice.updater) {
        (Some(given), _) => Some(given),
        (None, Some(i)) => Some(unpacked(&mut pkg, i)?),
        (None, None) => None,
    };
    Ok(Files {
        firmware,
        updater,
        bootrom,
    })
}

/// For `check` without a modem: every image of a package (its updater.elf with the first),
/// or the files as given.
pub fn every_image(
    firmware: &str,
    elf: Option<&str>,
    bootrom: Option<&str>,
    sha256: Option<[u8; 32]>,
) -> Result<Vec<Files>, Failure> {
    let given_updater = elf.map(|p| open_file(p, FileRole::Updater)).transpose()?;
    let bootrom = bootrom
        .map(|p| open_file(p, FileRole::Bootrom))
        .transpose()?;
    if !is_package(firmware) {
        return Ok(vec![Files {
            firmware: open_firmware(firmware, sha256)?,
            updater: given_updater,
            bootrom,
        }]);
    }
    let mut pkg = open_package(firmware, sha256)?;
    let names: Vec<Vec<u8>> = pkg.names().iter().map(|n| n.to_vec()).collect();
    let mut all = Vec::new();
    for (i, n) in names.iter().enumerate() {
        if let Member::Full | Member::Diff { .. } = member(n) {
            all.push(Files {
                firmware: unpacked(&mut pkg, i)?,
                updater: None,
                bootrom: None,
            });
        }
    }
    let first = all.first_mut().ok_or_else(no_image)?;
    first.updater = match given_updater {
        Some(u) => Some(u),
        None => match names.iter().position(|n| member(n) == Member::Updater) {
            Some(u) => Some(unpacked(&mut pkg, u)?),
            None => None,
        },
    };
    first.bootrom = bootrom;
    Ok(all)
}
