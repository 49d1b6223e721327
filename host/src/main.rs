//! `qingguan`: serve, demo, user administration and backups. See `qingguan --help`.

/// mimalloc: a list page of 50 records spent about 40% of its CPU in glibc's allocator
/// (building and serialising JSON values); see docs/benchmarks.md. Its `override` feature
/// makes it C's `malloc` too, so SQLite's allocations (a create's B-tree pages, savepoint
/// journal) leave glibc's allocator as well (session 34).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    qingguan::cli::main()
}
