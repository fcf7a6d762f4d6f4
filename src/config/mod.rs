//! Project configuration: `pyproject.toml` (`[project]`, `[tool.headerwheel]`, `[tool.headerkit]`).
//!
//! [`load`] reads the file once, keeps every value's span, and validates
//! strictly: an unknown key, a bad version, requirement or SPDX expression,
//! or a missing cdef file is a [`ConfigError`] that names the file, line,
//! column and key, and quotes the line with a caret under the value.

pub mod glob;
pub mod metadata;
pub mod pep;
mod spdx_ids;
pub mod toml;
pub mod tool;

use std::path::{Path, PathBuf};

pub use metadata::{License, Metadata, Person, Readme};
pub use tool::{Layout, Mode, ModuleConfig, Preamble, SdistConfig};

use self::toml::TableView;

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("failed to read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A value is wrong; points at it.
    #[error("{}:{line}:{col}: {}{message}\n{snippet}", file.display(), if key.is_empty() { String::new() } else { format!("{key}: ") })]
    Invalid {
        /// The file.
        file: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        col: usize,
        /// Dotted key path (`project.license`), empty for syntax errors.
        key: String,
        /// What is wrong.
        message: String,
        /// The offending line with a caret under the value.
        snippet: String,
    },
}

/// A project, as its `pyproject.toml` describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Project {
    /// The project directory.
    pub root: PathBuf,
    /// Core metadata (with `cffi` added for CFFI modules).
    pub metadata: Metadata,
    /// Where the Python packages are.
    pub layout: Layout,
    /// The CFFI extension modules, sorted by name.
    pub modules: Vec<ModuleConfig>,
    /// Build API-mode modules for the limited API when the interpreter allows.
    pub abi3: bool,
    /// The sdist's include/exclude lists.
    pub sdist: SdistConfig,
    /// Whether `[tool.headerkit]` is present (the header stage may run).
    pub has_headerkit: bool,
}

/// The requirement added to `Requires-Dist` when a project has CFFI modules:
/// both modes import `_cffi_backend` at run time.
pub const CFFI_REQUIREMENT: &str = "cffi>=2.0";

/// Loads and validates `<root>/pyproject.toml`.
pub fn load(root: &Path) -> Result<Project, ConfigError> {
    let path = root.join("pyproject.toml");
    let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Io {
        path: path.clone(),
        source,
    })?;
    load_str(root, Path::new("pyproject.toml"), text)
}

/// Validates `text` as the `pyproject.toml` of the project at `root`;
/// `shown` is the file name used in messages.
pub fn load_str(root: &Path, shown: &Path, text: String) -> Result<Project, ConfigError> {
    let (source, doc) = toml::parse(shown, text)?;
    let top = TableView::new(&source, "", &doc)?;
    let Some(project) = top.table("project")? else {
        return Err(source.error(&(0..0), "project", "pyproject.toml has no [project] table"));
    };
    let mut metadata = metadata::from_project(&project, root)?;
    let tool = top.table("tool")?;
    let headerwheel = match &tool {
        Some(t) => t.table("headerwheel")?,
        None => None,
    };
    let has_headerkit = tool.as_ref().is_some_and(|t| t.get("headerkit").is_some());
    let settings = tool::from_tool(headerwheel.as_ref(), &source, root, &metadata)?;
    if !settings.modules.is_empty() {
        metadata.ensure_dependency(CFFI_REQUIREMENT);
    }
    Ok(Project {
        root: root.to_path_buf(),
        metadata,
        layout: settings.layout,
        modules: settings.modules,
        abi3: settings.abi3,
        sdist: settings.sdist,
        has_headerkit,
    })
}

#[cfg(test)]
mod tests;
