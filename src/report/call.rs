//! The board's call, by name: the one definition of the options the MicroPython module
//! takes (`_sqnsupgrade.call(command, link, options)`, `options` a dict) and of the
//! commands it runs.
//!
//! The shim passes each option under its name; the glue asks [`find`] (through
//! `sqn_rs_option`) what the name is, reads the value as its [`Kind`] says into the
//! request's slot for it, and refuses a name that is not here. So neither the C glue nor
//! the shim holds a list of options, an order or an index: a misspelt or swapped name is
//! an error at the first call, not a wrong value.

use super::request::Command;

/// How an option's value is read and where it is kept (`enum sqn_kind` in
/// `mpy_glue/sqn_glue.h`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An integer (`request.num[slot]`).
    Int,
    /// A truth value (`request.num[slot]`, 0 or 1).
    Bool,
    /// A string (`request.text[slot]`); None is "not given".
    Text,
    /// A list of strings (`request.names`).
    Names,
    /// An image descriptor `(object, size, name, is_path)` (`request.image[slot]`).
    Image,
    /// A callable, or `(object, 'method')` loaded once so that calling it allocates
    /// nothing (`ctx.callback[slot]`).
    Callback,
    /// How the link's rate changes: a callable, or a tuple of `(name, value)` pairs for
    /// `link.init(baudrate=..., ...)`.
    Baud,
}

macro_rules! options {
    ($($(#[doc = $doc:literal])* $id:ident = $name:literal: $kind:ident,)*) => {
        /// The options of the board's call.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Opt {
            $($(#[doc = $doc])* $id,)*
        }

        /// Every option: its name and its kind, in [`Opt`]'s order.
        pub const OPTIONS: &[(Opt, &str, Kind)] = &[$((Opt::$id, $name, Kind::$kind),)*];
    };
}

options! {
    /// The firmware image (`.dup`, `.elf` or a package).
    Firmware = "firmware": Image,
    /// updater.elf, for a modem in recovery mode.
    Updater = "updater": Image,
    /// The bootrom package (bootloader 33080).
    Bootrom = "bootrom": Image,
    /// Store first (FFF): `force_fff=True`.
    Fff = "fff": Bool,
    /// Flash while streaming (ON_THE_FLY): `load_fff=False`.
    OnTheFly = "on_the_fly": Bool,
    /// The STP block size; 0 for the session's whole max transfer − 16.
    BlockSize = "block_size": Int,
    /// Seconds to wait for each STP reply; 0 for the default.
    ReplyTimeout = "reply_timeout": Int,
    /// The user says the modem is in upgrade mode.
    Resume = "resume": Bool,
    /// Print the whole `showver` block.
    Verbose = "verbose": Bool,
    /// Flash a `.dup` shorter than its header announces.
    AllowTruncated = "allow_truncated": Bool,
    /// `uart(ffh_mode=True)`.
    FfhMode = "ffh_mode": Bool,
    /// Print messages and the progress bar.
    Print = "print": Bool,
    /// Also print AT commands and replies.
    Debug = "debug": Bool,
    /// The link's rate when the call starts.
    Baudrate = "baudrate": Int,
    /// `port=` as the user gave it (for the command that continues).
    Port = "port": Text,
    /// `ensure`: the build the modem must run.
    Target = "target": Int,
    /// `ensure`: the attempts made so far.
    Tries = "tries": Int,
    /// `ensure`: the most attempts allowed.
    MaxTries = "max_tries": Int,
    /// `ensure`: the names of the images to choose from.
    Names = "names": Names,
    /// How the link's rate changes.
    Baud = "baud": Baud,
    /// Called with `(done, total)` as the image goes.
    Progress = "progress": Callback,
    /// Called with no argument at least every 250 ms (a watchdog's feed).
    Alive = "alive": Callback,
}

/// The commands the board runs, by the name the shim passes and the record shows.
pub const COMMANDS: [Command; 6] = [
    Command::Run,
    Command::Info,
    Command::State,
    Command::Load,
    Command::Uart,
    Command::Ensure,
];

impl Opt {
    /// The option's name.
    pub fn name(self) -> &'static str {
        OPTIONS.get(self as usize).map_or("", |o| o.1)
    }

    /// Its kind.
    pub fn kind(self) -> Kind {
        kind_at(self as usize)
    }

    /// Its slot among the options kept like it (the index into the request's array for
    /// its kind; Int and Bool share the numbers).
    pub const fn slot(self) -> usize {
        slot_at(self as usize)
    }
}

const fn kind_at(i: usize) -> Kind {
    if i < OPTIONS.len() {
        OPTIONS[i].2
    } else {
        Kind::Int
    }
}

/// True when options of kinds `a` and `b` are kept in the same array (Int and Bool share
/// the numbers).
const fn same(a: Kind, b: Kind) -> bool {
    const fn store(k: Kind) -> u8 {
        match k {
            Kind::Bool => Kind::Int as u8,
            k => k as u8,
        }
    }
    store(a) == store(b)
}

/// The slot of option `i`: how many options of its kind come before it.
const fn slot_at(i: usize) -> usize {
    let kind = kind_at(i);
    let mut n = 0;
    let mut j = 0;
    while j < i && j < OPTIONS.len() {
        if same(OPTIONS[j].2, kind) {
            n += 1;
        }
        j += 1;
    }
    n
}

/// How many slots the options kept like `kind` take (Int and Bool share the numbers).
pub const fn count(kind: Kind) -> usize {
    let mut n = 0;
    let mut j = 0;
    while j < OPTIONS.len() {
        if same(OPTIONS[j].2, kind) {
            n += 1;
        }
        j += 1;
    }
    n
}

/// The option named `name`.
pub fn find(name: &[u8]) -> Option<Opt> {
    OPTIONS.iter().find(|o| o.1.as_bytes() == name).map(|o| o.0)
}

/// The board command named `name` (`run`, `info`, `state`, `load`, `uart`, `ensure`).
pub fn command(name: &[u8]) -> Option<Command> {
    COMMANDS
        .iter()
        .copied()
        .find(|c| c.name().as_bytes() == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_option_is_found_by_its_name_alone() {
        for (i, &(opt, name, kind)) in OPTIONS.iter().enumerate() {
            assert_eq!(opt as usize, i, "{name}: the table is in Opt's order");
            assert_eq!(find(name.as_bytes()), Some(opt));
            assert_eq!(opt.name(), name);
            assert_eq!(opt.kind(), kind);
            let names = OPTIONS.iter().filter(|o| o.1 == name).count();
            assert_eq!(names, 1, "{name} twice");
        }
        assert_eq!(find(b"blocksize"), None);
        assert_eq!(find(b""), None);
    }

    #[test]
    fn slots_number_each_kind_from_zero_without_gaps() {
        for kind in [
            Kind::Int,
            Kind::Text,
            Kind::Names,
            Kind::Image,
            Kind::Callback,
            Kind::Baud,
        ] {
            let mut slots: std::vec::Vec<usize> = OPTIONS
                .iter()
                .filter(|o| same(o.2, kind))
                .map(|o| o.0.slot())
                .collect();
            slots.sort_unstable();
            assert_eq!(slots, (0..count(kind)).collect::<std::vec::Vec<_>>());
        }
        assert_eq!(Opt::Firmware.slot(), 0);
        assert_eq!(Opt::Bootrom.slot(), 2);
        assert_eq!(Opt::Alive.slot(), 1);
        assert_eq!(count(Kind::Int), count(Kind::Bool));
        assert!(Opt::Fff.slot() != Opt::BlockSize.slot());
    }

    #[test]
    fn commands_by_name() {
        for c in COMMANDS {
            assert_eq!(command(c.name().as_bytes()), Some(c));
        }
        assert_eq!(command(b"check"), None);
        assert_eq!(command(b"Run"), None);
    }
}
