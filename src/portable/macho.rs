//! Mach-O (macOS) and PE (Windows) extension modules: what each asks of
//! the loader (linked dylibs / imported DLLs, symbols found by dynamic
//! lookup), what it exports, and the platform tag its headers allow
//! (minimum macOS and architectures; the PE machine). Also the fat-file
//! writer that joins two macOS builds into a universal2 module.

use std::collections::BTreeSet;

use object::macho;
use object::read::macho::{FatArch, LoadCommandVariant, MachHeader, MachOFatFile32, Nlist};
use object::{Endianness, FileKind, Object, ObjectSymbol, pe};

use crate::wheel::tags::{Platform, WindowsArch};

/// One architecture's slice of a Mach-O file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MachoSlice {
    /// The architecture as wheel tags name it (`arm64`, `x86_64`).
    pub arch: String,
    /// `MH_BUNDLE` (8), `MH_DYLIB` (6), ...
    pub filetype: u32,
    /// The minimum macOS (`LC_BUILD_VERSION` or `LC_VERSION_MIN_MACOSX`).
    pub min_macos: Option<(u32, u32)>,
    /// `LC_LOAD_DYLIB` (and weak, re-export, upward) install names.
    pub dylibs: Vec<String>,
    /// External symbols it defines (`_PyInit_x`).
    pub exports: BTreeSet<String>,
    /// Undefined symbols looked up in the loading process
    /// (`-undefined dynamic_lookup`): not bound to one of its dylibs (a
    /// library ordinal outside 1..=dylibs: `DYNAMIC_LOOKUP`, the main
    /// executable, or 0, which zig's linker leaves in the symbol table while
    /// its bind opcodes say flat lookup), or any in a flat namespace.
    pub dynamic_lookups: BTreeSet<String>,
}

/// The facts of a Windows DLL (`.pyd`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeInfo {
    /// `IMAGE_FILE_HEADER.Machine`.
    pub machine: u16,
    /// Whether it is a DLL (`IMAGE_FILE_DLL`).
    pub is_dll: bool,
    /// The DLLs it imports from, as the import table spells them.
    pub dlls: Vec<String>,
    /// The names it exports.
    pub exports: BTreeSet<String>,
}

/// A built module of either format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Binary {
    /// Mach-O: one slice, or several (a fat file).
    MachO(Vec<MachoSlice>),
    /// PE.
    Pe(PeInfo),
}

/// Why a module could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BinaryError {
    /// Neither Mach-O nor PE.
    #[error("neither a Mach-O nor a PE file")]
    Unknown,
    /// Malformed data.
    #[error("malformed file: {0}")]
    Malformed(#[from] object::read::Error),
}

/// Reads a Mach-O (thin or fat) or PE module.
pub fn read_binary(data: &[u8]) -> Result<Binary, BinaryError> {
    match FileKind::parse(data).map_err(|_| BinaryError::Unknown)? {
        FileKind::MachO64 => Ok(Binary::MachO(vec![read_slice(data)?])),
        FileKind::MachOFat32 => {
            let fat = MachOFatFile32::parse(data)?;
            let mut slices = Vec::new();
            for a in fat.arches() {
                slices.push(read_slice(a.data(data)?)?);
            }
            Ok(Binary::MachO(slices))
        }
        FileKind::Pe64 => read_pe::<pe::ImageNtHeaders64>(data),
        FileKind::Pe32 => read_pe::<pe::ImageNtHeaders32>(data),
        _ => Err(BinaryError::Unknown),
    }
}

fn utf8(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `xxxx.yy.zz` packed as Mach-O stores versions.
fn unpack(v: u32) -> (u32, u32) {
    (v >> 16, (v >> 8) & 0xff)
}

fn arch_name(cputype: macho::CpuType) -> String {
    match cputype {
        macho::CPU_TYPE_ARM64 => "arm64".into(),
        macho::CPU_TYPE_X86_64 => "x86_64".into(),
        macho::CPU_TYPE_X86 => "i386".into(),
        other => format!("cputype{:#x}", other.0),
    }
}

fn read_slice(data: &[u8]) -> Result<MachoSlice, BinaryError> {
    let file = object::read::macho::MachOFile64::<Endianness>::parse(data)?;
    let header = file.macho_header();
    let e = file.endian();
    let mut slice = MachoSlice {
        arch: arch_name(header.cputype(e)),
        filetype: header.filetype(e).0,
        min_macos: None,
        dylibs: Vec::new(),
        exports: BTreeSet::new(),
        dynamic_lookups: BTreeSet::new(),
    };
    let mut commands = file.macho_load_commands()?;
    while let Some(cmd) = commands.next()? {
        match cmd.variant()? {
            LoadCommandVariant::Dylib(d) => {
                slice.dylibs.push(utf8(cmd.string(e, d.dylib.name)?));
            }
            LoadCommandVariant::BuildVersion(b, _)
                if b.platform.get(e) == macho::PLATFORM_MACOS =>
            {
                slice.min_macos = Some(unpack(b.minos.get(e).0));
            }
            LoadCommandVariant::VersionMin(v) if cmd.cmd() == macho::LC_VERSION_MIN_MACOSX => {
                slice.min_macos = Some(unpack(v.version.get(e).0));
            }
            _ => {}
        }
    }
    let flat = header.flags(e).0 & macho::MH_TWOLEVEL.0 == 0;
    for sym in file.symbols() {
        let Ok(name) = sym.name() else { continue };
        if sym.is_undefined() {
            let nlist = sym.macho_symbol();
            let ordinal = usize::from(nlist.n_desc(e).library().0);
            if flat || ordinal == 0 || ordinal > slice.dylibs.len() {
                slice.dynamic_lookups.insert(name.to_string());
            }
        } else if sym.is_global() {
            slice.exports.insert(name.to_string());
        }
    }
    Ok(slice)
}

fn read_pe<Pe: object::read::pe::ImageNtHeaders>(data: &[u8]) -> Result<Binary, BinaryError> {
    let file = object::read::pe::PeFile::<Pe>::parse(data)?;
    let fh = file.nt_headers().file_header();
    let machine = fh.machine.get(object::LittleEndian).0;
    let is_dll = fh.characteristics.get(object::LittleEndian).0 & pe::IMAGE_FILE_DLL.0 != 0;
    let mut dlls = Vec::new();
    for import in file.imports()? {
        let lib = utf8(import?.library());
        if !dlls.contains(&lib) {
            dlls.push(lib);
        }
    }
    let mut exports = BTreeSet::new();
    for x in file.exports()? {
        if let Some(n) = x?.name().into_name() {
            exports.insert(utf8(n));
        }
    }
    Ok(Binary::Pe(PeInfo {
        machine,
        is_dll,
        dlls,
        exports,
    }))
}

impl Binary {
    /// Whether it exports `PyInit_<name>` (Mach-O prefixes C names with `_`).
    pub fn exports_init(&self, module: &str) -> bool {
        let init = format!("PyInit_{module}");
        match self {
            Binary::MachO(slices) => slices
                .iter()
                .all(|s| s.exports.contains(&format!("_{init}"))),
            Binary::Pe(p) => p.exports.contains(&init),
        }
    }

    /// The platform tag the file allows: `macosx_X_Y_{arch}` from the
    /// slices' minimum macOS (the oldest slice's for universal2, whose
    /// arm64 slice needs macOS 11, which every arm64 Mac has; from macOS 11
    /// only the major version counts, as in pip's tags), `win_amd64` /
    /// `win_arm64` / `win32` from the PE machine.
    pub fn platform(&self) -> Result<Platform, String> {
        match self {
            Binary::MachO(slices) => {
                let mut archs: Vec<&str> = slices.iter().map(|s| s.arch.as_str()).collect();
                archs.sort_unstable();
                let arch = match archs.as_slice() {
                    ["arm64", "x86_64"] => "universal2".to_string(),
                    [one] => one.to_string(),
                    other => {
                        return Err(format!(
                            "a fat file of {} has no wheel platform tag",
                            other.join(" + ")
                        ));
                    }
                };
                let version = slices
                    .iter()
                    .map(|s| s.min_macos.ok_or_else(|| format!("the {} slice states no minimum macOS (LC_BUILD_VERSION / LC_VERSION_MIN_MACOSX)", s.arch)))
                    .collect::<Result<Vec<_>, _>>()?
                    .into_iter()
                    .min()
                    .ok_or("a Mach-O file without slices")?;
                let version = if version.0 >= 11 {
                    (version.0, 0)
                } else {
                    version
                };
                Ok(Platform::Macos { version, arch })
            }
            Binary::Pe(p) => match p.machine {
                m if m == pe::IMAGE_FILE_MACHINE_AMD64.0 => {
                    Ok(Platform::Windows(WindowsArch::Amd64))
                }
                m if m == pe::IMAGE_FILE_MACHINE_ARM64.0 => {
                    Ok(Platform::Windows(WindowsArch::Arm64))
                }
                m if m == pe::IMAGE_FILE_MACHINE_I386.0 => {
                    Ok(Platform::Windows(WindowsArch::Win32))
                }
                m => Err(format!("PE machine {m:#x} has no wheel platform tag")),
            },
        }
    }

    /// What the module needs that neither the platform nor Python provides,
    /// one line each (empty: it loads into any matching interpreter).
    /// Allowed on macOS: dylibs under `/usr/lib/` and `/System/`, and
    /// dynamic lookups of Python's own symbols (`_Py*`, `__Py*`); on Windows:
    /// `python3.dll` / `python3X.dll`, the UCRT (`api-ms-win-crt-*`,
    /// `ucrtbase.dll`), `VCRUNTIME140.dll`, and the system DLLs `system`
    /// accepts (the module's own `libraries` of the system).
    pub fn foreign_needs(&self, system: &dyn Fn(&str) -> bool) -> Vec<String> {
        let mut out = Vec::new();
        match self {
            Binary::MachO(slices) => {
                for s in slices {
                    for d in &s.dylibs {
                        if !(d.starts_with("/usr/lib/") || d.starts_with("/System/")) {
                            out.push(format!(
                                "{}: links {d}, which macOS does not provide",
                                s.arch
                            ));
                        }
                    }
                    for sym in &s.dynamic_lookups {
                        if !(sym.starts_with("_Py") || sym.starts_with("__Py")) {
                            out.push(format!(
                                "{}: '{}' is left to be found when Python loads the module, and Python does not define it",
                                s.arch,
                                sym.strip_prefix('_').unwrap_or(sym)
                            ));
                        }
                    }
                }
            }
            Binary::Pe(p) => {
                for d in &p.dlls {
                    let l = d.to_ascii_lowercase();
                    let python = l == "python3.dll"
                        || l.strip_prefix("python3")
                            .and_then(|r| r.strip_suffix(".dll"))
                            .is_some_and(|r| {
                                r.trim_end_matches('t').bytes().all(|b| b.is_ascii_digit())
                            });
                    let crt = l.starts_with("api-ms-win-crt-")
                        || l.starts_with("api-ms-win-core-")
                        || matches!(
                            l.as_str(),
                            "ucrtbase.dll"
                                | "vcruntime140.dll"
                                | "vcruntime140_1.dll"
                                | "msvcrt.dll"
                        );
                    let stem = l.strip_suffix(".dll").unwrap_or(&l);
                    if !(python || crt || stem == "kernel32" || system(stem)) {
                        out.push(format!(
                            "imports {d}, which Windows and Python do not provide"
                        ));
                    }
                }
            }
        }
        out
    }
}

/// Joins thin Mach-O files of different architectures into one fat file
/// (what `lipo -create` writes): the big-endian `fat_header`, one
/// `fat_arch` per slice, each slice at a page-aligned offset (16 KiB for
/// arm64, 4 KiB otherwise, as lipo aligns them).
pub fn fat_file(slices: &[Vec<u8>]) -> Result<Vec<u8>, String> {
    let mut heads = Vec::new();
    for s in slices {
        let f = object::read::macho::MachOFile64::<Endianness>::parse(s.as_slice())
            .map_err(|e| format!("not a thin 64-bit Mach-O file: {e}"))?;
        let h = f.macho_header();
        let e = f.endian();
        heads.push((h.cputype(e).0, h.cpusubtype(e).0));
    }
    let mut out = Vec::new();
    let be = |out: &mut Vec<u8>, v: u32| out.extend_from_slice(&v.to_be_bytes());
    be(&mut out, macho::FAT_MAGIC);
    be(&mut out, slices.len() as u32);
    let mut offset = 8 + 20 * slices.len();
    let mut placed = Vec::new();
    for (s, (cputype, subtype)) in slices.iter().zip(&heads) {
        let align: u32 = if *cputype == macho::CPU_TYPE_ARM64.0 {
            14
        } else {
            12
        };
        offset = offset.div_ceil(1 << align) << align;
        be(&mut out, *cputype);
        be(&mut out, *subtype);
        be(&mut out, offset as u32);
        be(&mut out, s.len() as u32);
        be(&mut out, align);
        placed.push(offset);
        offset += s.len();
    }
    for (s, at) in slices.iter().zip(placed) {
        out.resize(at, 0);
        out.extend_from_slice(s);
    }
    Ok(out)
}

/// Turns a thin 64-bit `MH_DYLIB` into the `MH_BUNDLE` setuptools would
/// have linked (zig's linker writes no bundles): the file type changes and
/// `LC_ID_DYLIB` goes (a bundle has no install name; the commands after it
/// move up, the freed bytes become header padding). An ad-hoc code
/// signature (`LC_CODE_SIGNATURE`, which arm64 macOS requires and zig
/// writes) hashes the pages the header is in: its SHA-256 page hashes are
/// computed again, as `codesign` would.
pub fn dylib_to_bundle(data: &[u8]) -> Result<Vec<u8>, String> {
    let u32_at = |d: &[u8], at: usize| -> Result<u32, String> {
        d.get(at..at + 4)
            .map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")))
            .ok_or_else(|| format!("truncated Mach-O header at {at}"))
    };
    if data.get(..4) == Some(&macho::FAT_MAGIC.to_be_bytes()[..]) {
        // A native build with the interpreter's `-arch arm64 -arch x86_64`.
        let fat = MachOFatFile32::parse(data).map_err(|e| e.to_string())?;
        let mut slices = Vec::new();
        for a in fat.arches() {
            slices.push(dylib_to_bundle(a.data(data).map_err(|e| e.to_string())?)?);
        }
        return fat_file(&slices);
    }
    if u32_at(data, 0)? != macho::MH_MAGIC_64 {
        return Err("not a thin 64-bit little-endian Mach-O file".into());
    }
    if u32_at(data, 12)? != macho::MH_DYLIB.0 {
        return Ok(data.to_vec());
    }
    let mut out = data.to_vec();
    let ncmds = u32_at(data, 16)? as usize;
    let sizeofcmds = u32_at(data, 20)? as usize;
    let end = 32 + sizeofcmds;
    let mut at = 32;
    let mut id = None;
    let mut signature = None;
    for _ in 0..ncmds {
        let (cmd, size) = (u32_at(data, at)?, u32_at(data, at + 4)? as usize);
        if size < 8 || at + size > end {
            return Err(format!("a malformed load command at {at}"));
        }
        if cmd == macho::LC_ID_DYLIB.0 {
            id = Some((at, size));
        } else if cmd == macho::LC_CODE_SIGNATURE.0 {
            signature = Some((
                u32_at(data, at + 8)? as usize,
                u32_at(data, at + 12)? as usize,
            ));
        }
        at += size;
    }
    out[12..16].copy_from_slice(&macho::MH_BUNDLE.0.to_le_bytes());
    if let Some((at, size)) = id {
        out.copy_within(at + size..end, at);
        out[end - size..end].fill(0);
        out[16..20].copy_from_slice(&((ncmds - 1) as u32).to_le_bytes());
        out[20..24].copy_from_slice(&((sizeofcmds - size) as u32).to_le_bytes());
    }
    if let Some((off, size)) = signature {
        resign_pages(&mut out, off, size)?;
    }
    Ok(out)
}

/// Recomputes the page hashes of every SHA-256 CodeDirectory in the
/// signature at `off..off + size` (big-endian blobs: a SuperBlob
/// `0xfade0cc0` indexing CodeDirectories `0xfade0c02`).
fn resign_pages(out: &mut [u8], off: usize, size: usize) -> Result<(), String> {
    use sha2::{Digest, Sha256};
    let be = |d: &[u8], at: usize| -> Result<u32, String> {
        d.get(at..at + 4)
            .map(|b| u32::from_be_bytes(b.try_into().expect("4 bytes")))
            .ok_or_else(|| format!("truncated code signature at {at}"))
    };
    if off + size > out.len() || be(out, off)? != 0xfade_0cc0 {
        return Err("the code signature is not a SuperBlob".into());
    }
    let count = be(out, off + 8)? as usize;
    for i in 0..count {
        let blob = off + be(out, off + 12 + 8 * i + 4)? as usize;
        if be(out, blob)? != 0xfade_0c02 {
            continue;
        }
        let hash_offset = be(out, blob + 16)? as usize;
        let n_code_slots = be(out, blob + 28)? as usize;
        let code_limit = be(out, blob + 32)? as usize;
        let (hash_size, hash_type, page_shift) = (
            *out.get(blob + 36).ok_or("truncated CodeDirectory")? as usize,
            *out.get(blob + 37).ok_or("truncated CodeDirectory")?,
            *out.get(blob + 39).ok_or("truncated CodeDirectory")? as u32,
        );
        if hash_type != 2 || hash_size != 32 || page_shift == 0 || code_limit > off {
            return Err(format!(
                "a CodeDirectory this program cannot re-hash (hash type {hash_type}, size {hash_size}, page 2^{page_shift})"
            ));
        }
        let page = 1usize << page_shift;
        for slot in 0..n_code_slots {
            let start = slot * page;
            let stop = (start + page).min(code_limit);
            let digest = Sha256::digest(&out[start..stop]);
            let at = blob + hash_offset + slot * 32;
            out.get_mut(at..at + 32)
                .ok_or("a page hash outside the signature")?
                .copy_from_slice(&digest);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
