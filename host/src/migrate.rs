//! `qingguan migrate`: moves an install from its SQLite file to a PostgreSQL database, and says
//! what it moved.

use anyhow::{bail, Context};
use std::path::{Path, PathBuf};

/// The SQLite database a `--from` names: `sqlite:PATH`, PATH being the database file or the
/// data directory holding it.
fn source_file(from: &str) -> anyhow::Result<PathBuf> {
    let Some(path) = from.strip_prefix("sqlite:") else {
        bail!("--from takes sqlite:PATH (the data directory or its qingguan.db), not {from}");
    };
    let path = Path::new(path);
    Ok(if path.is_dir() {
        crate::server::database_path(path)
    } else {
        path.to_path_buf()
    })
}

/// Copies the install at `from` into the database at `to` and prints the rows per table.
pub fn migrate(from: &str, to: &str, sessions: bool) -> anyhow::Result<()> {
    if !to.starts_with("postgres://") && !to.starts_with("postgresql://") {
        bail!("--to takes a PostgreSQL URL (postgres://user:password@host/database)");
    }
    let source = source_file(from)?;
    // Nobody serves the install while it is copied (what they wrote after would be left behind).
    let dir = source.parent().unwrap_or(Path::new("."));
    let _held = crate::server::lock_data_dir(dir)?;
    let report = qingguan_core::copy_to_postgres(&source, to, sessions).with_context(|| {
        format!(
            "cannot copy {} to {}",
            source.display(),
            crate::server::redacted(to)
        )
    })?;
    for (table, rows) in &report.tables {
        println!("{table:<28} {rows:>10}");
    }
    let rows: u64 = report.tables.values().sum();
    println!(
        "Copied {rows} rows in {} tables (counts checked on both sides) and indexed {} records \
         for search. Serve it with `qingguan serve --database {} --data-dir <the same data \
         directory>` (the plugins' files stay there).",
        report.tables.len(),
        report.indexed,
        crate::server::redacted(to)
    );
    Ok(())
}
