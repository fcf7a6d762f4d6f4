//! Compiling emitted C into an extension module with the `cc` crate, using the target interpreter's flags.
