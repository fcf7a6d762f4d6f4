//! CFFI cdef text: the parser (cdef text → `model::Declarations`) and the writer (header model → cdef text).
