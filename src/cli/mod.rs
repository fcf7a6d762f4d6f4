//! The `headerwheel` command line: `gen-src`, `generate`, `inspect`, `cache ...`.
use std::ffi::OsString;

pub mod case;

/// Runs the command line with `args` (without the program name); returns the exit code.
pub fn main(args: Vec<OsString>) -> i32 {
    let _ = args;
    eprintln!("headerwheel: no command yet");
    2
}
