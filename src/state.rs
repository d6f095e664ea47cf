//! The modem's boot modes ("modem state", docs/PROTOCOL.md section 2) and what each means to a user.

/// The modem's boot mode, as `AT+SMOD?` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// 0: FFH without the updater ("recovery mode"): needs the full `.dup` and `updater.elf`.
    Recovery,
    /// 1: FFH with the updater (mTools) loaded: needs the full `.dup`.
    MTools,
    /// 2: FFF, the application runs ("application mode"): any `.dup`.
    Application,
    /// 3: the updater runs.
    Updater,
    /// 4: upgrade/recovery boot, an interrupted update ("upgrade mode"): the full `.dup` again.
    Upgrade,
}

impl State {
    /// From the number `AT+SMOD?` answers.
    pub fn from_smod(n: u32) -> Option<State> {
        match n {
            0 => Some(State::Recovery),
            1 => Some(State::MTools),
            2 => Some(State::Application),
            3 => Some(State::Updater),
            4 => Some(State::Upgrade),
            _ => None,
        }
    }

    /// The number `AT+SMOD?` answers.
    pub fn number(self) -> u8 {
        match self {
            State::Recovery => 0,
            State::MTools => 1,
            State::Application => 2,
            State::Updater => 3,
            State::Upgrade => 4,
        }
    }

    /// The short name users know (`application mode (FFF)`).
    pub fn name(self) -> Msg {
        match self {
            State::Recovery => Msg::StateRecovery,
            State::MTools => Msg::StateMtools,
            State::Application => Msg::StateApplication,
            State::Updater => Msg::StateUpdater,
            State::Upgrade => Msg::StateUpgrade,
        }
    }

    /// The line `info()` prints for this state.
    pub fn info_line(self) -> Msg {
        match self {
            State::Recovery => Msg::InfoRecovery,
            State::MTools => Msg::InfoMtools,
            State::Application => Msg::InfoApplication,
            State::Updater => Msg::InfoUpdater,
            State::Upgrade => Msg::InfoUpgrade,
        }
    }

    /// True when only a full image can be flashed.
    pub fn needs_full_image(self) -> bool {
        !matches!(self, State::Application)
    }
}

use crate::msg::Msg;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_round_trip() {
        for n in 0..5 {
            assert_eq!(State::from_smod(n).unwrap().number() as u32, n);
        }
        assert_eq!(State::from_smod(5), None);
    }
}
