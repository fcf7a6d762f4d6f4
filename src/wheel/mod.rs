//! Wheels, sdists and editable wheels: one archive writer, several sinks.
//!
//! [`archive`] decides the order and RECORD of a wheel and writes it to a
//! sink (a zip file written atomically, or a listing); [`sdist`] selects and
//! packs the source tree; [`build`] runs the pipeline the PEP 517 hooks ask for.

pub mod archive;
pub mod build;
pub mod sdist;

pub use build::{BuildError, BuildRequest, BuildSettings, build_sdist, build_wheel, get_requires, prepare_metadata};
