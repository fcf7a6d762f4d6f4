use super::*;

/// Recorded `sysconfig` facts of interpreters, each with where it comes
/// from. "recorded" ones were printed on the development machine by
/// `python -c "import sysconfig, sys; print(sysconfig.get_config_var('SOABI'),
/// sysconfig.get_config_var('EXT_SUFFIX'), sys.implementation.name,
/// sysconfig.get_config_var('Py_GIL_DISABLED'), hasattr(sys, 'gettotalrefcount'))"`.
const FIXTURES: &str = r#"{
  "cpython-3.7-linux": {
    "source": "recorded: pyenv 3.7.16 (x86_64 Debian)",
    "implementation": "cpython", "version": [3, 7],
    "soabi": "cpython-37m-x86_64-linux-gnu", "ext_suffix": ".cpython-37m-x86_64-linux-gnu.so",
    "free_threaded": false, "debug": false
  },
  "cpython-3.8-linux": {
    "source": "recorded: pyenv 3.8.18",
    "implementation": "cpython", "version": [3, 8],
    "soabi": "cpython-38-x86_64-linux-gnu", "ext_suffix": ".cpython-38-x86_64-linux-gnu.so",
    "free_threaded": false, "debug": false
  },
  "cpython-3.9-linux": {
    "source": "recorded: pyenv 3.9.18",
    "implementation": "cpython", "version": [3, 9],
    "soabi": "cpython-39-x86_64-linux-gnu", "ext_suffix": ".cpython-39-x86_64-linux-gnu.so",
    "free_threaded": false, "debug": false
  },
  "cpython-3.10-linux": {
    "source": "recorded: pyenv 3.10.13",
    "implementation": "cpython", "version": [3, 10],
    "soabi": "cpython-310-x86_64-linux-gnu", "ext_suffix": ".cpython-310-x86_64-linux-gnu.so",
    "free_threaded": false, "debug": false
  },
  "cpython-3.11-linux": {
    "source": "recorded: pyenv 3.11.7",
    "implementation": "cpython", "version": [3, 11],
    "soabi": "cpython-311-x86_64-linux-gnu", "ext_suffix": ".cpython-311-x86_64-linux-gnu.so",
    "free_threaded": false, "debug": false
  },
  "cpython-3.12-linux": {
    "source": "recorded: pyenv 3.12.1",
    "implementation": "cpython", "version": [3, 12],
    "soabi": "cpython-312-x86_64-linux-gnu", "ext_suffix": ".cpython-312-x86_64-linux-gnu.so",
    "free_threaded": false, "debug": false
  },
  "cpython-3.13-linux": {
    "source": "recorded: pyenv 3.13.0 (Py_GIL_DISABLED = 0)",
    "implementation": "cpython", "version": [3, 13],
    "soabi": "cpython-313-x86_64-linux-gnu", "ext_suffix": ".cpython-313-x86_64-linux-gnu.so",
    "free_threaded": false, "debug": false
  },
  "cpython-3.12d-linux": {
    "source": "CPython docs (configure --with-pydebug: ABIFLAGS 'd', PEP 3149 file names); packaging's _cpython_abis: cp312d",
    "implementation": "cpython", "version": [3, 12],
    "soabi": "cpython-312d-x86_64-linux-gnu", "ext_suffix": ".cpython-312d-x86_64-linux-gnu.so",
    "free_threaded": false, "debug": true
  },
  "cpython-3.13t-linux": {
    "source": "CPython docs, howto/free-threading-extensions (ABI tag 't', Py_GIL_DISABLED = 1)",
    "implementation": "cpython", "version": [3, 13],
    "soabi": "cpython-313t-x86_64-linux-gnu", "ext_suffix": ".cpython-313t-x86_64-linux-gnu.so",
    "free_threaded": true, "debug": false
  },
  "cpython-3.13td-linux": {
    "source": "packaging's _cpython_abis: threading flag before debug (cp313td)",
    "implementation": "cpython", "version": [3, 13],
    "soabi": "cpython-313td-x86_64-linux-gnu", "ext_suffix": ".cpython-313td-x86_64-linux-gnu.so",
    "free_threaded": true, "debug": true
  },
  "cpython-3.14t-linux": {
    "source": "CPython docs, howto/free-threading-python (3.14 free-threaded build)",
    "implementation": "cpython", "version": [3, 14],
    "soabi": "cpython-314t-x86_64-linux-gnu", "ext_suffix": ".cpython-314t-x86_64-linux-gnu.so",
    "free_threaded": true, "debug": false
  },
  "cpython-3.15t-linux": {
    "source": "PEP 803 (Python 3.15 free-threaded build; abi3t)",
    "implementation": "cpython", "version": [3, 15],
    "soabi": "cpython-315t-x86_64-linux-gnu", "ext_suffix": ".cpython-315t-x86_64-linux-gnu.so",
    "free_threaded": true, "debug": false
  },
  "pypy-3.9-linux": {
    "source": "recorded: Debian bookworm pypy3 7.3.11 (Python 3.9.16)",
    "implementation": "pypy", "version": [3, 9],
    "soabi": "pypy39-pp73", "ext_suffix": ".pypy39-pp73-x86_64-linux-gnu.so",
    "free_threaded": false, "debug": false
  },
  "pypy-3.8-linux": {
    "source": "packaging.tags._generic_abi's comment: '.pypy38-pp73-x86_64-linux-gnu.so' => pypy38_pp73",
    "implementation": "pypy", "version": [3, 8],
    "soabi": "pypy38-pp73", "ext_suffix": ".pypy38-pp73-x86_64-linux-gnu.so",
    "free_threaded": false, "debug": false
  },
  "graalpy-24.2-linux": {
    "source": "GraalPy 24.2 (Python 3.11) EXT_SUFFIX; its wheels on PyPI are tagged graalpy311-graalpy242_311_native",
    "implementation": "graalpy", "version": [3, 11],
    "soabi": "graalpy242-311-native-x86_64-linux", "ext_suffix": ".graalpy242-311-native-x86_64-linux.so",
    "free_threaded": false, "debug": false
  },
  "graalpy-old-macos": {
    "source": "packaging.tags._generic_abi's comment: '.graalpy-38-native-x86_64-darwin.dylib' => graalpy_38_native",
    "implementation": "graalpy", "version": [3, 8],
    "soabi": "graalpy-38-native-x86_64-darwin", "ext_suffix": ".graalpy-38-native-x86_64-darwin.dylib",
    "free_threaded": false, "debug": false
  },
  "cpython-3.12-macos": {
    "source": "packaging.tags._generic_abi's comment ('.cpython-310-darwin.so'), for 3.12",
    "implementation": "cpython", "version": [3, 12],
    "soabi": "cpython-312-darwin", "ext_suffix": ".cpython-312-darwin.so",
    "free_threaded": false, "debug": false
  },
  "cpython-3.12-win-amd64": {
    "source": "packaging.tags._generic_abi's comment ('.cp310-win_amd64.pyd'), for 3.12; SOABI unset on Windows before 3.13",
    "implementation": "cpython", "version": [3, 12],
    "soabi": null, "ext_suffix": ".cp312-win_amd64.pyd",
    "free_threaded": false, "debug": false
  },
  "cpython-3.13t-win-amd64": {
    "source": "CPython docs, howto/free-threading-extensions (Windows: '.cp313t-win_amd64.pyd')",
    "implementation": "cpython", "version": [3, 13],
    "soabi": "cp313t-win_amd64", "ext_suffix": ".cp313t-win_amd64.pyd",
    "free_threaded": true, "debug": false
  },
  "cpython-3.12-win-arm64": {
    "source": "CPython's PC/pyconfig: '.cp312-win_arm64.pyd'",
    "implementation": "cpython", "version": [3, 12],
    "soabi": null, "ext_suffix": ".cp312-win_arm64.pyd",
    "free_threaded": false, "debug": false
  },
  "cpython-3.11-win32": {
    "source": "CPython's PC/pyconfig: '.cp311-win32.pyd'",
    "implementation": "cpython", "version": [3, 11],
    "soabi": null, "ext_suffix": ".cp311-win32.pyd",
    "free_threaded": false, "debug": false
  }
}"#;

fn facts(name: &str) -> InterpreterFacts {
    let all: serde_json::Value = serde_json::from_str(FIXTURES).unwrap();
    let f = all.get(name).unwrap_or_else(|| panic!("no fixture {name}"));
    serde_json::from_value(f.clone()).unwrap()
}

fn platforms(tags: &[&str]) -> Vec<Platform> {
    tags.iter().map(|t| t.parse().unwrap()).collect()
}

const MANYLINUX2014: &[&str] = &["manylinux_2_17_x86_64", "manylinux2014_x86_64"];

const NO: Result<(), &str> = Err("not asked");
const YES: Result<(), &str> = Ok(());

/// The tag's exact text, and that it reads back as the same tag.
fn assert_tag(tag: &WheelTag, expected: &str) {
    assert_eq!(tag.to_string(), expected);
    let back: WheelTag = expected.parse().unwrap();
    assert_eq!(&back, tag, "{expected} does not read back");
    assert_eq!(back.to_string(), expected);
    // The file-name form of the WHEEL file's tag lines is the same text.
    assert_eq!(compress_tags(&tag.expand()), expected);
}

fn tag(name: &str, limited: &Result<(), &str>, floor: Option<u32>, plats: &[&str]) -> WheelTag {
    WheelTag::for_interpreter(&facts(name), limited, floor, platforms(plats)).unwrap()
}

#[test]
fn every_fixture_has_its_source_and_reads() {
    let all: serde_json::Value = serde_json::from_str(FIXTURES).unwrap();
    for (name, f) in all.as_object().unwrap() {
        assert!(
            f["source"].as_str().is_some_and(|s| !s.is_empty()),
            "{name}"
        );
        let _: InterpreterFacts = serde_json::from_value(f.clone()).unwrap();
    }
}

#[test]
fn cpython_version_specific() {
    for (name, expected) in [
        ("cpython-3.7-linux", "cp37-cp37m"),
        ("cpython-3.8-linux", "cp38-cp38"),
        ("cpython-3.9-linux", "cp39-cp39"),
        ("cpython-3.10-linux", "cp310-cp310"),
        ("cpython-3.11-linux", "cp311-cp311"),
        ("cpython-3.12-linux", "cp312-cp312"),
        ("cpython-3.13-linux", "cp313-cp313"),
    ] {
        assert_tag(
            &tag(name, &NO, Some(9), MANYLINUX2014),
            &format!("{expected}-manylinux_2_17_x86_64.manylinux2014_x86_64"),
        );
    }
}

#[test]
fn cpython_abi3_takes_the_requires_python_floor_never_above_the_build() {
    let t = |floor| tag("cpython-3.12-linux", &YES, floor, MANYLINUX2014);
    assert_tag(
        &t(Some(9)),
        "cp39-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64",
    );
    assert_tag(
        &t(None),
        "cp312-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64",
    );
    assert_tag(
        &t(Some(13)),
        "cp312-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64",
    );
    // abi3 starts with 3.2.
    assert_tag(
        &t(Some(0)),
        "cp32-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64",
    );
    assert_tag(
        &tag("cpython-3.9-linux", &YES, Some(8), MANYLINUX2014),
        "cp38-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64",
    );
}

#[test]
fn cpython_debug() {
    assert_tag(
        &tag("cpython-3.12d-linux", &NO, None, &["linux_x86_64"]),
        "cp312-cp312d-linux_x86_64",
    );
}

#[test]
fn cpython_free_threaded() {
    for (name, expected) in [
        ("cpython-3.13t-linux", "cp313-cp313t"),
        ("cpython-3.13td-linux", "cp313-cp313td"),
        ("cpython-3.14t-linux", "cp314-cp314t"),
        ("cpython-3.15t-linux", "cp315-cp315t"),
    ] {
        assert_tag(
            &tag(name, &NO, None, MANYLINUX2014),
            &format!("{expected}-manylinux_2_17_x86_64.manylinux2014_x86_64"),
        );
    }
}

#[test]
fn free_threaded_limited_api_is_abi3_abi3t_from_3_15() {
    // PEP 803: Py_LIMITED_API on free-threaded headers builds for both
    // stable ABIs, tagged with the compressed set abi3.abi3t, 3.15 at least.
    assert_tag(
        &tag("cpython-3.15t-linux", &YES, Some(9), MANYLINUX2014),
        "cp315-abi3.abi3t-manylinux_2_17_x86_64.manylinux2014_x86_64",
    );
    assert_eq!(
        tag("cpython-3.15t-linux", &YES, None, &["linux_x86_64"]).expand(),
        ["cp315-abi3-linux_x86_64", "cp315-abi3t-linux_x86_64"]
    );
    for before in ["cpython-3.13t-linux", "cpython-3.14t-linux"] {
        let e = WheelTag::for_interpreter(&facts(before), &YES, None, platforms(MANYLINUX2014))
            .unwrap_err();
        assert!(
            matches!(&e, TagError::NoStableAbi { why, .. } if why.contains("abi3t starts with 3.15")),
            "{e}"
        );
    }
    assert_eq!(
        facts("cpython-3.15t-linux").stable_abi_suffix(),
        ".abi3t.so"
    );
    assert_eq!(facts("cpython-3.12-linux").stable_abi_suffix(), ".abi3.so");
}

#[test]
fn pypy() {
    assert_tag(
        &tag("pypy-3.9-linux", &NO, Some(8), MANYLINUX2014),
        "pp39-pypy39_pp73-manylinux_2_17_x86_64.manylinux2014_x86_64",
    );
    assert_tag(
        &tag("pypy-3.8-linux", &NO, None, &["linux_x86_64"]),
        "pp38-pypy38_pp73-linux_x86_64",
    );
    let e = WheelTag::for_interpreter(&facts("pypy-3.9-linux"), &YES, None, platforms(&["any"]))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "pypy 3.9 has no stable ABI to tag a limited-API build with: pypy has no stable ABI"
    );
}

#[test]
fn pypy_without_a_suffix_abi_uses_soabi() {
    let mut f = facts("pypy-3.9-linux");
    f.ext_suffix = ".so".into();
    assert_eq!(f.abi_tag().unwrap(), "pypy39_pp73");
    f.soabi = None;
    assert!(matches!(f.abi_tag(), Err(TagError::NoAbi { .. })));
}

#[test]
fn graalpy() {
    assert_tag(
        &tag("graalpy-24.2-linux", &NO, None, MANYLINUX2014),
        "graalpy311-graalpy242_311_native-manylinux_2_17_x86_64.manylinux2014_x86_64",
    );
    assert_tag(
        &tag("graalpy-old-macos", &NO, None, &["macosx_10_9_x86_64"]),
        "graalpy38-graalpy_38_native-macosx_10_9_x86_64",
    );
}

#[test]
fn macos() {
    assert_tag(
        &tag("cpython-3.12-macos", &NO, None, &["macosx_11_0_arm64"]),
        "cp312-cp312-macosx_11_0_arm64",
    );
    assert_tag(
        &tag(
            "cpython-3.12-macos",
            &YES,
            Some(9),
            &["macosx_10_9_universal2"],
        ),
        "cp39-abi3-macosx_10_9_universal2",
    );
    assert_eq!(facts("cpython-3.12-macos").stable_abi_suffix(), ".abi3.so");
}

#[test]
fn windows() {
    assert_tag(
        &tag("cpython-3.12-win-amd64", &NO, None, &["win_amd64"]),
        "cp312-cp312-win_amd64",
    );
    assert_tag(
        &tag("cpython-3.13t-win-amd64", &NO, None, &["win_amd64"]),
        "cp313-cp313t-win_amd64",
    );
    assert_tag(
        &tag("cpython-3.12-win-arm64", &YES, Some(9), &["win_arm64"]),
        "cp39-abi3-win_arm64",
    );
    assert_tag(
        &tag("cpython-3.11-win32", &NO, None, &["win32"]),
        "cp311-cp311-win32",
    );
    assert_eq!(facts("cpython-3.12-win-amd64").stable_abi_suffix(), ".pyd");
}

#[test]
fn no_extension_module_is_py3_none() {
    assert_tag(
        &WheelTag::without_extension(platforms(MANYLINUX2014)),
        "py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64",
    );
    assert_tag(&WheelTag::pure(), "py3-none-any");
}

#[test]
fn musllinux() {
    assert_tag(
        &tag("cpython-3.12-linux", &NO, None, &["musllinux_1_2_x86_64"]),
        "cp312-cp312-musllinux_1_2_x86_64",
    );
}

/// The CPython ABI from the facts (flags) is the one the interpreter's own
/// SOABI names, for every recorded CPython on Linux and macOS.
#[test]
fn cpython_abi_agrees_with_soabi() {
    let all: serde_json::Value = serde_json::from_str(FIXTURES).unwrap();
    let mut checked = 0;
    for (name, _) in all.as_object().unwrap() {
        let f = facts(name);
        let Some(word) = f
            .soabi
            .as_deref()
            .and_then(|s| s.strip_prefix("cpython-"))
            .and_then(|s| s.split('-').next())
        else {
            continue;
        };
        assert_eq!(f.abi_tag().unwrap(), format!("cp{word}"), "{name}");
        checked += 1;
    }
    assert!(checked >= 12, "{checked}");
}

#[test]
fn platforms_parse_and_display() {
    for (text, platform) in [
        (
            "manylinux_2_17_x86_64",
            Platform::Manylinux {
                glibc: (2, 17),
                arch: "x86_64".into(),
            },
        ),
        (
            "manylinux1_i686",
            Platform::LegacyManylinux {
                glibc: (2, 5),
                arch: "i686".into(),
            },
        ),
        (
            "manylinux2010_x86_64",
            Platform::LegacyManylinux {
                glibc: (2, 12),
                arch: "x86_64".into(),
            },
        ),
        (
            "manylinux2014_aarch64",
            Platform::LegacyManylinux {
                glibc: (2, 17),
                arch: "aarch64".into(),
            },
        ),
        (
            "musllinux_1_2_aarch64",
            Platform::Musllinux {
                musl: (1, 2),
                arch: "aarch64".into(),
            },
        ),
        (
            "linux_armv7l",
            Platform::Linux {
                arch: "armv7l".into(),
            },
        ),
        (
            "macosx_10_9_universal2",
            Platform::Macos {
                version: (10, 9),
                arch: "universal2".into(),
            },
        ),
        (
            "macosx_11_0_arm64",
            Platform::Macos {
                version: (11, 0),
                arch: "arm64".into(),
            },
        ),
        ("win_amd64", Platform::Windows(WindowsArch::Amd64)),
        ("win_arm64", Platform::Windows(WindowsArch::Arm64)),
        ("win32", Platform::Windows(WindowsArch::Win32)),
        ("any", Platform::Any),
        (
            "android_21_arm64_v8a",
            Platform::Other("android_21_arm64_v8a".into()),
        ),
    ] {
        assert_eq!(text.parse::<Platform>().unwrap(), platform, "{text}");
        assert_eq!(platform.to_string(), text);
    }
    for bad in [
        "",
        "Win_amd64",
        "manylinux_2_x86_64",
        "macosx_x_0_arm64",
        "linux-x86_64",
    ] {
        assert!(bad.parse::<Platform>().is_err(), "{bad}");
    }
}

#[test]
fn legacy_aliases() {
    let m = |minor| Platform::Manylinux {
        glibc: (2, minor),
        arch: "x86_64".into(),
    };
    assert_eq!(
        m(5).legacy_alias().unwrap().to_string(),
        "manylinux1_x86_64"
    );
    assert_eq!(
        m(12).legacy_alias().unwrap().to_string(),
        "manylinux2010_x86_64"
    );
    assert_eq!(
        m(17).legacy_alias().unwrap().to_string(),
        "manylinux2014_x86_64"
    );
    assert_eq!(m(28).legacy_alias(), None);
}

#[test]
fn platforms_order_pep600_before_alias_and_by_version() {
    let set: BTreeSet<Platform> = platforms(&[
        "manylinux2014_x86_64",
        "manylinux_2_28_x86_64",
        "manylinux_2_17_x86_64",
        "macosx_11_0_arm64",
        "macosx_10_9_arm64",
    ])
    .into_iter()
    .collect();
    let order: Vec<String> = set.iter().map(|p| p.to_string()).collect();
    assert_eq!(
        order,
        [
            "manylinux_2_17_x86_64",
            "manylinux2014_x86_64",
            "manylinux_2_28_x86_64",
            "macosx_10_9_arm64",
            "macosx_11_0_arm64",
        ]
    );
}

#[test]
fn wheel_tags_parse_compressed_sets() {
    let t: WheelTag = "py2.py3-none-any".parse().unwrap();
    assert_eq!(t.expand(), ["py2-none-any", "py3-none-any"]);
    assert_eq!(t.to_string(), "py2.py3-none-any");
    let t: WheelTag = "CP39-ABI3-MANYLINUX_2_17_X86_64".parse().unwrap();
    assert_eq!(t.to_string(), "cp39-abi3-manylinux_2_17_x86_64");
    for bad in [
        "py3-none",
        "py3-none-any-x",
        "py3--any",
        "py3.-none-any",
        "3py-none-any",
        "py3-no ne-any",
    ] {
        assert!(bad.parse::<WheelTag>().is_err(), "{bad}");
    }
}

#[test]
fn tags_compress() {
    let t = vec![
        "cp39-abi3-manylinux_2_17_x86_64".to_string(),
        "cp39-abi3-manylinux2014_x86_64".to_string(),
    ];
    assert_eq!(
        compress_tags(&t),
        "cp39-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64"
    );
}
