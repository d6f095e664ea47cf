//! The files an update uses, and the checks made on them before the modem is touched.
//!
//! Only the first bytes of each file are looked at ([`Head`]); they are kept, and
//! [`Headed`] replays them before the rest of the stream, so a non-seekable source
//! (a socket, an HTTP body) is read exactly once.

use crate::error::{Error, FileProblem, FileRole};
use crate::hal::ImageSource;
use crate::stp::image_read;
use crate::text::{find, starts_with_ignore_case};
use crate::version::parse_upgdiff_name;

/// Bytes of each file kept for the checks.
pub const HEAD_LEN: usize = 64;
/// Files under this size are not firmware.
pub const MIN_SIZE: u32 = 128;
/// Files over this size cannot be stored first (FFF): they go ON_THE_FLY.
pub const FFF_LIMIT: u32 = 4 * 1024 * 1024;
/// Magic of a `.dup` image.
pub const DUP_MAGIC: &[u8; 4] = b"UPGR";
/// Magic of an ELF file (`updater.elf`).
pub const ELF_MAGIC: &[u8; 4] = b"\x7fELF";
/// Observed in one package: the header's length field is the file size minus this.
pub const DUP_LENGTH_OFFSET: u32 = 46;
/// The header version of that package.
pub const DUP_VERSION: u32 = 3;

/// The first bytes of a file.
#[derive(Debug, Clone, Copy)]
pub struct Head {
    bytes: [u8; HEAD_LEN],
    len: usize,
}

impl Head {
    /// Reads up to [`HEAD_LEN`] bytes from the start of `src`.
    pub fn read<I: ImageSource + ?Sized>(src: &mut I, role: FileRole) -> Result<Head, Error> {
        let mut head = Head::EMPTY;
        head.fill(src, role)?;
        Ok(head)
    }

    /// Nothing read yet.
    const EMPTY: Head = Head {
        bytes: [0; HEAD_LEN],
        len: 0,
    };

    /// [`Head::read`] in place.
    fn fill<I: ImageSource + ?Sized>(&mut self, src: &mut I, role: FileRole) -> Result<(), Error> {
        let want = (src.size() as usize).min(HEAD_LEN);
        while self.len < want {
            let Some(dst) = self.bytes.get_mut(self.len..want) else {
                break;
            };
            let n = image_read(src, dst)?;
            if n == 0 {
                let problem = FileProblem::Truncated {
                    expected: src.size(),
                    got: self.len as u32,
                };
                return Err(Error::File { role, problem });
            }
            self.len += n;
        }
        Ok(())
    }

    /// The bytes read.
    pub fn bytes(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or(&[])
    }

    fn starts_with(&self, magic: &[u8]) -> bool {
        self.bytes().starts_with(magic)
    }

    /// True for a web page saved instead of the file.
    pub fn looks_like_html(&self) -> bool {
        let b = self.bytes();
        let b = b.strip_prefix(b"\xef\xbb\xbf").unwrap_or(b);
        let start = b
            .iter()
            .position(|c| !c.is_ascii_whitespace())
            .unwrap_or(b.len());
        let b = b.get(start..).unwrap_or(&[]);
        [&b"<!doctype html"[..], b"<html", b"<?xml", b"<head"]
            .iter()
            .any(|tag| starts_with_ignore_case(b, tag))
    }

    /// The NUL-terminated description after the `.dup` header, if any.
    pub fn dup_description(&self) -> &[u8] {
        let rest = self.bytes().get(12..).unwrap_or(&[]);
        let end = rest.iter().position(|&c| c == 0).unwrap_or(rest.len());
        rest.get(..end).unwrap_or(&[])
    }

    /// The version field of the `.dup` header (3 in the packages seen).
    pub fn dup_version(&self) -> Option<u32> {
        match *self.bytes().get(4..8)? {
            [a, b, c, d] => Some(u32::from_le_bytes([a, b, c, d])),
            _ => None,
        }
    }

    /// The payload length the `.dup` header announces.
    pub fn dup_length_field(&self) -> Option<u32> {
        match *self.bytes().get(8..12)? {
            [a, b, c, d] => Some(u32::from_le_bytes([a, b, c, d])),
            _ => None,
        }
    }
}

/// A full image or a differential one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FirmwareKind {
    /// A full image (CATM1-*.dup, NB1-*.dup).
    Full,
    /// An upgdiff from build `from` to build `to`.
    Diff {
        /// Build the modem must run.
        from: u32,
        /// Build it will run after.
        to: u32,
    },
}

/// What the checks found out about a firmware image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FirmwareCheck {
    /// Full or upgdiff.
    pub kind: FirmwareKind,
    /// The header does not match the file size in a way that is not fatal (longer than
    /// announced, a header of another shape, or cut short and allowed): a warning.
    pub length_mismatch: bool,
    /// The build the modem runs after this image, when the image names it
    /// (`CATM1-41065`, `upgdiff_38638-to-41065`).
    pub build: Option<u32>,
}

fn bad(role: FileRole, problem: FileProblem) -> Error {
    Error::File { role, problem }
}

fn common_checks(head: &Head, size: u32, role: FileRole) -> Result<(), Error> {
    if size < MIN_SIZE {
        return Err(bad(role, FileProblem::TooSmall { size }));
    }
    if head.looks_like_html() {
        return Err(bad(role, FileProblem::Html));
    }
    Ok(())
}

/// The build a full image brings, from its description or its name: the number after the
/// last `-` or `_` (`CATM1-41065`, `NB1-41019.dup`, `FIPY_GPY_CATM1_33988.dup`).
fn named_build(text: &[u8]) -> Option<u32> {
    let base = crate::text::base_name(text);
    let stem = match base.iter().rposition(|&b| b == b'.') {
        Some(dot)
            if base
                .get(dot..)
                .is_some_and(|e| e.eq_ignore_ascii_case(b".dup")) =>
        {
            base.get(..dot)?
        }
        _ => base,
    };
    let start = stem.iter().rposition(|&b| b == b'-' || b == b'_')? + 1;
    crate::text::parse_u32(stem.get(start..)?).filter(|&b| b >= 10_000)
}

/// Checks a firmware image (`.dup`). A file shorter than its header announces is refused
/// (an interrupted copy) unless `allow_truncated`.
pub fn check_firmware(
    head: &Head,
    size: u32,
    name: &[u8],
    allow_truncated: bool,
) -> Result<FirmwareCheck, Error> {
    let role = FileRole::Firmware;
    common_checks(head, size, role)?;
    if head.starts_with(ELF_MAGIC) {
        return Err(bad(role, FileProblem::ElfAsFirmware));
    }
    if !head.starts_with(DUP_MAGIC) {
        return Err(bad(role, FileProblem::NotDup));
    }
    let description = head.dup_description();
    let from_text = find(description, b"upgdiff")
        .or_else(|| find(description, b"UPGDIFF"))
        .and_then(|at| parse_upgdiff_name(description.get(at..)?));
    let kind = match parse_upgdiff_name(name).or(from_text) {
        Some((from, to)) => FirmwareKind::Diff { from, to },
        None => FirmwareKind::Full,
    };
    let build = match kind {
        FirmwareKind::Diff { to, .. } => Some(to),
        FirmwareKind::Full => named_build(description).or_else(|| named_build(name)),
    };
    // The observed header: version 3, then the payload length (file size - 46).
    let announced = match (head.dup_version(), head.dup_length_field()) {
        (Some(DUP_VERSION), Some(len)) => len.checked_add(DUP_LENGTH_OFFSET),
        _ => None,
    };
    let length_mismatch = match announced {
        Some(announced) if announced > size && !allow_truncated => {
            return Err(bad(
                role,
                FileProblem::ShorterThanHeader { announced, size },
            ))
        }
        Some(announced) => announced != size,
        None => true,
    };
    Ok(FirmwareCheck {
        kind,
        length_mismatch,
        build,
    })
}

/// Checks `updater.elf`.
pub fn check_updater(head: &Head, size: u32) -> Result<(), Error> {
    let role = FileRole::Updater;
    common_checks(head, size, role)?;
    if head.starts_with(DUP_MAGIC) {
        return Err(bad(role, FileProblem::DupAsUpdater));
    }
    if !head.starts_with(ELF_MAGIC) {
        return Err(bad(role, FileProblem::NotElf));
    }
    Ok(())
}

/// Checks the bootrom package: a package streamed like a `.dup`, never an ELF.
pub fn check_bootrom(head: &Head, size: u32) -> Result<(), Error> {
    let role = FileRole::Bootrom;
    common_checks(head, size, role)?;
    if head.starts_with(ELF_MAGIC) {
        return Err(bad(role, FileProblem::NotDup));
    }
    Ok(())
}

/// A source whose first bytes were already read into a [`Head`]: replays them, then the rest.
pub struct Headed<'s, I: ImageSource + ?Sized> {
    head: Head,
    pos: usize,
    src: &'s mut I,
}

impl<'s, I: ImageSource + ?Sized> Headed<'s, I> {
    /// Reads the head of `src` and keeps it for replay (the tests' shorthand for
    /// [`Headed::unread`] then [`Headed::read_head`]).
    #[cfg(test)]
    pub fn new(src: &'s mut I, role: FileRole) -> Result<Self, Error> {
        let mut headed = Headed::unread(src);
        headed.read_head(role)?;
        Ok(headed)
    }

    /// `src`, its head not read yet ([`Headed::read_head`] reads it).
    pub fn unread(src: &'s mut I) -> Self {
        Headed {
            head: Head::EMPTY,
            pos: 0,
            src,
        }
    }

    /// Reads the head (in place: the caller keeps the source where it is).
    pub fn read_head(&mut self, role: FileRole) -> Result<(), Error> {
        self.head.fill(self.src, role)
    }

    /// The first bytes.
    pub fn head(&self) -> &Head {
        &self.head
    }
}

impl<I: ImageSource + ?Sized> ImageSource for Headed<'_, I> {
    fn size(&self) -> u32 {
        self.src.size()
    }

    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        let kept = self.head.bytes().get(self.pos..).unwrap_or(&[]);
        if !kept.is_empty() {
            let mut n = 0;
            for (dst, &src) in buf.iter_mut().zip(kept) {
                *dst = src;
                n += 1;
            }
            self.pos += n;
            return Ok(n);
        }
        image_read(self.src, buf)
    }

    fn name(&self) -> &[u8] {
        self.src.name()
    }

    fn confirm(&mut self, how: crate::hal::Confirm) -> Result<(), Error> {
        self.src.confirm(how)
    }
}

/// An image held in memory (a buffer, a file read whole, a test's bytes).
#[derive(Debug, Clone)]
pub struct MemImage<'a> {
    data: &'a [u8],
    pos: usize,
    name: &'a [u8],
}

impl<'a> MemImage<'a> {
    /// The image `data`, named `name` (a path or file name, as a user would give it).
    pub fn new(data: &'a [u8], name: &'a [u8]) -> MemImage<'a> {
        MemImage { data, pos: 0, name }
    }
}

impl ImageSource for MemImage<'_> {
    fn size(&self) -> u32 {
        u32::try_from(self.data.len()).unwrap_or(u32::MAX)
    }

    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        let rest = self.data.get(self.pos..).unwrap_or(&[]);
        let n = crate::text::copy_prefix(buf, rest);
        self.pos += n;
        Ok(n)
    }

    fn name(&self) -> &[u8] {
        self.name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Mem<'a>(&'a [u8], usize, &'a str);
    impl ImageSource for Mem<'_> {
        fn size(&self) -> u32 {
            self.0.len() as u32
        }
        fn read(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
            let n = (self.0.len() - self.1).min(buf.len()).min(7);
            buf[..n].copy_from_slice(&self.0[self.1..self.1 + n]);
            self.1 += n;
            Ok(n)
        }
        fn name(&self) -> &[u8] {
            self.2.as_bytes()
        }
    }

    fn dup(len: usize, desc: &str) -> [u8; 300] {
        let mut b = [0u8; 300];
        b[..4].copy_from_slice(b"UPGR");
        b[4..8].copy_from_slice(&3u32.to_le_bytes());
        b[8..12].copy_from_slice(&((len as u32) - 46).to_le_bytes());
        b[12..12 + desc.len()].copy_from_slice(desc.as_bytes());
        b
    }

    fn check(data: &[u8], name: &str) -> Result<FirmwareCheck, Error> {
        let mut m = Mem(data, 0, name);
        let h = Headed::new(&mut m, FileRole::Firmware)?;
        check_firmware(h.head(), data.len() as u32, name.as_bytes(), false)
    }

    #[test]
    fn full_and_diff() {
        let d = dup(300, "CATM1-38638");
        let c = check(&d, "/sd/CATM1-38638.dup").unwrap();
        assert_eq!(c.kind, FirmwareKind::Full);
        assert!(!c.length_mismatch);
        assert_eq!(c.build, Some(38638));
        assert_eq!(named_build(b"FIPY_GPY_CATM1_33988.dup"), Some(33988));
        assert_eq!(named_build(b"/sd/NB1-41019.dup"), Some(41019));
        assert_eq!(named_build(b"firmware.dup"), None);
        let c = check(&d, "/sd/upgdiff_38638-to-39529.dup").unwrap();
        assert_eq!(
            c.kind,
            FirmwareKind::Diff {
                from: 38638,
                to: 39529
            }
        );
        let d = dup(300, "pkg upgdiff_33080-to-40343");
        let c = check(&d, "renamed.dup").unwrap();
        assert_eq!(
            c.kind,
            FirmwareKind::Diff {
                from: 33080,
                to: 40343
            }
        );
        // Shorter than its header says: refused, unless allowed (then a warning).
        assert_eq!(
            check(&d[..250], "x.dup").err(),
            Some(Error::File {
                role: FileRole::Firmware,
                problem: FileProblem::ShorterThanHeader {
                    announced: 300,
                    size: 250
                }
            })
        );
        let mut m = Mem(&d[..250], 0, "x.dup");
        let h = Headed::new(&mut m, FileRole::Firmware).unwrap();
        assert!(
            check_firmware(h.head(), 250, b"x.dup", true)
                .unwrap()
                .length_mismatch
        );
        // Longer than announced: a warning only.
        let mut long = [0u8; 300];
        long[..250].copy_from_slice(&dup(250, "CATM1-41065")[..250]);
        assert!(check(&long, "x.dup").unwrap().length_mismatch);
    }

    #[test]
    fn bad_inputs() {
        let problem = |r: Result<FirmwareCheck, Error>| match r {
            Err(Error::File { problem, .. }) => problem,
            other => panic!("{other:?}"),
        };
        let mut html = [b' '; 300];
        html[..15].copy_from_slice(b"<!DOCTYPE html>");
        assert_eq!(problem(check(&html, "a.dup")), FileProblem::Html);
        assert_eq!(
            problem(check(&[0u8; 100], "a.dup")),
            FileProblem::TooSmall { size: 100 }
        );
        let mut elf = [0u8; 300];
        elf[..4].copy_from_slice(ELF_MAGIC);
        assert_eq!(problem(check(&elf, "a.dup")), FileProblem::ElfAsFirmware);
        assert_eq!(problem(check(&[7u8; 300], "a.dup")), FileProblem::NotDup);
        let d = dup(300, "x");
        let mut m = Mem(&d, 0, "");
        let h = Headed::new(&mut m, FileRole::Updater).unwrap();
        assert_eq!(
            check_updater(h.head(), 300),
            Err(Error::File {
                role: FileRole::Updater,
                problem: FileProblem::DupAsUpdater
            })
        );
    }

    /// A stream object that reports more bytes than it was asked for.
    struct Liar;
    impl ImageSource for Liar {
        fn size(&self) -> u32 {
            1000
        }
        fn read(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
            Ok(buf.len() + 5)
        }
    }

    #[test]
    fn a_stream_that_over_reports_is_an_error() {
        let mut l = Liar;
        assert_eq!(
            Headed::new(&mut l, FileRole::Firmware).err(),
            Some(Error::StreamCount {
                link: false,
                got: 69,
                asked: 64
            })
        );
    }

    #[test]
    fn headed_replays_everything() {
        let data: [u8; 200] = core::array::from_fn(|i| i as u8);
        let mut m = Mem(&data, 0, "");
        let mut h = Headed::new(&mut m, FileRole::Firmware).unwrap();
        let mut out = [0u8; 200];
        let mut got = 0;
        while got < 200 {
            let n = h.read(&mut out[got..]).unwrap();
            assert!(n > 0);
            got += n;
        }
        assert_eq!(out, data);
    }
}
