//! The vendor's firmware package (`CATM1-41065.zip`: the full image, `updater.elf`,
//! sometimes `upgdiff_*` files): which of its files an update uses, decided from the
//! modem's state and build, the way the documentation tells users to pick by hand.
//!
//! - Application mode: the upgdiff whose `from` build is the modem's build (the smallest
//!   update), else the full image of the modem's family (CAT-M1 or NB-IoT).
//! - Any other mode: the full image (an upgdiff needs application mode).
//! - Recovery mode: also `updater.elf`.
//!
//! Only names are looked at here; the files themselves get the usual checks.

use crate::error::{Error, FileRole};
use crate::state::State;
use crate::text::{base_name, starts_with_ignore_case};
use crate::version::{parse_upgdiff_name, Family, Versions};

/// What a file of a package is, by its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Member {
    /// A full image (`CATM1-41065.dup`, `NB1-41019.dup`).
    Full,
    /// An upgdiff from build `from` to build `to`.
    Diff {
        /// The build the modem must run.
        from: u32,
        /// The build it brings.
        to: u32,
    },
    /// `updater.elf`.
    Updater,
    /// Anything else (notes, folders).
    Other,
}

/// What the file named `name` (any folder) is.
pub fn member(name: &[u8]) -> Member {
    let base = base_name(name);
    if base.eq_ignore_ascii_case(b"updater.elf") {
        return Member::Updater;
    }
    let is_dup = base.len() > 4
        && base
            .get(base.len() - 4..)
            .is_some_and(|e| e.eq_ignore_ascii_case(b".dup"));
    if !is_dup {
        return Member::Other;
    }
    match parse_upgdiff_name(base) {
        Some((from, to)) => Member::Diff { from, to },
        None if starts_with_ignore_case(base, b"upgdiff") => Member::Other,
        None => Member::Full,
    }
}

/// Why a file was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// The upgdiff from the build the modem runs.
    DiffFrom(u32),
    /// The full image: the modem's mode needs it.
    FullForState(State),
    /// The full image: no upgdiff starts from the modem's build.
    FullNoDiff(u32),
    /// The full image (the modem's build is not known).
    Full,
}

/// The files of a package an update uses: indexes into the names given to [`choose`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Choice {
    /// The firmware image.
    pub firmware: usize,
    /// `updater.elf`, when recovery mode needs it.
    pub updater: Option<usize>,
    /// Why this image.
    pub why: Why,
}

/// Chooses the files for a modem in `state` whose versions are `versions` (application
/// mode: its build and family), among the package's `names`.
pub fn choose(names: &[&[u8]], state: State, versions: &Versions) -> Result<Choice, Error> {
    let no_image = Error::File {
        role: FileRole::Firmware,
        problem: crate::error::FileProblem::NoImageInPackage,
    };
    let build = versions
        .software_build
        .filter(|_| state == State::Application);
    // The full image of the modem's family when it is known and the package has one, else
    // the first full image.
    let prefix: &[u8] = match versions.family() {
        Some(Family::CatM1) => b"CATM1",
        Some(Family::NbIot) => b"NB1",
        None => b"",
    };
    // One pass over the names (plain loops: the board's code stays small): the upgdiff from
    // the modem's build (the newest build, when several start from it: the last of them),
    // the full images, the first updater.elf.
    let (mut diff, mut diff_to) = (None, 0);
    let (mut family_full, mut first_full, mut updater) = (None, None, None);
    for (i, name) in names.iter().enumerate() {
        match member(name) {
            Member::Diff { from, to }
                if Some(from) == build && (diff.is_none() || to >= diff_to) =>
            {
                diff = Some(i);
                diff_to = to;
            }
            Member::Full => {
                first_full = first_full.or(Some(i));
                if family_full.is_none()
                    && !prefix.is_empty()
                    && starts_with_ignore_case(base_name(name), prefix)
                {
                    family_full = Some(i);
                }
            }
            Member::Updater => updater = updater.or(Some(i)),
            _ => {}
        }
    }
    let firmware_and_why = match diff {
        Some(i) => Some((i, Why::DiffFrom(build.unwrap_or(0)))),
        None => family_full.or(first_full).map(|i| {
            let why = match (state, build) {
                (State::Application, Some(b)) => Why::FullNoDiff(b),
                (State::Application, None) => Why::Full,
                (s, _) => Why::FullForState(s),
            };
            (i, why)
        }),
    };
    let (firmware, why) = firmware_and_why.ok_or(no_image)?;
    let updater = match state {
        State::Recovery => Some(updater.ok_or(Error::UpdaterNeeded)?),
        _ => None,
    };
    Ok(Choice {
        firmware,
        updater,
        why,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ZIP: [&[u8]; 5] = [
        b"CATM1-41065/",
        b"CATM1-41065/CATM1-41065.dup",
        b"CATM1-41065/updater.elf",
        b"CATM1-41065/upgdiff_38638-to-41065.dup",
        b"CATM1-41065/upgdiff_33080-to-41065.dup",
    ];

    fn app(build: u32) -> Versions {
        let mut v = Versions::default();
        v.add_ati1([&b"UE5.0.0.0d"[..], format!("LR5.1.1.0-{build}").as_bytes()].into_iter());
        v
    }

    extern crate std;
    use std::format;

    #[test]
    fn members_by_name() {
        assert_eq!(member(b"x/CATM1-41065.dup"), Member::Full);
        assert_eq!(member(b"UPDATER.ELF"), Member::Updater);
        assert_eq!(
            member(b"upgdiff_38638-to-41065.dup"),
            Member::Diff {
                from: 38638,
                to: 41065
            }
        );
        assert_eq!(member(b"readme.txt"), Member::Other);
        assert_eq!(member(b"upgdiff_old.dup"), Member::Other);
    }

    #[test]
    fn application_mode_takes_the_upgdiff_from_its_build() {
        let c = choose(&ZIP, State::Application, &app(38638)).unwrap();
        assert_eq!(
            (c.firmware, c.updater, c.why),
            (3, None, Why::DiffFrom(38638))
        );
        let c = choose(&ZIP, State::Application, &app(40000)).unwrap();
        assert_eq!((c.firmware, c.why), (1, Why::FullNoDiff(40000)));
    }

    #[test]
    fn other_modes_take_the_full_image_and_recovery_the_updater() {
        let c = choose(&ZIP, State::Upgrade, &Versions::default()).unwrap();
        assert_eq!((c.firmware, c.updater), (1, None));
        assert_eq!(c.why, Why::FullForState(State::Upgrade));
        let c = choose(&ZIP, State::Recovery, &Versions::default()).unwrap();
        assert_eq!((c.firmware, c.updater), (1, Some(2)));
        let no_updater = [ZIP[1], ZIP[3]];
        assert_eq!(
            choose(&no_updater, State::Recovery, &Versions::default()),
            Err(Error::UpdaterNeeded)
        );
    }

    #[test]
    fn the_family_picks_among_full_images_and_no_image_is_an_error() {
        let both: [&[u8]; 2] = [b"NB1-41019.dup", b"CATM1-41065.dup"];
        let c = choose(&both, State::Application, &app(1)).unwrap();
        assert_eq!(c.firmware, 1);
        let none: [&[u8]; 1] = [b"updater.elf"];
        assert!(matches!(
            choose(&none, State::Application, &app(38638)),
            Err(Error::File { .. })
        ));
    }
}
