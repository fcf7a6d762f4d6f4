//! Portable wheels: which platform tag a built extension deserves.
//!
//! [`elf`] reads what each shared object asks of the dynamic loader;
//! [`policy`] states the manylinux baselines; [`platform_tag`] picks the most
//! compatible baseline every ELF file of a wheel satisfies, as
//! `auditwheel show` judges it (libraries outside a baseline's allowed set
//! count against it unless they are inside the wheel).

pub mod bundle;
pub mod elf;
pub mod macho;
pub mod policy;

use std::collections::{BTreeMap, BTreeSet};

use elf::ElfInfo;
use policy::Policy;

use crate::wheel::tags::Platform;

/// The platform part of a wheel tag, with why it was chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformTag {
    /// The tags, most specific first, e.g. `["manylinux_2_17_x86_64",
    /// "manylinux2014_x86_64"]` or `["linux_x86_64"]`.
    pub tags: Vec<String>,
    /// Human-readable reasons the tag is not more compatible than it is.
    pub constraints: Vec<String>,
}

impl PlatformTag {
    /// A manylinux baseline newer than `host_glibc` (`"2.36"`, the glibc of
    /// the machine that builds) becomes `linux_{arch}`: auditwheel's policy
    /// may ask for a newer baseline than the glibc version says (zlib's
    /// crc32_combine_gen, exported by newer zlib builds, is allowed from
    /// manylinux_2_37 on), and pip refuses such a wheel where it was built.
    pub fn cap_at_host_glibc(&mut self, arch: &str, host_glibc: &str) {
        let host_minor = host_glibc
            .strip_prefix("2.")
            .and_then(|m| m.split('.').next())
            .and_then(|m| m.parse::<u32>().ok());
        let tag_minor = self.tags[0]
            .strip_prefix("manylinux_2_")
            .and_then(|r| r.split('_').next())
            .and_then(|m| m.parse::<u32>().ok());
        if let (Some(h), Some(t)) = (host_minor, tag_minor)
            && t > h
        {
            self.constraints.push(format!(
                "{} is newer than this machine's glibc {host_glibc}",
                self.tags[0]
            ));
            self.tags = vec![format!("linux_{arch}")];
        }
    }

    /// The compressed tag set for the wheel file name (`a.b`).
    pub fn compressed(&self) -> String {
        self.tags.join(".")
    }

    /// The tags as [`Platform`]s, for a [`crate::wheel::tags::WheelTag`].
    pub fn platforms(&self) -> Vec<Platform> {
        self.tags
            .iter()
            .map(|t| t.parse().unwrap_or_else(|_| Platform::Other(t.clone())))
            .collect()
    }
}

/// The C library a binary targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Libc {
    /// glibc: manylinux tags.
    Glibc,
    /// musl with its (major, minor) version: musllinux tags.
    Musl(u32, u32),
}

fn is_loader(soname: &str) -> bool {
    soname.contains("ld-linux")
        || soname == "ld64.so.2"
        || soname == "ld64.so.1"
        || soname.starts_with("ld-musl")
}

/// Whether the ELF file targets musl (by its interpreter or its libc).
pub fn uses_musl(info: &ElfInfo) -> bool {
    info.interp
        .as_deref()
        .is_some_and(|i| i.contains("ld-musl"))
        || info.needed.iter().any(|n| n.starts_with("libc.musl-"))
}

/// Why `policy` does not fit the wheel's ELF files, or `None` if it fits.
/// `bundled` are the sonames of libraries shipped inside the wheel.
fn policy_misfit(policy: &Policy, elves: &[ElfInfo], bundled: &BTreeSet<String>) -> Option<String> {
    let mut external = BTreeSet::new();
    let mut versions = BTreeMap::<String, BTreeSet<String>>::new();
    let mut blacklisted = BTreeSet::new();
    for e in elves {
        for lib in &e.needed {
            if !is_loader(lib) && !policy.allows_library(lib) && !bundled.contains(lib) {
                external.insert(lib.clone());
            }
            for sym in policy.blacklist(lib) {
                if e.undefined_symbols.contains(sym) {
                    blacklisted.insert(format!("{lib}: {sym}"));
                }
            }
        }
        for (lib, vs) in &e.version_needs {
            if is_loader(lib) {
                continue;
            }
            for v in vs {
                if !policy.allows_symbol_version(v) {
                    versions.entry(lib.clone()).or_default().insert(v.clone());
                }
            }
        }
    }
    if !external.is_empty() {
        let list: Vec<_> = external.into_iter().collect();
        return Some(format!(
            "{} needs libraries outside the wheel that it does not allow: {}",
            policy.name,
            list.join(", ")
        ));
    }
    if !versions.is_empty() {
        let list: Vec<String> = versions
            .iter()
            .map(|(lib, vs)| {
                format!(
                    "{lib} ({})",
                    vs.iter().cloned().collect::<Vec<_>>().join(", ")
                )
            })
            .collect();
        return Some(format!(
            "{} lacks the symbol versions {}",
            policy.name,
            list.join("; ")
        ));
    }
    if !blacklisted.is_empty() {
        let list: Vec<_> = blacklisted.into_iter().collect();
        return Some(format!(
            "{} forbids importing {}",
            policy.name,
            list.join(", ")
        ));
    }
    None
}

/// The most compatible platform tag for a wheel holding `elves` (every ELF
/// file of the wheel: extension modules and bundled libraries), built for
/// `arch` (`x86_64`, ...) against `libc`. `bundled` lists the sonames of the
/// libraries shipped inside the wheel.
pub fn platform_tag(
    arch: &str,
    libc: Libc,
    elves: &[ElfInfo],
    bundled: &BTreeSet<String>,
) -> PlatformTag {
    let linux = || vec![format!("linux_{arch}")];
    let mut constraints = Vec::new();
    if elves
        .iter()
        .any(|e| e.undefined_symbols.contains("PyFPE_jbuf"))
    {
        constraints.push("uses PyFPE_jbuf, which no manylinux or musllinux tag allows".to_string());
        return PlatformTag {
            tags: linux(),
            constraints,
        };
    }
    match libc {
        Libc::Musl(major, minor) => {
            let allowed =
                |lib: &str| lib == "libc.so" || lib.starts_with("libc.musl-") || lib == "libz.so.1";
            let external: Vec<&String> = elves
                .iter()
                .flat_map(|e| &e.needed)
                .filter(|l| !is_loader(l) && !allowed(l) && !bundled.contains(*l))
                .collect();
            if external.is_empty() {
                PlatformTag {
                    tags: vec![format!("musllinux_{major}_{minor}_{arch}")],
                    constraints,
                }
            } else {
                let list: Vec<&str> = external.iter().map(|s| s.as_str()).collect();
                constraints.push(format!(
                    "needs libraries outside the wheel: {}",
                    list.join(", ")
                ));
                PlatformTag {
                    tags: linux(),
                    constraints,
                }
            }
        }
        Libc::Glibc => {
            // The reason the next more compatible baseline did not fit is
            // what constrains the tag.
            let mut last_misfit = None;
            for policy in policies_most_compatible_first(arch) {
                match policy_misfit(&policy, elves, bundled) {
                    None => {
                        let mut tags = vec![policy.name.clone()];
                        tags.extend(policy.alias.clone());
                        constraints.extend(last_misfit);
                        return PlatformTag { tags, constraints };
                    }
                    Some(why) => last_misfit = Some(why),
                }
            }
            constraints.push(
                last_misfit.unwrap_or_else(|| format!("no manylinux policy is known for {arch}")),
            );
            PlatformTag {
                tags: linux(),
                constraints,
            }
        }
    }
}

fn policies_most_compatible_first(arch: &str) -> Vec<Policy> {
    let mut p = policy::policies(arch);
    p.sort_by_key(|p| std::cmp::Reverse(p.priority));
    p
}

#[cfg(test)]
mod tests;

/// The symbols a built module requires that nothing it loads defines: not
/// its needed libraries (transitively, found as the dynamic linker would
/// find them, `library_dirs` first), nor the interpreter (`python`, with
/// the libpython it links, when given; else any `Py`/`_Py` name). Importing
/// the module would fail with "undefined symbol". Libraries that cannot be
/// found are not guessed at: their symbols count as present.
pub fn unresolved_imports(
    module: &elf::ElfInfo,
    library_dirs: &[std::path::PathBuf],
    python: Option<&std::path::Path>,
) -> Vec<String> {
    use std::collections::BTreeSet;
    let search = bundle::SearchPath::of_this_machine(library_dirs.to_vec());
    let mut defined: BTreeSet<String> = BTreeSet::new();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut unknown_library = false;
    // (an ELF's facts, the directory it was found in)
    let mut todo: Vec<(elf::ElfInfo, std::path::PathBuf)> = Vec::new();
    let mut push_needed =
        |info: &elf::ElfInfo, origin: &std::path::Path, todo: &mut Vec<_>, unknown: &mut bool| {
            for soname in &info.needed {
                if !seen.insert(soname.clone()) {
                    continue;
                }
                match search
                    .find(soname, info, origin)
                    .and_then(|p| Some((std::fs::read(&p).ok()?, p)))
                {
                    Some((data, p)) => match elf::read_elf(&data) {
                        Ok(i) => todo.push((
                            i,
                            p.parent()
                                .map(std::path::Path::to_path_buf)
                                .unwrap_or_default(),
                        )),
                        Err(_) => *unknown = true,
                    },
                    None => *unknown = true,
                }
            }
        };
    push_needed(
        module,
        std::path::Path::new("."),
        &mut todo,
        &mut unknown_library,
    );
    let mut python_known = false;
    if let Some(exe) = python.and_then(|p| p.canonicalize().ok())
        && let Some(info) = std::fs::read(&exe)
            .ok()
            .and_then(|d| elf::read_elf(&d).ok())
    {
        defined.extend(info.defined_symbols.iter().cloned());
        let dir = exe
            .parent()
            .map(std::path::Path::to_path_buf)
            .unwrap_or_default();
        push_needed(&info, &dir, &mut todo, &mut unknown_library);
        python_known = true;
    }
    while let Some((info, dir)) = todo.pop() {
        defined.extend(info.defined_symbols.iter().cloned());
        push_needed(&info, &dir, &mut todo, &mut unknown_library);
    }
    if unknown_library {
        return Vec::new();
    }
    module
        .required_symbols
        .iter()
        .filter(|s| !defined.contains(*s))
        .filter(|s| python_known || !(s.starts_with("Py") || s.starts_with("_Py")))
        .cloned()
        .collect()
}
