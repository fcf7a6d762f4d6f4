//! C headers → header model, through libclang.
//!
//! `clang` is the only module of the crate allowed to use `unsafe`.
pub mod clang;
