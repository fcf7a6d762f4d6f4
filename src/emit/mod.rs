//! The CFFI recompiler in Rust: C source for API mode and Python source for ABI mode, byte-identical to CFFI 2.1.1.
