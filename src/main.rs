//! The `headerwheel` command line.
fn main() {
    std::process::exit(headerwheel::commands::main(
        std::env::args_os().skip(1).collect(),
    ));
}

// The parser and emitter allocate many small strings; mimalloc (a well-kept,
// widely used allocator) makes them markedly cheaper than glibc's malloc.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
