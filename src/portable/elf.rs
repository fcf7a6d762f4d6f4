//! What a shared object asks of the dynamic loader: its needed libraries,
//! search paths, and the symbol versions it requires of each library.

use std::collections::{BTreeMap, BTreeSet};

use object::read::elf::{ElfFile32, ElfFile64, FileHeader, SectionTable};
use object::{Endianness, FileKind, ReadRef, elf};

/// The dynamic-linking facts of one ELF file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ElfInfo {
    /// `e_machine` (e.g. 62 for x86-64).
    pub machine: u16,
    /// 64-bit ELF.
    pub is_64: bool,
    /// `DT_SONAME`, if any.
    pub soname: Option<String>,
    /// `DT_NEEDED` entries, in order.
    pub needed: Vec<String>,
    /// `DT_RUNPATH` entries (colon-separated in the file).
    pub runpath: Vec<String>,
    /// `DT_RPATH` entries.
    pub rpath: Vec<String>,
    /// `PT_INTERP` (the program interpreter), if any.
    pub interp: Option<String>,
    /// Symbol versions required of each library (`.gnu.version_r`), e.g.
    /// `libc.so.6 → {GLIBC_2.2.5, GLIBC_2.14}`.
    pub version_needs: BTreeMap<String, BTreeSet<String>>,
    /// Names of the undefined dynamic symbols (what it imports).
    pub undefined_symbols: BTreeSet<String>,
    /// The undefined dynamic symbols that are not weak: the import fails
    /// unless something loaded defines them.
    pub required_symbols: BTreeSet<String>,
    /// Names of the dynamic symbols it defines (what it exports).
    pub defined_symbols: BTreeSet<String>,
}

/// Why an ELF file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ElfError {
    /// Not an ELF shared object we can read.
    #[error("not an ELF file")]
    NotElf,
    /// Malformed ELF data.
    #[error("malformed ELF file: {0}")]
    Malformed(#[from] object::read::Error),
}

/// Reads the dynamic-linking facts of an ELF file.
pub fn read_elf(data: &[u8]) -> Result<ElfInfo, ElfError> {
    match FileKind::parse(data).map_err(|_| ElfError::NotElf)? {
        FileKind::Elf64 => read_with(ElfFile64::<Endianness>::parse(data)?, true),
        FileKind::Elf32 => read_with(ElfFile32::<Endianness>::parse(data)?, false),
        _ => Err(ElfError::NotElf),
    }
}

fn utf8(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn read_with<'data, Elf: FileHeader<Endian = Endianness>, R: ReadRef<'data>>(
    file: object::read::elf::ElfFile<'data, Elf, R>,
    is_64: bool,
) -> Result<ElfInfo, ElfError> {
    let endian = file.endian();
    let data = file.data();
    let header = file.elf_header();
    let sections: &SectionTable<'data, Elf, R> = file.elf_section_table();
    let mut info = ElfInfo {
        machine: header.e_machine(endian).0,
        is_64,
        ..ElfInfo::default()
    };

    for ph in file.elf_program_headers() {
        use object::read::elf::ProgramHeader;
        if ph.p_type(endian) == elf::PT_INTERP
            && let Ok(bytes) = ph.data(endian, data)
        {
            let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
            info.interp = Some(utf8(&bytes[..end]));
        }
    }

    if let Some((dynamic, strtab_index)) = sections.dynamic(endian, data)? {
        let strings = sections.strings(endian, data, strtab_index)?;
        for entry in dynamic {
            use object::read::elf::Dyn;
            let tag = entry.tag(endian);
            let string = || entry.string(endian, strings).map(utf8);
            match tag {
                elf::DT_NEEDED => info.needed.push(string()?),
                elf::DT_SONAME => info.soname = Some(string()?),
                elf::DT_RUNPATH => info.runpath.extend(
                    string()?
                        .split(':')
                        .filter(|s| !s.is_empty())
                        .map(str::to_string),
                ),
                elf::DT_RPATH => info.rpath.extend(
                    string()?
                        .split(':')
                        .filter(|s| !s.is_empty())
                        .map(str::to_string),
                ),
                _ => {}
            }
        }
    }

    if let Some((mut needs, strtab_index)) = sections.gnu_verneed(endian, data)? {
        let strings = sections.strings(endian, data, strtab_index)?;
        while let Some((need, mut auxes)) = needs.next()? {
            let lib = utf8(need.file(endian, strings)?);
            let versions = info.version_needs.entry(lib).or_default();
            while let Some(aux) = auxes.next()? {
                versions.insert(utf8(aux.name(endian, strings)?));
            }
        }
    }

    let symbols = sections.symbols(endian, data, elf::SHT_DYNSYM)?;
    for sym in symbols.iter() {
        use object::read::elf::Sym;
        if sym.st_name(endian) == 0 {
            continue;
        }
        let name = utf8(sym.name(endian, symbols.strings())?);
        if sym.st_shndx(endian) == elf::SHN_UNDEF {
            if sym.st_bind() != elf::STB_WEAK {
                info.required_symbols.insert(name.clone());
            }
            info.undefined_symbols.insert(name);
        } else {
            info.defined_symbols.insert(name);
        }
    }
    Ok(info)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_needs_of_a_system_library() {
        // libz is on every machine that builds Python extensions; fall back to libc.
        let candidates = [
            "/lib/x86_64-linux-gnu/libz.so.1",
            "/usr/lib/x86_64-linux-gnu/libz.so.1",
            "/lib/x86_64-linux-gnu/libc.so.6",
        ];
        let Some(path) = candidates.iter().find(|p| std::path::Path::new(p).exists()) else {
            eprintln!("skipped: no known system library to read");
            return;
        };
        let info = read_elf(&std::fs::read(path).unwrap()).unwrap();
        assert!(info.soname.is_some());
        assert!(info.is_64);
        if path.contains("libz") {
            assert!(info.needed.iter().any(|n| n == "libc.so.6"), "{info:?}");
            assert!(
                info.version_needs["libc.so.6"]
                    .iter()
                    .all(|v| v.starts_with("GLIBC_"))
            );
        }
    }

    #[test]
    fn rejects_non_elf_bytes() {
        assert!(matches!(read_elf(b"#!/bin/sh\n"), Err(ElfError::NotElf)));
        assert!(read_elf(b"\x7fELF\x02\x01\x01").is_err());
    }
}
