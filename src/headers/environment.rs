//! The compile environment the header stage shares with the compile: a CFFI
//! module includes `Python.h` before the library's headers, and
//! `pyconfig.h` defines feature-test macros (`_GNU_SOURCE`,
//! `_POSIX_C_SOURCE`, `_FILE_OFFSET_BITS`...) that change what the system
//! headers declare (glibc's `fd_set` has `fds_bits` under `_XOPEN_SOURCE`,
//! `__fds_bits` without) and what a library's headers choose. The headers
//! are parsed with the same macros, so layouts and declarations agree.

/// The feature-test macros taken from `pyconfig.h`: the ones that select
/// what system and library headers declare (not Python's own `HAVE_*`).
pub const FEATURE_MACROS: &[&str] = &[
    "_ALL_SOURCE",
    "_BSD_SOURCE",
    "_DARWIN_C_SOURCE",
    "_DEFAULT_SOURCE",
    "_FILE_OFFSET_BITS",
    "_GNU_SOURCE",
    "_INCLUDE__STDC_A1_SOURCE",
    "_LARGEFILE64_SOURCE",
    "_LARGEFILE_SOURCE",
    "_LARGE_FILES",
    "_MINIX",
    "_NETBSD_SOURCE",
    "_POSIX_1_SOURCE",
    "_POSIX_C_SOURCE",
    "_POSIX_PTHREAD_SEMANTICS",
    "_POSIX_SOURCE",
    "_REENTRANT",
    "_TANDEM_SOURCE",
    "_THREAD_SAFE",
    "_TIME_BITS",
    "_XOPEN_SOURCE",
    "_XOPEN_SOURCE_EXTENDED",
    "__BSD_VISIBLE",
    "__EXTENSIONS__",
];

/// The `-D` definitions (`NAME=VALUE`) of the feature-test macros that
/// `pyconfig` (the text of a `pyconfig.h`) defines, in its order, each once.
/// A commented-out `/* #undef X */` defines nothing.
pub fn feature_defines(pyconfig: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for line in pyconfig.lines() {
        let Some(rest) = line.trim_start().strip_prefix('#') else {
            continue;
        };
        let Some(rest) = rest.trim_start().strip_prefix("define") else {
            continue;
        };
        if !rest.starts_with([' ', '\t']) {
            continue;
        }
        let mut words = rest.split_whitespace();
        let Some(name) = words.next() else { continue };
        if !FEATURE_MACROS.contains(&name) || !seen.insert(name.to_string()) {
            continue;
        }
        // The value up to a comment.
        let value: Vec<&str> = words.take_while(|w| !w.starts_with("/*")).collect();
        out.push(if value.is_empty() {
            name.to_string()
        } else {
            format!("{name}={}", value.join(" "))
        });
    }
    out
}

/// The feature-test macros `pyconfig` defines only when they are not
/// defined already (`#ifndef _GNU_SOURCE` / `# define _GNU_SOURCE 1`): a
/// command line's own definition stands.
pub fn guarded_names(pyconfig: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut guard: Option<&str> = None;
    for line in pyconfig.lines() {
        let Some(rest) = line.trim_start().strip_prefix('#') else {
            continue;
        };
        let rest = rest.trim_start();
        if let Some(n) = rest.strip_prefix("ifndef") {
            guard = n.split_whitespace().next();
        } else if let Some(d) = rest.strip_prefix("define") {
            let name = d.split_whitespace().next();
            if let Some(n) = name.filter(|n| Some(*n) == guard && FEATURE_MACROS.contains(n)) {
                out.push(n.to_string());
            }
            guard = None;
        } else {
            guard = None;
        }
    }
    out
}

/// The header a multiarch wrapper `pyconfig.h` (Debian's: `#include
/// <x86_64-linux-gnu/python3.11/pyconfig.h>` under `#if`s per machine)
/// includes for the machine `arch` (`x86_64`), if it is such a wrapper.
pub fn multiarch_include(pyconfig: &str, arch: &str) -> Option<String> {
    let prefix = format!("{arch}-");
    pyconfig.lines().find_map(|line| {
        let rest = line.trim_start().strip_prefix('#')?.trim_start();
        let target = rest.strip_prefix("include")?.trim();
        let target = target
            .strip_prefix('<')
            .and_then(|t| t.strip_suffix('>'))
            .or_else(|| target.strip_prefix('"').and_then(|t| t.strip_suffix('"')))?;
        (target.starts_with(&prefix) && target.ends_with("/pyconfig.h")).then(|| target.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guarded_feature_macros() {
        let text = "#ifndef _GNU_SOURCE\n# define _GNU_SOURCE 1\n#endif\n\
            #define _XOPEN_SOURCE 700\n#ifndef X\n#define _ALL_SOURCE 1\n#endif\n";
        assert_eq!(guarded_names(text), ["_GNU_SOURCE"]);
    }

    #[test]
    fn the_machines_header_of_a_multiarch_wrapper() {
        let text = "#if defined(__linux__)\n# if defined(__x86_64__) && defined(__LP64__)\n\
            #  include <x86_64-linux-gnu/python3.11/pyconfig.h>\n# elif defined(__x86_64__) && defined(__ILP32__)\n\
            #  include <x86_64-linux-gnux32/python3.11/pyconfig.h>\n# elif defined(__aarch64__)\n\
            #  include <aarch64-linux-gnu/python3.11/pyconfig.h>\n# endif\n#endif\n";
        assert_eq!(
            multiarch_include(text, "x86_64").as_deref(),
            Some("x86_64-linux-gnu/python3.11/pyconfig.h")
        );
        assert_eq!(
            multiarch_include(text, "aarch64").as_deref(),
            Some("aarch64-linux-gnu/python3.11/pyconfig.h")
        );
        assert_eq!(multiarch_include("#define _GNU_SOURCE 1\n", "x86_64"), None);
    }

    #[test]
    fn the_feature_macros_of_a_pyconfig_h() {
        let text = "/* #undef _BSD_SOURCE */\n#define _DARWIN_C_SOURCE 1\n\
            #define _FILE_OFFSET_BITS 64\n#ifndef _GNU_SOURCE\n# define _GNU_SOURCE 1\n#endif\n\
            #define HAVE_FORK 1\n#define _POSIX_C_SOURCE 200809L /* IEEE */\n\
            #define _XOPEN_SOURCE 700\n#define _XOPEN_SOURCE 600\n#define _REENTRANT\n#defined _TIME_BITS 64\n";
        assert_eq!(
            feature_defines(text),
            [
                "_DARWIN_C_SOURCE=1",
                "_FILE_OFFSET_BITS=64",
                "_GNU_SOURCE=1",
                "_POSIX_C_SOURCE=200809L",
                "_XOPEN_SOURCE=700",
                "_REENTRANT",
            ]
        );
    }
}
