//! The policy of the command that continues after a failure: the same command, the update
//! with other files (a placeholder only where the user must supply a file), or the state.

#[cfg(feature = "host")]
use crate::error::PortProblem;
use crate::error::{Error, FileProblem, FileRole};
use crate::msg::Msg;
use crate::state::State;
use crate::updater::Failure;

use super::request::{Command, Request};

/// A file argument of the command that continues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arg<'a> {
    /// Not given.
    Absent,
    /// The user's own file.
    Given(&'a [u8]),
    /// The user must supply it: the sentence names what (`<updater.elf>`).
    Placeholder(Msg),
}

/// The command that continues after a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextStep<'a> {
    /// The same command again, as given.
    Same,
    /// The update, with these files; `defaults` leaves out the options the user gave.
    Run {
        /// The firmware image.
        firmware: Arg<'a>,
        /// updater.elf.
        updater: Arg<'a>,
        /// The bootrom package.
        bootrom: Arg<'a>,
        /// Leave out the method and block options (they were the problem).
        defaults: bool,
    },
    /// Check the modem's state.
    State,
    /// The same command again, on a port the user names (from the list printed above, or
    /// the board's once it is plugged in) (computers only).
    #[cfg(feature = "host")]
    ChoosePort,
}

pub(super) const FULL_IMAGE: Msg = Msg::NextFullImage;
pub(super) const UPDATER_ELF: Msg = Msg::NextUpdater;
pub(super) const BOOTROM: Msg = Msg::NextBootrom;

pub(super) fn is_upgdiff(path: Option<&[u8]>) -> bool {
    path.is_some_and(|p| {
        crate::text::starts_with_ignore_case(crate::text::base_name(p), b"upgdiff")
    })
}

/// The firmware for a run that needs the full image.
pub(super) fn full_image<'a>(req: &Request<'a>) -> Arg<'a> {
    match req.firmware {
        Some(p) if !is_upgdiff(Some(p)) => Arg::Given(p),
        _ => Arg::Placeholder(FULL_IMAGE),
    }
}

pub(super) fn given<'a>(p: Option<&'a [u8]>) -> Arg<'a> {
    p.map_or(Arg::Absent, Arg::Given)
}

/// Decides the command that continues after `f`.
#[inline(never)]
pub fn next_step<'a>(f: &Failure, req: &Request<'a>) -> NextStep<'a> {
    let run = |firmware, updater, bootrom| NextStep::Run {
        firmware,
        updater,
        bootrom,
        defaults: false,
    };
    if req.command == Command::Ensure {
        // ensure()'s own check: after its last try, the update by hand with the image it
        // chose; otherwise the state first.
        return match (f.error, req.firmware) {
            (Error::GaveUp { .. }, Some(_)) => run(given(req.firmware), Arg::Absent, Arg::Absent),
            _ => NextStep::State,
        };
    }
    if !f.modem_changed {
        return match f.error {
            Error::UpdaterNeeded => run(
                full_image(req),
                match req.updater {
                    Some(u) => Arg::Given(u),
                    None => Arg::Placeholder(UPDATER_ELF),
                },
                given(req.bootrom),
            ),
            Error::BootromNeeded => run(
                given(req.firmware),
                given(req.updater),
                Arg::Placeholder(BOOTROM),
            ),
            Error::File {
                role: FileRole::Firmware,
                problem: FileProblem::DiffNeedsFullImage | FileProblem::DiffFromMismatch { .. },
            } => run(
                Arg::Placeholder(FULL_IMAGE),
                given(req.updater),
                given(req.bootrom),
            ),
            Error::File {
                role: FileRole::Firmware,
                problem: FileProblem::DiffWithUpdater,
            } => run(given(req.firmware), Arg::Absent, given(req.bootrom)),
            Error::FffNeedsApplicationMode
            | Error::BadOption(_)
            | Error::File {
                problem: FileProblem::TooBigForFff { .. },
                ..
            } => NextStep::Run {
                firmware: given(req.firmware),
                updater: given(req.updater),
                bootrom: given(req.bootrom),
                defaults: true,
            },
            Error::NoResponse | Error::LinkGone => NextStep::State,
            #[cfg(feature = "host")]
            // No port or several: the same command, naming the part that was missing.
            Error::Port(PortProblem::Several | PortProblem::NoneFound) => NextStep::ChoosePort,
            _ => NextStep::Same,
        };
    }
    if req.command != Command::Run {
        return match f.state {
            Some(_) => NextStep::Same,
            None => NextStep::State,
        };
    }
    match f.state {
        Some(State::Upgrade) | Some(State::MTools) => {
            run(full_image(req), Arg::Absent, Arg::Absent)
        }
        Some(State::Recovery) => run(
            full_image(req),
            match req.updater {
                Some(u) => Arg::Given(u),
                None => Arg::Placeholder(UPDATER_ELF),
            },
            given(req.bootrom),
        ),
        Some(State::Application) => match f.error {
            Error::WrongBuild { .. } => run(full_image(req), Arg::Absent, Arg::Absent),
            _ => NextStep::Same,
        },
        Some(State::Updater) | None => NextStep::State,
    }
}
