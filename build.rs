//! Build script. With the `micropython` feature, bindgen runs over MicroPython's own
//! headers (the tree in `MICROPY_DIR`, with the port's flags in `SQN_BINDGEN_FLAGS`, as
//! `mpy_glue/micropython.mk` passes them) and over `mpy_glue/sqn_glue.h`, producing the
//! `micropython-sys`-style bindings of `src/mpy/`. Without the feature it does nothing.

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
        let flags = match env::var("SQN_BINDGEN_FLAGS") {
            Ok(f) if !f.trim().is_empty() => f.split_whitespace().map(String::from).collect(),
            _ => default_unix_flags(&mp),
        };
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
