//! Safe wrappers over libclang (clang-sys, loaded at run time). The only module with `unsafe`.
#![allow(unsafe_code)]
