//! Build script. With the `micropython` feature, bindgen runs over MicroPython's own
//! headers (the tree in `MICROPY_DIR`, with the port's flags in `SQN_BINDGEN_FLAGS`, as
//! `mpy_glue/micropython.mk` passes them) and over `mpy_glue/sqn_glue.h`, producing the
//! `micropython-sys`-style bindings of `src/mpy/`. Without the feature it does nothing.
//!
//! `SQN_BINDGEN_FLAGS` is split as a shell splits words, so quoted defines from a port's
//! CFLAGS keep their quotes: `-DMP_CONFIGFILE='"board/mpconfigboard.h"'` reaches clang as
//! `-DMP_CONFIGFILE="board/mpconfigboard.h"`. For a cross target the flags must say which
//! target clang parses for (`--target=...`, with that target's C headers); for the
//! Cortex-M targets (`thumb*`) the Rust target name is added when they do not.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    #[cfg(feature = "micropython")]
    micropython::generate();
}

#[cfg(feature = "micropython")]
mod micropython {
    use std::env;
    use std::path::PathBuf;

    pub fn generate() {
        for var in [
            "MICROPY_DIR",
            "SQN_BINDGEN_FLAGS",
            "MICROPY_PORT",
            "MICROPY_VARIANT",
        ] {
            println!("cargo:rerun-if-env-changed={var}");
        }
        println!("cargo:rerun-if-changed=mpy_glue/sqn_glue.h");
        let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
        let mp = PathBuf::from(env::var("MICROPY_DIR").unwrap_or_else(|_| {
            panic!(
                "the micropython feature needs MICROPY_DIR (a MicroPython tree whose port was built once); `make micropython` does this"
            )
        }));
        let mut flags = match env::var("SQN_BINDGEN_FLAGS") {
            Ok(f) if !f.trim().is_empty() => split_words(&f).unwrap_or_else(|e| {
                panic!("SQN_BINDGEN_FLAGS: {e}: {f}");
            }),
            _ => default_unix_flags(&mp),
        };
        clang_target(&mut flags);
        let out = PathBuf::from(env::var("OUT_DIR").unwrap());
        let wrapper = out.join("sqn_wrapper.h");
        std::fs::write(
            &wrapper,
            "#include \"py/obj.h\"\n#include \"py/stream.h\"\n#include \"py/mphal.h\"\n#include \"py/mpprint.h\"\n#include \"sqn_glue.h\"\n",
        )
        .unwrap();
        let bindings = bindgen::Builder::default()
            .header(wrapper.to_string_lossy())
            .clang_args(&flags)
            .clang_arg(format!("-I{}", root.join("mpy_glue").display()))
            .use_core()
            .ctypes_prefix("cty")
            .allowlist_type("sqn_.*|mp_obj_t|mp_uint_t|mp_int_t")
            .allowlist_function("sqn_glue_.*|mp_hal_ticks_ms")
            .allowlist_var("SQN_.*|MP_STREAM_POLL_RD")
            .blocklist_function("sqn_rs_call")
            .layout_tests(false)
            .generate()
            .unwrap_or_else(|e| {
                panic!(
                    "bindgen over MicroPython's headers in {}: {e}",
                    mp.display()
                )
            });
        bindings
            .write_to_file(out.join("micropython_bindings.rs"))
            .unwrap();
    }

    /// Adds `--target=` for a cross build whose flags do not name one; only Cortex-M
    /// (`thumb*`) targets are known to clang under the same name. Any other cross target
    /// needs its own `--target=` in the flags (e.g. a 32-bit target with the same port
    /// configuration, see `docs/BOARD.md`): parsing for the host would give 64-bit bindings.
    fn clang_target(flags: &mut Vec<String>) {
        let target = env::var("TARGET").unwrap_or_default();
        let host = env::var("HOST").unwrap_or_default();
        let named = flags
            .iter()
            .any(|f| f.starts_with("--target") || f == "-target");
        if target == host || named {
            return;
        }
        if target.starts_with("thumb") {
            flags.insert(0, format!("--target={target}"));
        } else {
            panic!(
                "cross build for {target}: SQN_BINDGEN_FLAGS must give clang a --target= \
                 (and that target's C headers) so that bindgen does not parse for the host"
            );
        }
    }

    /// Splits `s` into words as a POSIX shell does: blanks separate words, '...' keeps
    /// everything literally, "..." keeps everything but `\"`, `\\`, `\$` and `` \` ``,
    /// and a backslash outside quotes keeps the next character.
    fn split_words(s: &str) -> Result<Vec<String>, String> {
        let mut words = Vec::new();
        let mut word = String::new();
        let mut in_word = false;
        let mut chars = s.chars();
        while let Some(c) = chars.next() {
            match c {
                ' ' | '\t' | '\n' => {
                    if in_word {
                        words.push(std::mem::take(&mut word));
                        in_word = false;
                    }
                }
                '\'' => {
                    in_word = true;
                    loop {
                        match chars.next() {
                            Some('\'') => break,
                            Some(c) => word.push(c),
                            None => return Err("unterminated '".into()),
                        }
                    }
                }
                '"' => {
                    in_word = true;
                    loop {
                        match chars.next() {
                            Some('"') => break,
                            Some('\\') => match chars.next() {
                                Some(c @ ('"' | '\\' | '$' | '`')) => word.push(c),
                                Some(c) => {
                                    word.push('\\');
                                    word.push(c);
                                }
                                None => return Err("unterminated \"".into()),
                            },
                            Some(c) => word.push(c),
                            None => return Err("unterminated \"".into()),
                        }
                    }
                }
                '\\' => {
                    in_word = true;
                    if let Some(c) = chars.next() {
                        if c != '\n' {
                            word.push(c);
                        }
                    }
                }
                c => {
                    in_word = true;
                    word.push(c);
                }
            }
        }
        if in_word {
            words.push(word);
        }
        Ok(words)
    }

    /// The unix port's include paths when the port's own flags are not given.
    fn default_unix_flags(mp: &std::path::Path) -> Vec<String> {
        let port = env::var("MICROPY_PORT").unwrap_or_else(|_| "unix".into());
        let variant = env::var("MICROPY_VARIANT").unwrap_or_else(|_| "standard".into());
        let p = mp.join("ports").join(&port);
        vec![
            format!("-I{}", mp.display()),
            format!("-I{}", p.display()),
            format!("-I{}", p.join(format!("build-{variant}")).display()),
            format!("-I{}", p.join("variants").join(&variant).display()),
        ]
    }
}
