//! The board's call: the one definition of the options the MicroPython module takes
//! (`_sqnsupgrade.call(command, link, options)`, `options` a dict by name), of the
//! commands it runs, and (with [`super::record::KEYS`]) of the keys of the record it
//! returns.
//!
//! The C side is generated from here: `mpy_glue/sqn_schema.h` holds the options' struct
//! (`sqn_options_t`, which bindgen gives back to the Rust layer, field by field), the table
//! of names with their kinds and places (`SQN_OPTIONS`), the commands and the record's
//! keys, as qstrs the glue compares without a string compare. A test renders the header
//! from these definitions and fails while the file differs (`SQN_BLESS=1 cargo test -p
//! sqnsupgrade --lib schema` rewrites it). The shim passes each option under its name and
//! the glue refuses a name that is not in the table: neither holds an order or an index,
//! and a misspelt or swapped name is an error at the first call, not a wrong value.

use super::request::Command;

/// How an option's value is read and where it is kept (`enum sqn_kind` in
/// `mpy_glue/sqn_glue.h`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An integer (an `int32_t` field of `sqn_options_t`).
    Int,
    /// A truth value (an `int32_t` field, 0 or 1).
    Bool,
    /// A string (an `sqn_text_t` field); None is "not given".
    Text,
    /// A list of strings (an `sqn_names_t` field).
    Names,
    /// An image descriptor `(object, size, name, is_path)` (an `sqn_image_t` field).
    Image,
    /// A callable, or `(object, 'method')` loaded once so that calling it allocates
    /// nothing (`ctx.callback[slot]`).
    Callback,
    /// How the link's rate changes: a callable, or a tuple of `(name, value)` pairs for
    /// `link.init(baudrate=..., ...)` (the context's).
    Baud,
}

macro_rules! options {
    ($($(#[doc = $doc:literal])* $id:ident = $name:ident: $kind:ident,)*) => {
        /// The options of the board's call, in the order of `enum sqn_option` (the bits of
        /// `sqn_request_t.given`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Opt {
            $($(#[doc = $doc])* $id,)*
        }

        /// Every option, in [`Opt`]'s order.
        pub const OPTIONS: &[Opt] = &[$(Opt::$id,)*];

        /// Their names (the fields of `sqn_options_t`), in [`Opt`]'s order.
        pub const NAMES: &[&str] = &[$(stringify!($name),)*];

        /// Their kinds, in [`Opt`]'s order.
        const KINDS: &[Kind] = &[$(Kind::$kind,)*];
    };
}

options! {
    /// The firmware image (`.dup`, `.elf` or a package).
    Firmware = firmware: Image,
    /// updater.elf, for a modem in recovery mode.
    Updater = updater: Image,
    /// The bootrom package (bootloader 33080).
    Bootrom = bootrom: Image,
    /// Store first (FFF): `force_fff=True`.
    Fff = fff: Bool,
    /// Flash while streaming (ON_THE_FLY): `load_fff=False`.
    OnTheFly = on_the_fly: Bool,
    /// The STP block size; 0 for the session's whole max transfer − 16.
    BlockSize = block_size: Int,
    /// Seconds to wait for each STP reply; 0 for the default.
    ReplyTimeout = reply_timeout: Int,
    /// The user says the modem is in upgrade mode.
    Resume = resume: Bool,
    /// Print the whole `showver` block.
    Verbose = verbose: Bool,
    /// Flash a `.dup` shorter than its header announces.
    AllowTruncated = allow_truncated: Bool,
    /// `uart(ffh_mode=True)`.
    FfhMode = ffh_mode: Bool,
    /// Print messages and the progress bar.
    Print = print: Bool,
    /// Also print AT commands and replies.
    Debug = debug: Bool,
    /// The link's rate when the call starts.
    Baudrate = baudrate: Int,
    /// `port=` as the user gave it (for the command that continues).
    Port = port: Text,
    /// `ensure`: the build the modem must run.
    Target = target: Int,
    /// `ensure`: the attempts made so far.
    Tries = tries: Int,
    /// `ensure`: the most attempts allowed.
    MaxTries = max_tries: Int,
    /// `ensure`: the names of the images to choose from.
    Names = names: Names,
    /// How the link's rate changes.
    Baud = baud: Baud,
    /// Called with `(done, total)` as the image goes.
    Progress = progress: Callback,
    /// Called with no argument at least every 250 ms (a watchdog's feed).
    Alive = alive: Callback,
}

/// The commands the board runs, in the order of `SQN_COMMANDS` (the number the glue
/// passes).
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
        NAMES.get(self as usize).copied().unwrap_or("")
    }

    /// Its kind.
    pub fn kind(self) -> Kind {
        KINDS.get(self as usize).copied().unwrap_or(Kind::Int)
    }

    /// Its slot among the callbacks (`ctx.callback[slot]`; 0 for the other kinds).
    pub const fn slot(self) -> usize {
        let i = self as usize;
        let mut n = 0;
        let mut j = 0;
        while j < i && j < KINDS.len() {
            if matches!(KINDS[j], Kind::Callback) {
                n += 1;
            }
            j += 1;
        }
        n
    }
}

/// How many options are callbacks (the room `ctx.callback` needs).
pub const CALLBACKS: usize = {
    let mut n = 0;
    let mut j = 0;
    while j < KINDS.len() {
        if matches!(KINDS[j], Kind::Callback) {
            n += 1;
        }
        j += 1;
    }
    n
};

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::format;
    use std::string::String;

    /// The header the glue includes, rendered from the definitions.
    fn header() -> String {
        let mut h = String::new();
        h.push_str(
            "// sqn_schema.h: the board call's options, commands and result keys, generated from\n\
             // their one definition in Rust (src/report/call.rs, src/report/record.rs). Do not\n\
             // edit: after changing them, run\n\
             //     SQN_BLESS=1 cargo test -p sqnsupgrade --lib schema\n\
             // (the test fails while this file differs). Included by sqn_glue.h.\n\
             #ifndef SQN_SCHEMA_H\n#define SQN_SCHEMA_H\n\n\
             // The options' values (a field for each option that is not a callback or the baud\n\
             // rate's change, which go to the call's context).\n\
             typedef struct sqn_options {\n",
        );
        for &o in OPTIONS {
            let ty = match o.kind() {
                Kind::Int | Kind::Bool => "int32_t",
                Kind::Text => "sqn_text_t",
                Kind::Names => "sqn_names_t",
                Kind::Image => "sqn_image_t",
                Kind::Callback | Kind::Baud => continue,
            };
            h.push_str(&format!("    {ty} {};\n", o.name()));
        }
        h.push_str(
            "} sqn_options_t;\n\n\
             // Every option: X(name, kind, place): place is the value's offset in sqn_options_t,\n\
             // or the callback's slot in ctx->callback (0 for the baud rate's change).\n\
             #define SQN_OPTIONS(X) \\\n",
        );
        for &o in OPTIONS {
            let (kind, place) = match o.kind() {
                Kind::Int => ("INT", None),
                Kind::Bool => ("BOOL", None),
                Kind::Text => ("TEXT", None),
                Kind::Names => ("NAMES", None),
                Kind::Image => ("IMAGE", None),
                Kind::Callback => ("CALLBACK", Some(o.slot())),
                Kind::Baud => ("BAUD", Some(0)),
            };
            let place = place.map_or(format!("offsetof(sqn_options_t, {})", o.name()), |n| {
                format!("{n}")
            });
            h.push_str(&format!(
                "    X({}, SQN_KIND_{kind}, {place}) \\\n",
                o.name()
            ));
        }
        h.push_str("\n// Their numbers: bit n of sqn_request_t.given says option n was given.\nenum sqn_option {\n");
        for &o in OPTIONS {
            h.push_str(&format!(
                "    SQN_OPT_{} = {},\n",
                o.name().to_ascii_uppercase(),
                o as usize
            ));
        }
        h.push_str(&format!(
            "    SQN_OPTION_COUNT = {}\n}};\n\n// The callbacks' slots in ctx->callback.\nenum sqn_callback {{\n",
            OPTIONS.len()
        ));
        for &o in OPTIONS.iter().filter(|o| o.kind() == Kind::Callback) {
            h.push_str(&format!(
                "    SQN_CALLBACK_{} = {},\n",
                o.name().to_ascii_uppercase(),
                o.slot()
            ));
        }
        h.push_str(&format!("}};\n#define SQN_CALLBACKS {CALLBACKS}\n\n"));
        h.push_str("// The commands, X(name), numbered from 0 in this order (sqn_request_t.command).\n#define SQN_COMMANDS(X)");
        for c in COMMANDS {
            h.push_str(&format!(" X({})", c.name()));
        }
        h.push_str("\n\n// The result record's keys, X(name), in the order of sqn_rs_result's fields.\n#define SQN_KEYS(X) \\\n");
        for k in super::super::record::keys() {
            h.push_str(&format!("    X({k}) \\\n"));
        }
        h.push_str("\n#endif // SQN_SCHEMA_H\n");
        h
    }

    #[test]
    fn schema_header_is_generated_from_these_definitions() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/mpy_glue/sqn_schema.h");
        let want = header();
        if std::env::var_os("SQN_BLESS").is_some() {
            std::fs::write(path, &want).unwrap();
        }
        let have = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            have == want,
            "mpy_glue/sqn_schema.h is not what src/report/call.rs and record.rs define: \
             run `SQN_BLESS=1 cargo test -p sqnsupgrade --lib schema`, then review the diff"
        );
    }

    #[test]
    fn every_option_has_one_name_and_a_kind() {
        assert_eq!(OPTIONS.len(), KINDS.len());
        assert_eq!(OPTIONS.len(), NAMES.len());
        assert!(OPTIONS.len() <= 32, "sqn_request_t.given has 32 bits");
        for (i, &opt) in OPTIONS.iter().enumerate() {
            let name = opt.name();
            assert_eq!(opt as usize, i, "{name}: the table is in Opt's order");
            assert!(
                name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{name:?}"
            );
            assert_eq!(
                NAMES.iter().filter(|&&n| n == name).count(),
                1,
                "{name} twice"
            );
        }
        assert_eq!(Opt::Firmware.name(), "firmware");
        assert_eq!(Opt::Alive.name(), "alive");
        assert_eq!(Opt::BlockSize.kind(), Kind::Int);
        assert_eq!(Opt::Fff.kind(), Kind::Bool);
    }

    #[test]
    fn callbacks_are_numbered_from_zero() {
        assert_eq!(CALLBACKS, 2);
        assert_eq!(Opt::Progress.slot(), 0);
        assert_eq!(Opt::Alive.slot(), 1);
    }
}
