//! The command line's own surface: `--version`, each command's `--help`,
//! and usage errors (an unknown command, a missing argument) exiting 2 with
//! an error line that names what was wrong.

use std::process::{Command, Output};

fn headerwheel(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_headerwheel"))
        .args(args)
        .output()
        .expect("run headerwheel")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn version_prints_the_name_and_the_crate_version() {
    let o = headerwheel(&["--version"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        format!("headerwheel {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn every_command_has_help() {
    for cmd in [
        &["gen-src"][..],
        &["gen-src", "read-sources"],
        &["generate"],
        &["inspect"],
        &["stubs"],
        &["cache"],
        &["cache", "verify"],
        &["cache", "gc"],
        &["cache", "status"],
        &["cache", "merge"],
        &["cache", "populate"],
        &["cache", "import-headerkit"],
        &["init"],
        &["migrate"],
    ] {
        let mut args = cmd.to_vec();
        args.push("--help");
        let o = headerwheel(&args);
        assert_eq!(o.status.code(), Some(0), "{cmd:?}: {}", stderr(&o));
        let out = stdout(&o);
        assert!(
            out.contains(&format!("Usage: headerwheel {}", cmd.join(" "))),
            "{cmd:?}:\n{out}"
        );
    }
}

#[test]
fn the_top_level_help_lists_the_commands_but_not_hook() {
    let o = headerwheel(&["--help"]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    for cmd in [
        "gen-src", "generate", "inspect", "stubs", "cache", "init", "migrate",
    ] {
        assert!(out.contains(&format!("  {cmd} ")), "{cmd}:\n{out}");
    }
    assert!(!out.contains("hook"), "{out}");
}

#[test]
fn an_unknown_command_exits_2_naming_it() {
    let o = headerwheel(&["frobnicate"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.lines()
            .next()
            .is_some_and(|l| l.starts_with("error:") && l.contains("'frobnicate'")),
        "{err}"
    );
}

#[test]
fn an_unknown_option_exits_2_naming_it() {
    let o = headerwheel(&["migrate", "--frobnicate"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("'--frobnicate'"), "{}", stderr(&o));
}

#[test]
fn a_missing_argument_exits_2_naming_it() {
    for (args, missing) in [
        (&["generate"][..], "<HEADER>"),
        (&["init"], "<HEADER>"),
        (&["stubs", "m"], "<CDEF>"),
        (&["cache", "merge"], "<FROM>"),
        (&["cache", "import-headerkit"], "<STORE>"),
    ] {
        let o = headerwheel(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = stderr(&o);
        assert!(
            err.starts_with("error: the following required arguments were not provided")
                && err.contains(missing),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn gen_src_checks_its_files_for_the_mode() {
    let o = headerwheel(&["gen-src", "read-sources", "m", "x.cdef", "out.c"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).starts_with("error: API mode reads MODULE CDEF CSRC OUT"));
    let o = headerwheel(&["gen-src", "read-sources", "--abi", "m", "x.cdef", "c", "o"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).starts_with("error: ABI mode reads MODULE CDEF OUT"));
    let o = headerwheel(&["gen-src"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).starts_with("error: give `read-sources"));
}

#[test]
fn no_command_prints_the_help_and_exits_2() {
    let o = headerwheel(&[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("Usage: headerwheel <COMMAND>"));
}

#[cfg(unix)]
#[test]
fn an_argument_that_is_not_utf8_exits_2() {
    use std::os::unix::ffi::OsStrExt;
    let o = Command::new(env!("CARGO_BIN_EXE_headerwheel"))
        .arg("generate")
        .arg(std::ffi::OsStr::from_bytes(b"h\xe9.h"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).starts_with("headerwheel: argument is not valid UTF-8"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_command_error_exits_1_with_headerwheels_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.cdef");
    let o = headerwheel(&["stubs", "m", missing.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).starts_with(&format!("headerwheel: error: {}: ", missing.display())),
        "{}",
        stderr(&o)
    );
}
