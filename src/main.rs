//! The `headerwheel` command line.
fn main() {
    std::process::exit(headerwheel::cli::main(
        std::env::args_os().skip(1).collect(),
    ));
}
