//! `qingguan`: serve, demo, user administration and backups. See `qingguan --help`.

fn main() -> std::process::ExitCode {
    qingguan::cli::main()
}
