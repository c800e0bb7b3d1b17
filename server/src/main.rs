// Request paths and commands report failures as errors; a panic is for tests only.
#![cfg_attr(not(test), deny(clippy::expect_used, clippy::panic))]

fn main() -> std::process::ExitCode {
    server::cli::main()
}
