//! The `qingguan` command line, built inside this package so that CLI tests can run it
//! (`CARGO_BIN_EXE_qingguan-cli`). Identical to the real binary's `main`.

fn main() -> std::process::ExitCode {
    qingguan::cli::main()
}
