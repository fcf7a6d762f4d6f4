//! The manylinux policies (PEP 600): for each `manylinux_2_Y` baseline, the
//! system libraries a wheel may link without bundling them, the symbol
//! versions those libraries provide, and the symbols it must not use.
//!
//! Stated here as rules per baseline (highest version of each versioned
//! library, extra libraries, blacklisted symbols) rather than as the full
//! version lists of the pypa policy file; a test checks that the rules give
//! the same answer as auditwheel's policy file for every version it lists.

/// A manylinux policy for one architecture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// `manylinux_2_Y_<arch>`.
    pub name: String,
    /// Legacy alias (`manylinux2014_x86_64`), if any.
    pub alias: Option<String>,
    /// glibc minor version Y of the baseline.
    pub glibc_minor: u32,
    /// Higher is more compatible (auditwheel's priority).
    pub priority: u32,
    /// The architecture (`x86_64`, `i686`, `aarch64`).
    pub arch: String,
    limits: &'static Limits,
}

/// Highest symbol version of each versioned system library at a baseline.
#[derive(Debug, PartialEq, Eq)]
struct Limits {
    glibc_minor: u32,
    cxxabi: &'static str,
    gcc: &'static str,
    glibcxx: &'static str,
    libatomic: Option<&'static str>,
    zlib: Option<&'static str>,
}

macro_rules! limits {
    ($($y:literal: $cxxabi:literal, $gcc:literal, $glibcxx:literal, $atomic:expr, $zlib:expr;)*) => {
        &[$(Limits { glibc_minor: $y, cxxabi: $cxxabi, gcc: $gcc, glibcxx: $glibcxx, libatomic: $atomic, zlib: $zlib }),*]
    };
}

static X86_64: &[Limits] = limits! {
    5: "1.3.1", "4.2.0", "3.4.8", None, None;
    12: "1.3.3", "4.3.0", "3.4.13", None, Some("1.2.2.4");
    17: "1.3.7", "4.8.0", "3.4.19", None, Some("1.2.5.2");
    24: "1.3.10", "4.8.0", "3.4.22", Some("1.2"), Some("1.2.5.2");
    26: "1.3.10", "4.8.0", "3.4.22", Some("1.2"), Some("1.2.5.2");
    27: "1.3.11", "7.0.0", "3.4.24", Some("1.2"), Some("1.2.9");
    28: "1.3.11", "7.0.0", "3.4.24", Some("1.2"), Some("1.2.9");
    31: "1.3.12", "7.0.0", "3.4.28", Some("1.2"), Some("1.2.9");
    34: "1.3.13", "7.0.0", "3.4.29", Some("1.2"), Some("1.2.9");
    35: "1.3.13", "12.0.0", "3.4.30", Some("1.2"), Some("1.2.9");
    36: "1.3.13", "12.0.0", "3.4.30", Some("1.2"), Some("1.2.9");
    37: "1.3.13", "12.0.0", "3.4.30", Some("1.2"), Some("1.2.12");
    38: "1.3.13", "12.0.0", "3.4.30", Some("1.2"), Some("1.2.12");
    39: "1.3.15", "14.0.0", "3.4.33", Some("1.2"), Some("1.2.12");
    40: "1.3.15", "14.0.0", "3.4.33", Some("1.2"), Some("1.2.12");
    41: "1.3.15", "14.0.0", "3.4.33", Some("1.2"), Some("1.2.12");
};

static I686: &[Limits] = limits! {
    5: "1.3.1", "4.2.0", "3.4.8", None, None;
    12: "1.3.3", "4.5.0", "3.4.13", None, Some("1.2.2.4");
    17: "1.3.7", "4.8.0", "3.4.19", Some("1.0"), Some("1.2.5.2");
    24: "1.3.10", "4.8.0", "3.4.22", Some("1.2"), Some("1.2.5.2");
    26: "1.3.11", "7.0.0", "3.4.24", Some("1.2"), Some("1.2.9");
    27: "1.3.11", "7.0.0", "3.4.24", Some("1.2"), Some("1.2.9");
    28: "1.3.11", "7.0.0", "3.4.24", Some("1.2"), Some("1.2.9");
    31: "1.3.12", "7.0.0", "3.4.28", Some("1.2"), Some("1.2.9");
    34: "1.3.13", "7.0.0", "3.4.29", Some("1.2"), Some("1.2.9");
    35: "1.3.13", "12.0.0", "3.4.30", Some("1.2"), Some("1.2.9");
    36: "1.3.13", "12.0.0", "3.4.30", Some("1.2"), Some("1.2.12");
    37: "1.3.13", "12.0.0", "3.4.30", Some("1.2"), Some("1.2.12");
    38: "1.3.13", "12.0.0", "3.4.30", Some("1.2"), Some("1.2.12");
    39: "1.3.15", "14.0.0", "3.4.33", Some("1.2"), Some("1.2.12");
    40: "1.3.15", "14.0.0", "3.4.33", Some("1.2"), Some("1.2.12");
    41: "1.3.15", "14.0.0", "3.4.33", Some("1.2"), Some("1.2.12");
};

static AARCH64: &[Limits] = limits! {
    17: "1.3.7", "4.7.0", "3.4.19", Some("1.0"), Some("1.2.5.2");
    24: "1.3.10", "4.7.0", "3.4.22", Some("1.2"), Some("1.2.5.2");
    26: "1.3.11", "7.0.0", "3.4.24", Some("1.2"), Some("1.2.5.2");
    27: "1.3.11", "7.0.0", "3.4.24", Some("1.2"), Some("1.2.9");
    28: "1.3.11", "7.0.0", "3.4.24", Some("1.2"), Some("1.2.9");
    31: "1.3.12", "7.0.0", "3.4.28", Some("1.2"), Some("1.2.9");
    34: "1.3.13", "11.0", "3.4.29", Some("1.2"), Some("1.2.9");
    35: "1.3.13", "11.0", "3.4.30", Some("1.2"), Some("1.2.9");
    36: "1.3.13", "11.0", "3.4.30", Some("1.2"), Some("1.2.9");
    37: "1.3.13", "11.0", "3.4.30", Some("1.2"), Some("1.2.12");
    38: "1.3.13", "11.0", "3.4.30", Some("1.2"), Some("1.2.12");
    39: "1.3.15", "14.0.0", "3.4.33", Some("1.2"), Some("1.2.12");
    40: "1.3.15", "14.0.0", "3.4.33", Some("1.2"), Some("1.2.12");
    41: "1.3.15", "14.0.0", "3.4.33", Some("1.2"), Some("1.2.12");
};

/// Libraries every manylinux baseline allows (PEP 599 / 600).
const BASE_WHITELIST: &[&str] = &[
    "libatomic.so.1",
    "libgcc_s.so.1",
    "libstdc++.so.6",
    "libm.so.6",
    "libanl.so.1",
    "libdl.so.2",
    "librt.so.1",
    "libc.so.6",
    "libnsl.so.1",
    "libutil.so.1",
    "libpthread.so.0",
    "libX11.so.6",
    "libXext.so.6",
    "libXrender.so.1",
    "libICE.so.6",
    "libSM.so.6",
    "libGL.so.1",
    "libgobject-2.0.so.0",
    "libgthread-2.0.so.0",
    "libglib-2.0.so.0",
    "libresolv.so.2",
    "libz.so.1",
];

/// Internal zlib symbols no baseline allows a wheel to import; some were
/// allowed again as newer zlib versions exported them (see [`Policy::blacklist`]).
const ZLIB_INTERNALS: &[&str] = &[
    "_dist_code",
    "_length_code",
    "_tr_align",
    "_tr_flush_block",
    "_tr_init",
    "_tr_stored_block",
    "_tr_tally",
    "adler32_default",
    "bi_windup",
    "crc32_acle",
    "crc32_combine_gen",
    "crc32_combine_gen64",
    "crc32_combine_op",
    "crc32_le_vgfm_16",
    "crc32_neon",
    "crc32_vpmsum",
    "crc32_z_default",
    "crc_fold_512to32",
    "crc_fold_copy",
    "crc_fold_init",
    "deflate_copyright",
    "deflate_medium",
    "fill_window",
    "flush_pending",
    "gzflags",
    "inflate_copyright",
    "inflate_fast",
    "inflate_table",
    "longest_match",
    "slide_hash_sse",
    "sse2_slide_hash",
    "static_ltree",
    "uncompress2",
    "x86_check_features",
    "x86_cpu_has_pclmul",
    "x86_cpu_has_sse2",
    "x86_cpu_has_sse42",
    "z_errmsg",
    "z_vstring",
    "zcalloc",
    "zcfree",
];
/// zlib symbols allowed from glibc 2.36 baselines on (exported by newer zlib builds).
const ZLIB_ALLOWED_FROM_2_36: &[&str] = &[
    "bi_windup",
    "crc_fold_512to32",
    "crc_fold_copy",
    "crc_fold_init",
    "deflate_medium",
    "fill_window",
    "flush_pending",
    "longest_match",
    "slide_hash_sse",
    "static_ltree",
    "x86_check_features",
    "x86_cpu_has_pclmul",
    "x86_cpu_has_sse2",
    "x86_cpu_has_sse42",
];
/// zlib symbols allowed from glibc 2.37 baselines on.
const ZLIB_ALLOWED_FROM_2_37: &[&str] = &[
    "crc32_combine_gen",
    "crc32_combine_gen64",
    "crc32_combine_op",
];
/// glibc symbols not allowed up to the 2.17 baseline.
const LIBC_UP_TO_2_17: &[&str] = &[
    "__cxa_thread_atexit_impl",
    "__issignaling",
    "__issignalingf",
    "__issignalingl",
    "pthread_getattr_default_np",
    "pthread_setattr_default_np",
];
const LIBM_UP_TO_2_17: &[&str] = &["__issignaling", "__issignalingf", "__issignalingl"];
const LIBPTHREAD_UP_TO_2_17: &[&str] =
    &["pthread_getattr_default_np", "pthread_setattr_default_np"];

fn priority(glibc_minor: u32) -> u32 {
    match glibc_minor {
        5 => 100,
        12 => 90,
        17 => 80,
        24 => 70,
        26 => 68,
        y => 92 - y,
    }
}

fn legacy_alias(glibc_minor: u32) -> Option<&'static str> {
    match glibc_minor {
        5 => Some("manylinux1"),
        12 => Some("manylinux2010"),
        17 => Some("manylinux2014"),
        _ => None,
    }
}

/// A dotted version as numbers, for ordering (`"1.2.5.2"` → `[1,2,5,2]`);
/// `None` for names like `TM_1`.
fn numeric(version: &str) -> Option<Vec<u32>> {
    version.split('.').map(|p| p.parse().ok()).collect()
}

fn at_most(version: &str, max: &str) -> bool {
    match (numeric(version), numeric(max)) {
        (Some(v), Some(m)) => v <= m,
        _ => false,
    }
}

/// The policies for `arch` (the wheel platform's arch: `x86_64`, `i686`,
/// `aarch64`), most compatible first. Empty for other architectures.
pub fn policies(arch: &str) -> Vec<Policy> {
    let table = match arch {
        "x86_64" => X86_64,
        "i686" => I686,
        "aarch64" => AARCH64,
        _ => &[],
    };
    table
        .iter()
        .map(|limits| Policy {
            name: format!("manylinux_2_{}_{arch}", limits.glibc_minor),
            alias: legacy_alias(limits.glibc_minor).map(|a| format!("{a}_{arch}")),
            glibc_minor: limits.glibc_minor,
            priority: priority(limits.glibc_minor),
            arch: arch.to_string(),
            limits,
        })
        .collect()
}

impl Policy {
    /// Whether a library may be linked without bundling it.
    pub fn allows_library(&self, soname: &str) -> bool {
        BASE_WHITELIST.contains(&soname)
            || (soname == "libexpat.so.1" && self.glibc_minor >= 12)
            || (soname == "libmvec.so.1" && self.glibc_minor >= 24)
    }

    /// Whether a required symbol version (`GLIBC_2.14`, `GLIBCXX_3.4.21`,
    /// `CXXABI_TM_1`, ...) is available at this baseline. Versions of other
    /// libraries (`NNG_1.0`) are not this policy's concern: true.
    pub fn allows_symbol_version(&self, version: &str) -> bool {
        let (lib, v) = version.split_once('_').unwrap_or((version, ""));
        let l = self.limits;
        let upto = |max: Option<&str>| max.is_some_and(|m| at_most(v, m));
        match lib {
            "GLIBC" => match v {
                "ABI_DT_RELR" => l.glibc_minor >= 36,
                // CentOS 7's aarch64 glibc 2.17 carries the 2.18 symbol versions.
                _ => {
                    let max = if self.arch == "aarch64" && l.glibc_minor == 17 {
                        18
                    } else {
                        l.glibc_minor
                    };
                    numeric(v).is_some_and(|n| {
                        n.first() == Some(&2) && n.get(1).is_some_and(|&m| m <= max)
                    })
                }
            },
            "CXXABI" => match v {
                "TM_1" => l.glibc_minor >= 17,
                "FLOAT128" => {
                    l.glibc_minor >= 24 && matches!(self.arch.as_str(), "x86_64" | "i686")
                }
                _ => upto(Some(l.cxxabi)),
            },
            "GCC" => upto(Some(l.gcc)),
            "GLIBCXX" => upto(Some(l.glibcxx)),
            "LIBATOMIC" => upto(l.libatomic),
            "ZLIB" => upto(l.zlib),
            _ => true,
        }
    }

    /// Symbols of `soname` a wheel must not import at this baseline.
    pub fn blacklist(&self, soname: &str) -> Vec<&'static str> {
        let y = self.glibc_minor;
        match soname {
            "libc.so.6" if y <= 17 => LIBC_UP_TO_2_17.to_vec(),
            "libm.so.6" if y <= 17 => LIBM_UP_TO_2_17.to_vec(),
            "libpthread.so.0" if y <= 17 => LIBPTHREAD_UP_TO_2_17.to_vec(),
            "libz.so.1" => ZLIB_INTERNALS
                .iter()
                .copied()
                .filter(|s| !(y >= 34 && *s == "uncompress2"))
                .filter(|s| !(y >= 36 && ZLIB_ALLOWED_FROM_2_36.contains(s)))
                .filter(|s| !(y >= 37 && ZLIB_ALLOWED_FROM_2_37.contains(s)))
                .collect(),
            _ => Vec::new(),
        }
    }
}
