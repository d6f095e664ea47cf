//! The vendor's firmware package, read directly (`CATM1-41065.zip`): its file names for
//! the engine's choice ([`sqnsupgrade::package::choose`]) and the chosen files, unpacked
//! in memory.

use sqnsupgrade::error::{Error, FileProblem, FileRole};
use sqnsupgrade::msg::{self, Arg, Msg};
use sqnsupgrade::package::{Choice, Why};
use sqnsupgrade::text::{base_name, Sink};
use std::fs::File;
use std::io::Read;

/// Writes what the engine chose from a package and why (`Using
/// upgdiff_38638-to-41065.dup from the package: ...`), before the update.
pub fn write_choice(choice: &Choice, names: &[&[u8]], out: &mut dyn Sink) {
    let name = |i: usize| base_name(names.get(i).copied().unwrap_or(b""));
    let file = Arg::Text(name(choice.firmware));
    match choice.why {
        Why::DiffFrom(b) => msg::write(out, Msg::SayPackageDiff, &[file, Arg::Num(b)]),
        Why::FullForState(s) => {
            msg::write(out, Msg::SayPackageFullMode, &[file, Arg::Msg(s.name())])
        }
        Why::FullNoDiff(b) => msg::write(out, Msg::SayPackageFullBuild, &[file, Arg::Num(b)]),
        Why::Full => msg::write(out, Msg::SayPackageFull, &[file]),
    }
    if let Some(u) = choice.updater {
        out.put("\n");
        msg::write(out, Msg::SayPackageUpdater, &[Arg::Text(name(u))]);
    }
}

/// True for a path that names a zip package.
pub fn is_package(path: &str) -> bool {
    path.len() > 4
        && path
            .get(path.len() - 4..)
            .is_some_and(|e| e.eq_ignore_ascii_case(".zip"))
}

/// An open package.
pub struct Package {
    archive: zip::ZipArchive<File>,
    names: Vec<String>,
}

fn bad() -> Error {
    Error::File {
        role: FileRole::Firmware,
        problem: FileProblem::BadPackage,
    }
}

impl Package {
    /// Opens the zip at `path` and reads its list of files.
    pub fn open(path: &str) -> Result<Package, Error> {
        let meta = std::fs::metadata(path).map_err(|e| Error::File {
            role: FileRole::Firmware,
            problem: if e.kind() == std::io::ErrorKind::NotFound {
                FileProblem::Missing
            } else {
                FileProblem::Unreadable
            },
        })?;
        if !meta.is_file() {
            return Err(Error::File {
                role: FileRole::Firmware,
                problem: FileProblem::NotRegular,
            });
        }
        let file = File::open(path).map_err(|_| Error::File {
            role: FileRole::Firmware,
            problem: FileProblem::Unreadable,
        })?;
        let archive = zip::ZipArchive::new(file).map_err(|_| bad())?;
        let names = (0..archive.len())
            .map(|i| archive.name_for_index(i).unwrap_or("").to_string())
            .collect();
        Ok(Package { archive, names })
    }

    /// The names of its files (with their folders), in the zip's order.
    pub fn names(&self) -> Vec<&[u8]> {
        self.names.iter().map(|n| n.as_bytes()).collect()
    }

    /// The file name (without folders) of entry `index`.
    pub fn base_name(&self, index: usize) -> String {
        let n = self.names.get(index).map(String::as_str).unwrap_or("");
        n.rsplit(['/', '\\']).next().unwrap_or(n).to_string()
    }

    /// Entry `index`, unpacked.
    pub fn read(&mut self, index: usize) -> Result<Vec<u8>, Error> {
        let mut entry = self.archive.by_index(index).map_err(|_| bad())?;
        let mut data = Vec::with_capacity(entry.size().min(64 << 20) as usize);
        entry.read_to_end(&mut data).map_err(|_| bad())?;
        Ok(data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zip_names() {
        assert!(is_package("CATM1-41065.zip"));
        assert!(is_package("/home/me/NB1-41019.ZIP"));
        assert!(!is_package("CATM1-41065.dup"));
        assert!(!is_package(".zip"));
    }
}
