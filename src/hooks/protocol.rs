//! `headerwheel hook`: the PEP 517 hooks as the Python shim
//! (`backend/headerwheel`) runs them, one process per hook.
//!
//! The conversation is JSON lines; stderr is the build log, untouched:
//!
//! ```text
//! shim ─► {"hook": ..., "source_dir": ..., "output_dir": ..., "config_settings": {...}, "interpreter": null}
//!     ◄─ {"need": "interpreter"}          only when the wheel compiles modules or shared libraries
//! shim ─► {"implementation": "cpython", ...}
//!     ◄─ {"result": "name-1.0-py3-none-any.whl"}    exit 0
//!   or ◄─ {"error": "module m: ..."}                exit 1
//! ```
//!
//! The shim gathers the interpreter's facts (`sysconfig`, a few
//! milliseconds) only when asked, so a pure-Python wheel never pays for
//! them, and the project is read once, by one process.
use std::io::{BufRead, Write};

use crate::hooks::{self, BuildError, Interpreter, Request};

/// One message to the shim.
#[derive(serde::Serialize)]
#[serde(rename_all = "lowercase")]
enum Reply<'a> {
    /// The hook needs the named facts (`interpreter`) before it can go on.
    Need(&'a str),
    /// The hook's return value.
    Result(&'a str),
    /// The build failed; the message says where and why.
    Error(&'a str),
}

fn send(reply: &Reply) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, reply)?;
    out.write_all(b"\n")?;
    out.flush()
}

/// The next JSON line from the shim.
fn receive<T: serde::de::DeserializeOwned>(
    input: &mut impl BufRead,
    what: &str,
) -> Result<T, String> {
    let mut line = String::new();
    match input.read_line(&mut line) {
        Ok(0) => Err(format!("the hook's input ended before {what}")),
        Ok(_) => serde_json::from_str(&line)
            .map_err(|e| format!("internal error: bad hook input ({what}): {e}")),
        Err(e) => Err(format!("reading {what}: {e}")),
    }
}

/// One run of the hook: its result, `None` when it needs the interpreter's
/// facts it was not given, or the error (a panic included).
fn attempt(req: &Request) -> Result<Option<String>, String> {
    crate::report::catch_panic(|| match hooks::run_hook(req) {
        Ok(result) => Ok(Some(result)),
        Err(BuildError::NeedInterpreter) if req.interpreter.is_none() => Ok(None),
        Err(e) => Err(e.to_string()),
    })?
}

/// Runs one hook conversation on stdin/stdout; returns the exit code.
pub fn run() -> i32 {
    let mut input = std::io::stdin().lock();
    let outcome = receive::<Request>(&mut input, "the request").and_then(|mut req| {
        if let Some(result) = attempt(&req)? {
            return Ok(result);
        }
        send(&Reply::Need("interpreter")).map_err(|e| format!("writing to the shim: {e}"))?;
        let facts: Interpreter = receive(&mut input, "the interpreter's facts")?;
        req.interpreter = Some(facts);
        attempt(&req)?
            .ok_or_else(|| "internal error: the interpreter's facts were asked for twice".into())
    });
    let (reply, code) = match &outcome {
        Ok(result) => (Reply::Result(result), 0),
        Err(message) => (Reply::Error(message), 1),
    };
    match send(&reply) {
        Ok(()) => code,
        // The shim has gone (it could not gather the facts): it reports.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => 1,
        Err(e) => {
            eprintln!("headerwheel: error: writing to the shim: {e}");
            1
        }
    }
}
