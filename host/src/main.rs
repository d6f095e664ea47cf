//! The `sqnsupgrade` command: see [`sqnsupgrade_host::cli`].

fn main() -> std::process::ExitCode {
    sqnsupgrade_host::cli::main(std::env::args_os())
}
