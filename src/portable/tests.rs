use super::*;

fn elf(needed: &[&str], versions: &[(&str, &[&str])], undefined: &[&str]) -> ElfInfo {
    ElfInfo {
        machine: 62,
        is_64: true,
        needed: needed.iter().map(|s| s.to_string()).collect(),
        version_needs: versions
            .iter()
            .map(|(lib, vs)| (lib.to_string(), vs.iter().map(|v| v.to_string()).collect()))
            .collect(),
        undefined_symbols: undefined.iter().map(|s| s.to_string()).collect(),
        ..ElfInfo::default()
    }
}

fn tag_of(elves: &[ElfInfo]) -> String {
    platform_tag("x86_64", Libc::Glibc, elves, &BTreeSet::new()).tags[0].clone()
}

#[test]
fn old_glibc_symbols_give_manylinux1() {
    let e = elf(
        &["libc.so.6"],
        &[("libc.so.6", &["GLIBC_2.2.5"])],
        &["malloc"],
    );
    let t = platform_tag("x86_64", Libc::Glibc, &[e], &BTreeSet::new());
    assert_eq!(t.tags, ["manylinux_2_5_x86_64", "manylinux1_x86_64"]);
    assert_eq!(t.compressed(), "manylinux_2_5_x86_64.manylinux1_x86_64");
}

#[test]
fn each_baseline_is_chosen_just_above_and_refused_just_below() {
    // (required GLIBC version, expected baseline)
    let cases = [
        ("GLIBC_2.5", "manylinux_2_5_x86_64"),
        ("GLIBC_2.6", "manylinux_2_12_x86_64"),
        ("GLIBC_2.12", "manylinux_2_12_x86_64"),
        ("GLIBC_2.14", "manylinux_2_17_x86_64"),
        ("GLIBC_2.17", "manylinux_2_17_x86_64"),
        ("GLIBC_2.18", "manylinux_2_24_x86_64"),
        ("GLIBC_2.25", "manylinux_2_26_x86_64"),
        ("GLIBC_2.27", "manylinux_2_27_x86_64"),
        ("GLIBC_2.28", "manylinux_2_28_x86_64"),
        ("GLIBC_2.29", "manylinux_2_31_x86_64"),
        ("GLIBC_2.33", "manylinux_2_34_x86_64"),
        ("GLIBC_2.34", "manylinux_2_34_x86_64"),
        ("GLIBC_2.35", "manylinux_2_35_x86_64"),
        ("GLIBC_ABI_DT_RELR", "manylinux_2_36_x86_64"),
        ("GLIBC_2.38", "manylinux_2_38_x86_64"),
        ("GLIBC_2.41", "manylinux_2_41_x86_64"),
        ("GLIBC_2.42", "linux_x86_64"),
        ("GLIBC_PRIVATE", "linux_x86_64"),
    ];
    for (version, expected) in cases {
        let e = elf(
            &["libc.so.6"],
            &[("libc.so.6", &["GLIBC_2.2.5", version])],
            &[],
        );
        assert_eq!(tag_of(&[e]), expected, "for {version}");
    }
}

#[test]
fn cxx_runtime_versions_constrain_too() {
    let e = elf(
        &["libstdc++.so.6", "libc.so.6"],
        &[
            ("libstdc++.so.6", &["GLIBCXX_3.4.21", "CXXABI_1.3"]),
            ("libc.so.6", &["GLIBC_2.2.5"]),
        ],
        &[],
    );
    assert_eq!(tag_of(&[e]), "manylinux_2_24_x86_64");
    let tm = elf(
        &["libstdc++.so.6"],
        &[("libstdc++.so.6", &["CXXABI_TM_1"])],
        &[],
    );
    assert_eq!(tag_of(&[tm]), "manylinux_2_17_x86_64");
}

#[test]
fn versions_of_other_libraries_do_not_matter() {
    let e = elf(
        &["libc.so.6", "libz.so.1"],
        &[("libz.so.1", &["ZLIB_1.2.9"]), ("libnng.so.1", &["NNG_1"])],
        &[],
    );
    assert_eq!(tag_of(&[e]), "manylinux_2_27_x86_64");
}

#[test]
fn an_unbundled_external_library_means_linux_and_says_which() {
    let e = elf(
        &["libnng.so.1", "libc.so.6"],
        &[("libc.so.6", &["GLIBC_2.2.5"])],
        &[],
    );
    let t = platform_tag(
        "x86_64",
        Libc::Glibc,
        std::slice::from_ref(&e),
        &BTreeSet::new(),
    );
    assert_eq!(t.tags, ["linux_x86_64"]);
    assert!(
        t.constraints[0].contains("libnng.so.1"),
        "{:?}",
        t.constraints
    );
    // Bundled inside the wheel, the library's own needs count instead.
    let lib = elf(
        &["libc.so.6"],
        &[("libc.so.6", &["GLIBC_2.2.5", "GLIBC_2.33"])],
        &[],
    );
    let bundled = BTreeSet::from(["libnng.so.1".to_string()]);
    let t = platform_tag("x86_64", Libc::Glibc, &[e, lib], &bundled);
    assert_eq!(t.tags, ["manylinux_2_34_x86_64"]);
    assert!(
        t.constraints[0].contains("GLIBC_2.33"),
        "{:?}",
        t.constraints
    );
}

#[test]
fn blacklisted_symbols_lower_the_tag() {
    let e = elf(
        &["libc.so.6"],
        &[("libc.so.6", &["GLIBC_2.2.5"])],
        &["__cxa_thread_atexit_impl"],
    );
    assert_eq!(tag_of(&[e]), "manylinux_2_24_x86_64");
    let z = elf(&["libz.so.1"], &[], &["uncompress2"]);
    assert_eq!(tag_of(&[z]), "manylinux_2_34_x86_64");
    let z = elf(&["libz.so.1"], &[], &["inflate_fast"]);
    assert_eq!(tag_of(&[z]), "linux_x86_64");
}

#[test]
fn musl_and_pyfpe() {
    let mut e = elf(&["libc.musl-x86_64.so.1"], &[], &[]);
    e.interp = Some("/lib/ld-musl-x86_64.so.1".into());
    assert!(uses_musl(&e));
    assert_eq!(
        platform_tag("x86_64", Libc::Musl(1, 2), &[e], &BTreeSet::new()).tags,
        ["musllinux_1_2_x86_64"]
    );
    let f = elf(&["libc.so.6"], &[], &["PyFPE_jbuf"]);
    assert_eq!(tag_of(&[f]), "linux_x86_64");
    assert_eq!(
        platform_tag(
            "riscv64",
            Libc::Glibc,
            &[elf(&[], &[], &[])],
            &BTreeSet::new()
        )
        .tags,
        ["linux_riscv64"]
    );
}

/// The policy rules must answer exactly as auditwheel's policy file does,
/// for every version, library and symbol it lists.
#[test]
fn rules_agree_with_auditwheels_policy_file() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let pythons = [root.join(".venv/bin/python"), "python3".into()];
    let script = "import auditwheel, os; print(os.path.join(os.path.dirname(auditwheel.__file__), 'policy', 'manylinux-policy.json'))";
    let path = pythons.iter().find_map(|py| {
        let out = std::process::Command::new(py)
            .args(["-c", script])
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    });
    let Some(path) = path else {
        assert!(
            std::env::var_os("CI").is_none(),
            "auditwheel must be installed in CI (scripts/requirements-dev.txt)"
        );
        eprintln!("skipped: auditwheel is not installed");
        return;
    };
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let mut checked = 0;
    for arch in ["x86_64", "i686", "aarch64"] {
        let ours = policy::policies(arch);
        let theirs: Vec<&serde_json::Value> = json
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["symbol_versions"].get(arch).is_some())
            .collect();
        assert_eq!(ours.len(), theirs.len(), "{arch}: number of policies");
        // Every version string any policy lists, per library.
        let mut universe = BTreeSet::new();
        for p in &theirs {
            for (lib, vs) in p["symbol_versions"][arch].as_object().unwrap() {
                for v in vs.as_array().unwrap() {
                    universe.insert(format!("{lib}_{}", v.as_str().unwrap()));
                }
            }
        }
        let all_libs: BTreeSet<String> = theirs
            .iter()
            .flat_map(|p| {
                p["lib_whitelist"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|l| l.as_str().unwrap().to_string())
            })
            .chain(["libnng.so.1".to_string()])
            .collect();
        for p in &theirs {
            let name = format!("{}_{arch}", p["name"].as_str().unwrap());
            let ours = policy::policies(arch)
                .into_iter()
                .find(|o| o.name == name)
                .unwrap_or_else(|| panic!("missing {name}"));
            assert_eq!(
                ours.priority as u64,
                p["priority"].as_u64().unwrap(),
                "{name} priority"
            );
            for version in &universe {
                let (lib, v) = version.split_once('_').unwrap();
                let listed = p["symbol_versions"][arch][lib]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|x| x.as_str() == Some(v));
                assert_eq!(
                    ours.allows_symbol_version(version),
                    listed,
                    "{name}: {version}"
                );
                checked += 1;
            }
            let whitelist: BTreeSet<&str> = p["lib_whitelist"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l.as_str().unwrap())
                .collect();
            for lib in &all_libs {
                assert_eq!(
                    ours.allows_library(lib),
                    whitelist.contains(lib.as_str()),
                    "{name}: {lib}"
                );
            }
            for (lib, syms) in p["blacklist"].as_object().unwrap() {
                let theirs: BTreeSet<&str> = syms
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| s.as_str().unwrap())
                    .collect();
                let ours: BTreeSet<&str> = ours.blacklist(lib).into_iter().collect();
                assert_eq!(ours, theirs, "{name}: blacklist of {lib}");
            }
            for lib in ["libc.so.6", "libm.so.6", "libpthread.so.0", "libz.so.1"] {
                if p["blacklist"].get(lib).is_none() {
                    assert!(
                        ours.blacklist(lib).is_empty(),
                        "{name}: {lib} has no blacklist"
                    );
                }
            }
        }
    }
    assert!(checked > 1000);
}

#[test]
fn a_baseline_newer_than_the_host_glibc_becomes_linux() {
    let mut t = PlatformTag {
        tags: vec!["manylinux_2_37_x86_64".into()],
        constraints: vec![],
    };
    t.cap_at_host_glibc("x86_64", "2.36");
    assert_eq!(t.tags, ["linux_x86_64"]);
    assert!(
        t.constraints[0].contains("newer than this machine's glibc 2.36"),
        "{:?}",
        t.constraints
    );
    let mut t = PlatformTag {
        tags: vec![
            "manylinux_2_17_x86_64".into(),
            "manylinux2014_x86_64".into(),
        ],
        constraints: vec![],
    };
    t.cap_at_host_glibc("x86_64", "2.36");
    assert_eq!(t.tags, ["manylinux_2_17_x86_64", "manylinux2014_x86_64"]);
}

/// Every tag the policies give (a baseline and its legacy alias, musllinux,
/// linux) keeps its text and order through [`Platform`] into a wheel tag.
#[test]
fn platform_tags_are_unchanged_through_the_wheel_tag() {
    use crate::wheel::tags::WheelTag;
    let mut checked = 0;
    for arch in ["x86_64", "i686", "aarch64"] {
        for p in policy::policies(arch) {
            let mut tags = vec![p.name.clone()];
            tags.extend(p.alias.clone());
            let t = PlatformTag {
                tags,
                constraints: vec![],
            };
            let platforms = t.platforms();
            assert!(
                platforms.iter().all(|p| !matches!(p, Platform::Other(_))),
                "{platforms:?}"
            );
            let wheel = WheelTag::without_extension(platforms);
            assert_eq!(wheel.to_string(), format!("py3-none-{}", t.compressed()));
            let plain: Vec<String> = wheel.platforms.iter().map(|p| p.to_string()).collect();
            assert_eq!(plain, t.tags);
            checked += 1;
        }
    }
    assert!(checked > 30, "{checked}");
    for tags in [
        vec!["musllinux_1_2_x86_64".to_string()],
        vec!["linux_x86_64".to_string()],
    ] {
        let t = PlatformTag {
            tags,
            constraints: vec![],
        };
        let wheel = WheelTag::without_extension(t.platforms());
        assert_eq!(wheel.to_string(), format!("py3-none-{}", t.compressed()));
    }
}
