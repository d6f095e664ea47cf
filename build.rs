//! Build script.
//!
//! Always: the message catalogue `src/messages.txt` becomes `$OUT_DIR/messages.rs` (the
//! `Msg` enum, the byte-pair codes and the compressed texts; see
//! `src/msg.rs`).
//!
//! With the `micropython` feature, bindgen runs over MicroPython's own
//! headers (the tree in `MICROPY_DIR`, with the port's flags in `SQN_BINDGEN_FLAGS`, as
//! `mpy_glue/micropython.mk` passes them) and over `mpy_glue/sqn_glue.h`, producing the
//! `micropython-sys`-style bindings of `src/mpy/`. Without the feature it does nothing.
//!
//! `SQN_BINDGEN_FLAGS` is split as a POSIX shell splits words (the `shlex` crate), so
//! quoted defines from a port's CFLAGS keep their quotes:
//! `-DMP_CONFIGFILE='"board/mpconfigboard.h"'` reaches clang as
//! `-DMP_CONFIGFILE="board/mpconfigboard.h"`. For a cross target the flags must say which
//! target clang parses for (`--target=...`, with that target's C headers); for the
//! Cortex-M targets (`thumb*`) the Rust target name is added when they do not.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    messages::generate();
    #[cfg(feature = "micropython")]
    micropython::generate();
}

/// The message catalogue, compressed by byte-pair encoding: each sentence is a string of
/// one-byte symbols; a symbol below `LEAF.len()` is a character (symbol 0: the next
/// argument), any other below 255 stands for a pair of symbols (`DICT`), which may be pairs
/// again. The pairs are chosen here, most frequent first, as long as one saves bytes (up to
/// the 255 symbols a byte holds besides 255), and nest at most `MAX_DEPTH` deep (the
/// decoder's stack). Then a run of 4 to 19 symbols already in the text (of an earlier
/// sentence or earlier in the same one) is written as 255 and two bytes: where it is in
/// `TEXT` (12 bits) and its length - 4 (4 bits); such a run holds no argument and no other
/// run.
mod messages {
    use std::collections::BTreeMap;
    use std::env;
    use std::fmt::Write as _;
    use std::path::PathBuf;

    /// The argument's place in a sentence as read (`{}`), and its symbol.
    const ARG: u8 = 0x01;
    /// The deepest nesting of pairs (the decoder keeps one symbol per level).
    const MAX_DEPTH: usize = 12;
    /// The symbol of a repeated run: 255, then its place and length in two bytes.
    const REPEAT: usize = 255;
    /// The shortest and the longest repeated run.
    const RUN_MIN: usize = 4;
    const RUN_MAX: usize = RUN_MIN + 15;

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

    /// Replaces every `pair` in `seq` (left to right) by `code`; returns how many.
    fn replace(seq: &mut Vec<usize>, pair: (usize, usize), code: usize) -> usize {
        let mut out = Vec::with_capacity(seq.len());
        let mut n = 0;
        let mut i = 0;
        while i < seq.len() {
            if i + 1 < seq.len() && (seq[i], seq[i + 1]) == pair {
                out.push(code);
                n += 1;
                i += 2;
            } else {
                out.push(seq[i]);
                i += 1;
            }
        }
        *seq = out;
        n
    }

    pub fn generate() {
        let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
        let src = root.join("src").join("messages.txt");
        println!("cargo:rerun-if-changed={}", src.display());
        let text = std::fs::read_to_string(&src).unwrap();
        let mut entries: Vec<(String, String, bool)> = Vec::new();
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
            let msg = if host_only && env::var_os("CARGO_FEATURE_HOST").is_none() {
                ""
            } else {
                msg
            };
            entries.push((name.to_string(), msg.replace("{}", "\u{1}"), host_only));
        }
        // The computer's sentences last: a board's build (their texts left out) then drops
        // their lengths too, after the last sentence it says.
        entries.sort_by_key(|&(_, _, host_only)| host_only);
        let entries: Vec<(String, String)> = entries.into_iter().map(|(n, m, _)| (n, m)).collect();
        // The characters: symbol 0 is the argument, then every character used, in order.
        let mut leaves: Vec<u8> = vec![ARG];
        for c in 0x20..0x7fu8 {
            if entries.iter().any(|(_, m)| m.as_bytes().contains(&c)) {
                leaves.push(c);
            }
        }
        let symbol: BTreeMap<u8, usize> = leaves.iter().enumerate().map(|(i, &c)| (c, i)).collect();
        let mut seqs: Vec<Vec<usize>> = entries
            .iter()
            .map(|(_, m)| m.bytes().map(|b| symbol[&b]).collect())
            .collect();
        // The pairs, most frequent first (ties: the smallest pair), never with the argument
        // in them (the decoder meets it only between pairs).
        let mut depth: Vec<usize> = vec![0; leaves.len()];
        let mut pairs: Vec<(usize, usize)> = Vec::new();
        while leaves.len() + pairs.len() < REPEAT {
            let mut count: BTreeMap<(usize, usize), usize> = BTreeMap::new();
            for seq in &seqs {
                for w in seq.windows(2) {
                    let (a, b) = (w[0], w[1]);
                    if a != 0 && b != 0 && depth[a].max(depth[b]) < MAX_DEPTH {
                        *count.entry((a, b)).or_default() += 1;
                    }
                }
            }
            let mut best: Option<((usize, usize), usize)> = None;
            for (&p, &n) in &count {
                if best.is_none_or(|(_, m)| n > m) {
                    best = Some((p, n));
                }
            }
            // A pair costs two bytes of DICT: it must save more.
            let Some((pair, n)) = best.filter(|&(_, n)| n > 2) else {
                break;
            };
            let code = leaves.len() + pairs.len();
            let replaced: usize = seqs.iter_mut().map(|s| replace(s, pair, code)).sum();
            assert!(replaced <= n && replaced > 0);
            pairs.push(pair);
            depth.push(depth[pair.0].max(depth[pair.1]) + 1);
        }
        let stack = depth.iter().copied().max().unwrap_or(0).max(1);
        // The runs: the longest earlier run of plain symbols (no argument, no run) that a
        // sentence goes on with, where the two bytes can say (the first 4096 bytes).
        let mut bytes: Vec<u8> = Vec::new();
        let mut plain: Vec<bool> = Vec::new();
        let mut lens: Vec<u8> = Vec::new();
        for seq in &seqs {
            let start = bytes.len();
            let mut i = 0;
            while i < seq.len() {
                let (mut at, mut best) = (0, 0);
                for j in 0..bytes.len().min(4096) {
                    let mut k = 0;
                    while k < RUN_MAX
                        && i + k < seq.len()
                        && j + k < bytes.len()
                        && plain[j + k]
                        && seq[i + k] != 0
                        && usize::from(bytes[j + k]) == seq[i + k]
                    {
                        k += 1;
                    }
                    if k > best {
                        (at, best) = (j, k);
                    }
                }
                if best >= RUN_MIN {
                    bytes.extend([
                        REPEAT as u8,
                        (at >> 4) as u8,
                        ((at & 15) << 4 | (best - RUN_MIN)) as u8,
                    ]);
                    plain.extend([false; 3]);
                    i += best;
                } else {
                    bytes.push(u8::try_from(seq[i]).unwrap());
                    plain.push(true);
                    i += 1;
                }
            }
            lens.push(u8::try_from(bytes.len() - start).expect("a message longer than 255 bytes"));
        }
        // Sentences past the end of `TEXT_LEN` are empty (`msg::bytes`).
        while lens.last() == Some(&0) {
            lens.pop();
        }
        let dict: Vec<u8> = pairs
            .iter()
            .flat_map(|&(a, b)| [a as u8, b as u8])
            .collect();
        let mut out = String::new();
        out.push_str("/// One sentence of `src/messages.txt`.\n#[derive(Debug, Clone, Copy, PartialEq, Eq)]\n#[allow(missing_docs)]\n#[repr(u16)]\npub enum Msg {\n");
        for (name, _) in &entries {
            let _ = writeln!(out, "    {},", camel(name));
        }
        out.push_str("}\n\n");
        let _ = writeln!(
            out,
            "/// The character of each symbol below `LEAF.len()` (symbol 0: the argument).\nstatic LEAF: [u8; {}] = {:?};",
            leaves.len(),
            leaves
        );
        let _ = writeln!(
            out,
            "/// The two symbols of each symbol from `LEAF.len()` on, one pair after the other.\nstatic DICT: [u8; {}] = {:?};",
            dict.len(),
            dict
        );
        let _ = writeln!(
            out,
            "/// How deep the pairs nest: the decoder's stack.\nconst STACK: usize = {stack};"
        );
        let _ = writeln!(
            out,
            "/// The compressed sentences.\nstatic TEXT: [u8; {}] = {:?};",
            bytes.len(),
            bytes
        );
        let _ = writeln!(
            out,
            "/// The length of each sentence in [`TEXT`] (a board's has none for the computer's\n/// sentences, which come last: they are empty).\nstatic TEXT_LEN: [u8; {}] = {:?};",
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
        println!("cargo:rerun-if-changed=mpy_glue/sqn_schema.h");
        let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
        let out = PathBuf::from(env::var("OUT_DIR").unwrap());
        let wrapper = out.join("sqn_wrapper.h");
        let (flags, source) = match env::var("MICROPY_DIR") {
            Ok(dir) if !dir.trim().is_empty() => {
                let mp = PathBuf::from(dir);
                let mut flags = match env::var("SQN_BINDGEN_FLAGS") {
                    Ok(f) if !f.trim().is_empty() => shlex::split(&f).unwrap_or_else(|| {
                        panic!(
                            "SQN_BINDGEN_FLAGS: an unbalanced quote or a trailing backslash: {f}"
                        );
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
