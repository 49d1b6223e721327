//! `qingguan backup` and `qingguan restore`: the whole install in one file — a consistent
//! snapshot of the database and the kept plugin versions (`plugins/versions/…`) — and back
//! into an empty data directory, where `serve` finds every plugin as it was.

use anyhow::{bail, Context};
use qingguan_core::InstallFile;
use std::path::{Component, Path, PathBuf};

/// The folder of kept plugin versions, relative to the data directory.
const VERSIONS: &str = "plugins/versions";

/// What a backup holds.
#[derive(Debug)]
pub struct BackupSummary {
    /// Bytes of the backup file.
    pub bytes: u64,
    /// Plugin component files in it.
    pub files: usize,
}

/// `qingguan backup`: writes the install to `file` and says what it wrote. A PostgreSQL
/// install is backed up with PostgreSQL's own tools.
pub fn backup_command(data_dir: &Path, database: Option<&str>, file: &Path) -> anyhow::Result<()> {
    if database.is_some() {
        bail!(
            "this install keeps its data in PostgreSQL: back the database up with pg_dump, \
             and the data directory's plugins folder with it"
        );
    }
    let done = backup(data_dir, file)?;
    println!(
        "Backed up {} to {} ({} KiB, {} plugin file(s))",
        data_dir.display(),
        file.display(),
        done.bytes / 1024,
        done.files
    );
    Ok(())
}

/// `qingguan restore`: brings a backup back into an empty data directory (SQLite only).
pub fn restore_command(file: &Path, data_dir: &Path, database: Option<&str>) -> anyhow::Result<()> {
    if database.is_some() {
        bail!("a backup restores a SQLite install; restore a PostgreSQL one with pg_restore");
    }
    let files = restore(file, data_dir)?;
    println!(
        "Restored {} into {} ({files} plugin file(s)); start it with `qingguan serve --data-dir {}`",
        file.display(),
        data_dir.display(),
        data_dir.display()
    );
    Ok(())
}

/// Writes the install in `data_dir` to `file` (which must not exist) while it may be serving.
pub fn backup(data_dir: &Path, file: &Path) -> anyhow::Result<BackupSummary> {
    let db = crate::server::database_path(data_dir);
    if !db.exists() {
        bail!("no database at {} (wrong --data-dir?)", db.display());
    }
    let files = install_files(data_dir)?;
    let store = crate::server::open_store(data_dir, None)?;
    store
        .backup_install(file, &files)
        .map_err(|e| anyhow::anyhow!("backup to {} failed: {e}", file.display()))?;
    Ok(BackupSummary {
        bytes: std::fs::metadata(file).map(|m| m.len()).unwrap_or(0),
        files: files.len(),
    })
}

/// Restores `file` into `data_dir`, which must hold no database yet. Returns the number of
/// plugin files put back.
pub fn restore(file: &Path, data_dir: &Path) -> anyhow::Result<usize> {
    if !file.is_file() {
        bail!("no backup at {}", file.display());
    }
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create {}", data_dir.display()))?;
    let db = crate::server::database_path(data_dir);
    let files = qingguan_core::restore_install(file, &db)
        .map_err(|e| anyhow::anyhow!("restoring {} failed: {e}", file.display()))?;
    for (path, bytes) in &files {
        let target = data_dir.join(safe_relative(path)?);
        if let Some(dir) = target.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        std::fs::write(&target, bytes)
            .with_context(|| format!("cannot write {}", target.display()))?;
    }
    Ok(files.len())
}

/// The kept plugin versions of an install, as paths relative to the data directory.
fn install_files(data_dir: &Path) -> anyhow::Result<Vec<InstallFile>> {
    let mut out = Vec::new();
    let root = data_dir.join(VERSIONS);
    if root.is_dir() {
        collect(&root, data_dir, &mut out)?;
    }
    out.sort();
    Ok(out)
}

fn collect(dir: &Path, base: &Path, out: &mut Vec<InstallFile>) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            collect(&path, base, out)?;
        } else if path.is_file() {
            let rel = path
                .strip_prefix(base)
                .expect("under the data directory")
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            let bytes =
                std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
            out.push((rel, bytes));
        }
    }
    Ok(())
}

/// A path from a backup, checked to stay inside the kept plugin versions.
fn safe_relative(path: &str) -> anyhow::Result<PathBuf> {
    let p = Path::new(path);
    let plain = p.components().all(|c| matches!(c, Component::Normal(_)));
    if !plain || !path.starts_with(&format!("{VERSIONS}/")) {
        bail!("the backup names a file outside {VERSIONS}: {path}");
    }
    Ok(p.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::safe_relative;

    #[test]
    fn restored_files_stay_inside_the_plugin_versions() {
        assert!(safe_relative("plugins/versions/sales/1.1.0-abc.wasm").is_ok());
        for bad in [
            "plugins/versions/../../etc/passwd",
            "/etc/passwd",
            "qingguan.db",
            "plugins/versions",
            "plugins/cache/x",
        ] {
            assert!(safe_relative(bad).is_err(), "{bad}");
        }
    }
}
