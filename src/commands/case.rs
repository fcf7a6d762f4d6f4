//! Replays a CFFI corpus case (`case.json`, see the corpus README): the
//! `cdef` / `include` / `embedding_init_code` operations over several FFIs,
//! in their recorded order, as `cffi-gen-src` would have seen them.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::cdef::{CdefError, CdefInput, Ffi, IncludedFfi};
use crate::model::Types;

/// One recorded FFI operation.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    /// `ffi.cdef(...)` or `ffi.embedding_api(...)` (when `dllexport`).
    Cdef {
        /// Which FFI.
        ffi: String,
        /// The cdef text.
        csource: String,
        /// `override=`.
        #[serde(default)]
        #[serde(rename = "override")]
        override_: bool,
        /// `packed=`.
        #[serde(default)]
        packed: bool,
        /// `pack=`.
        #[serde(default)]
        pack: Option<u32>,
        /// `embedding_api()` rather than `cdef()`.
        #[serde(default)]
        dllexport: bool,
        /// The op raised this exception class in the original run.
        #[serde(default)]
        raises: Option<String>,
    },
    /// `ffi.include(other)`.
    Include {
        /// The including FFI.
        ffi: String,
        /// The included FFI.
        other: String,
        /// The op raised in the original run.
        #[serde(default)]
        raises: Option<String>,
    },
    /// `ffi.embedding_init_code(pysource)`.
    EmbeddingInitCode {
        /// Which FFI.
        ffi: String,
        /// The Python source.
        pysource: String,
        /// The op raised in the original run.
        #[serde(default)]
        raises: Option<String>,
    },
}

/// `set_source()` of an included FFI.
#[derive(Debug, Clone, Deserialize)]
pub struct IncludedSource {
    /// Its module name.
    pub module_name: String,
    /// Its preamble (`None`: ABI mode).
    pub source: Option<String>,
}

/// A corpus case.
#[derive(Debug, Clone, Deserialize)]
pub struct Case {
    /// Case id.
    pub id: String,
    /// `c` (API mode) or `py` (ABI mode).
    pub target: String,
    /// The emitted module's name.
    pub module_name: String,
    /// The `set_source()` preamble (C cases).
    #[serde(default)]
    pub preamble: Option<String>,
    /// The FFI that is emitted.
    pub target_ffi: String,
    /// The operations.
    pub ops: Vec<Op>,
    /// Included FFIs' `set_source()`.
    #[serde(default)]
    pub included_sources: Option<BTreeMap<String, Option<IncludedSource>>>,
}

/// The FFIs of a replayed case.
#[derive(Debug)]
pub struct Replayed {
    /// The shared type arena.
    pub types: Types,
    /// Every FFI by id.
    pub ffis: BTreeMap<String, Ffi>,
    /// Ops that raised although the recording says they did not, or the
    /// reverse.
    pub problems: Vec<String>,
}

impl Case {
    /// Reads a `case.json`.
    pub fn from_json(text: &str) -> Result<Case, serde_json::Error> {
        serde_json::from_str(text)
    }

    fn included(&self, other: &str) -> IncludedFfi {
        match self
            .included_sources
            .as_ref()
            .and_then(|m| m.get(other))
            .and_then(Option::as_ref)
        {
            Some(s) => IncludedFfi {
                module_name: s.module_name.clone(),
                abi_mode: s.source.is_none(),
            },
            None => IncludedFfi {
                module_name: String::new(),
                abi_mode: true,
            },
        }
    }

    /// Applies the operations in order. An op recorded as raising must fail
    /// (its error is swallowed, as in the recording); any other failure is
    /// returned.
    pub fn replay(&self) -> Result<Replayed, CdefError> {
        let mut types = Types::new();
        let mut ffis: BTreeMap<String, Ffi> = BTreeMap::new();
        ffis.insert(self.target_ffi.clone(), Ffi::new());
        let mut problems = Vec::new();
        for op in &self.ops {
            let (res, raises) = match op {
                Op::Cdef {
                    ffi,
                    csource,
                    override_,
                    packed,
                    pack,
                    dllexport,
                    raises,
                } => {
                    let input = CdefInput {
                        text: csource.clone(),
                        origin: String::new(),
                        override_: *override_,
                        packed: *packed,
                        pack: *pack,
                    };
                    let f = ffis.entry(ffi.clone()).or_default();
                    let r = if *dllexport {
                        f.embedding_api(&mut types, &input)
                    } else {
                        f.cdef(&mut types, &input)
                    };
                    (r, raises)
                }
                Op::Include { ffi, other, raises } => {
                    let o = ffis.entry(other.clone()).or_default().clone();
                    let inc = self.included(other);
                    let r = ffis
                        .entry(ffi.clone())
                        .or_default()
                        .include(&mut types, &o, inc);
                    (r, raises)
                }
                Op::EmbeddingInitCode {
                    ffi,
                    pysource,
                    raises,
                } => {
                    let r = ffis
                        .entry(ffi.clone())
                        .or_default()
                        .embedding_init_code(pysource);
                    (r, raises)
                }
            };
            match (res, raises) {
                (Ok(()), None) => {}
                (Err(e), None) => return Err(e),
                (Err(_), Some(_)) => {}
                (Ok(()), Some(r)) => problems.push(format!("an op did not raise {r}")),
            }
        }
        Ok(Replayed {
            types,
            ffis,
            problems,
        })
    }
}
