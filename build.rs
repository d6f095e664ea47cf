//! Build script.
//!
//! Always: the message catalogue `src/messages.txt` becomes `$OUT_DIR/messages.rs` (the
//! `Msg` enum, a dictionary of frequent words and the compressed texts; see
//! `src/msg.rs`).
//!
//! With the `micropython` feature, bindgen runs over MicroPython's own
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
    messages::generate();
    #[cfg(feature = "micropython")]
    micropython::generate();
}

/// The message catalogue, compressed: bytes 0x20..0x7e are themselves, 0x01 is the next
/// argument, 0x80 + i is word i of a dictionary chosen here and 0x02 + j word 128 + j
/// (the 158 tokens, a word with the space before it or not, that save the most bytes).
mod messages {
    use std::collections::BTreeMap;
    use std::env;
    use std::fmt::Write as _;
    use std::path::PathBuf;

    const ARG: u8 = 0x01;
    /// 128 words coded 0x80..=0xff, 30 more coded 0x02..=0x1f.
    const DICT_MAX: usize = 158;

    /// ` word`, `word`, or one other character: how texts are cut into tokens.
    fn tokens(text: &str) -> Vec<&str> {
        let b = text.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            let start = i;
            if b[i] == b' ' {
                i += 1;
            }
            let word_start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'\'' || b[i] == b'_') {
                i += 1;
            }
            if i == word_start {
                i = (start + 1).max(i);
                if i == word_start && i < b.len() {
                    i += 1;
                }
            }
            out.push(&text[start..i]);
        }
        out
    }

    fn camel(name: &str) -> String {
        name.split('_')
            .map(|w| {
                let mut c = w.chars();
                match c.next() {
                    Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
                    None => String::new(),
                }
            })
            .collect()
    }

    pub fn generate() {
        let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
        let src = root.join("src").join("messages.txt");
        println!("cargo:rerun-if-changed={}", src.display());
        let text = std::fs::read_to_string(&src).unwrap();
        let mut entries: Vec<(String, String)> = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (name, msg) = line
                .split_once(" | ")
                .unwrap_or_else(|| panic!("messages.txt:{}: expected `name | text`", n + 1));
            let msg = msg.trim();
            assert!(
                msg.bytes().all(|b| (0x20..0x7f).contains(&b)),
                "messages.txt:{}: ASCII only",
                n + 1
            );
            // `name [host]`: said only on a computer (ports, FIFOs, files over 4 GiB); a
            // build without `std` (a board's firmware) leaves its text out.
            let (name, host_only) = match name.trim().strip_suffix("[host]") {
                Some(n) => (n.trim(), true),
                None => (name.trim(), false),
            };
            let msg = if host_only && env::var_os("CARGO_FEATURE_STD").is_none() {
                ""
            } else {
                msg
            };
            entries.push((name.to_string(), msg.replace("{}", "\u{1}")));
        }
        // The dictionary: tokens of two or more bytes, by bytes saved.
        let mut count: BTreeMap<&str, usize> = BTreeMap::new();
        for (_, msg) in &entries {
            for t in tokens(msg) {
                if t.len() >= 2 && !t.contains('\u{1}') {
                    *count.entry(t).or_default() += 1;
                }
            }
        }
        let mut ranked: Vec<(&str, usize)> = count
            .into_iter()
            .map(|(t, c)| (t, (t.len() - 1) * c))
            .filter(|&(t, saved)| saved > t.len() + 2)
            .collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let dict: Vec<&str> = ranked.iter().take(DICT_MAX).map(|&(t, _)| t).collect();
        let index: BTreeMap<&str, usize> = dict.iter().enumerate().map(|(i, t)| (*t, i)).collect();
        let mut bytes: Vec<u8> = Vec::new();
        let mut offsets: Vec<usize> = vec![0];
        for (_, msg) in &entries {
            for t in tokens(msg) {
                match index.get(t) {
                    Some(&i) if i < 128 => bytes.push(0x80 + i as u8),
                    Some(&i) => bytes.push(0x02 + (i - 128) as u8),
                    None if t == "\u{1}" => bytes.push(ARG),
                    None => bytes.extend(t.bytes().map(|b| if b == 1 { ARG } else { b })),
                }
            }
            offsets.push(bytes.len());
        }
        let mut dict_bytes = String::new();
        for t in &dict {
            dict_bytes.push_str(t);
        }
        let mut out = String::new();
        out.push_str("/// One sentence of `src/messages.txt`.\n#[derive(Debug, Clone, Copy, PartialEq, Eq)]\n#[allow(missing_docs)]\n#[repr(u16)]\npub enum Msg {\n");
        for (name, _) in &entries {
            let _ = writeln!(out, "    {},", camel(name));
        }
        out.push_str("}\n\n");
        let _ = writeln!(
            out,
            "/// The dictionary's words, one after the other.\nstatic DICT: &str = {:?};",
            dict_bytes
        );
        let dict_lens: Vec<u8> = dict.iter().map(|t| t.len() as u8).collect();
        let _ = writeln!(
            out,
            "/// The length of each word of [`DICT`].\nstatic DICT_LEN: [u8; {}] = {:?};",
            dict_lens.len(),
            dict_lens
        );
        let _ = writeln!(
            out,
            "/// The compressed sentences.\nstatic TEXT: [u8; {}] = {:?};",
            bytes.len(),
            bytes
        );
        let lens: Vec<u8> = offsets
            .windows(2)
            .map(|w| u8::try_from(w[1] - w[0]).expect("a message longer than 255 bytes"))
            .collect();
        let _ = writeln!(
            out,
            "/// The length of each sentence in [`TEXT`].\nstatic TEXT_LEN: [u8; {}] = {:?};",
            lens.len(),
            lens
        );
        let _ = writeln!(
            out,
            "/// Bytes of the catalogue as written, for the tests.\n#[cfg(test)]\nconst PLAIN_BYTES: usize = {};",
            entries.iter().map(|(_, m)| m.len()).sum::<usize>()
        );
        let _ = writeln!(
            out,
            "/// Every sentence and its text as written (`{{}}` for an argument), for the tests.\n#[cfg(test)]\nconst PLAIN: [(Msg, &str); {}] = [{}];",
            entries.len(),
            entries
                .iter()
                .map(|(n, m)| format!("(Msg::{}, {:?})", camel(n), m.replace('\u{1}', "{}")))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let dest = PathBuf::from(env::var("OUT_DIR").unwrap()).join("messages.rs");
        std::fs::write(dest, out).unwrap();
    }
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
        let out = PathBuf::from(env::var("OUT_DIR").unwrap());
        let wrapper = out.join("sqn_wrapper.h");
        let (flags, source) = match env::var("MICROPY_DIR") {
            Ok(dir) if !dir.trim().is_empty() => {
                let mp = PathBuf::from(dir);
                let mut flags = match env::var("SQN_BINDGEN_FLAGS") {
                    Ok(f) if !f.trim().is_empty() => split_words(&f).unwrap_or_else(|e| {
                        panic!("SQN_BINDGEN_FLAGS: {e}: {f}");
                    }),
                    _ => default_unix_flags(&mp),
                };
                clang_target(&mut flags);
                std::fs::write(
                    &wrapper,
                    "#include \"py/obj.h\"\n#include \"py/stream.h\"\n#include \"py/mphal.h\"\n#include \"py/mpprint.h\"\n#include \"sqn_glue.h\"\n",
                )
                .unwrap();
                (flags, format!("MicroPython's headers in {}", mp.display()))
            }
            _ => {
                // Without a MicroPython tree (`cargo check`/`clippy`/`doc --all-features`
                // on a fresh clone): the glue's own header and the one MicroPython function
                // the Rust side calls, with MicroPython's usual integer type. Enough to
                // type-check; a firmware build always passes MICROPY_DIR.
                println!(
                    "cargo:warning=MICROPY_DIR is not set: MicroPython bindings from mpy_glue/sqn_glue.h alone (type-checking only; `make micropython` builds the module)"
                );
                std::fs::write(
                    &wrapper,
                    "#include <stdint.h>\ntypedef uintptr_t mp_uint_t;\ntypedef intptr_t mp_int_t;\ntypedef void *mp_obj_t;\nmp_uint_t mp_hal_ticks_ms(void);\n#include \"sqn_glue.h\"\n",
                )
                .unwrap();
                (Vec::new(), "mpy_glue/sqn_glue.h".to_string())
            }
        };
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
            .unwrap_or_else(|e| panic!("bindgen over {source}: {e}"));
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
