//! The plugins folder: a `.wasm` dropped into `DATA/plugins/` is installed (or upgraded)
//! through the same path as the API and CLI, once the file has stopped changing — so a
//! half-copied file is never loaded. Accepted files are removed; refused ones are renamed to
//! `*.wasm.rejected`, and the reason is shown in `GET /api/v1/plugins` and the log.

use crate::lifecycle::{InstallOptions, PluginManager};
use notify::{RecursiveMode, Watcher};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, Weak};
use std::time::{Duration, Instant, SystemTime};

/// How long a file must stay unchanged before it is loaded.
pub const DEBOUNCE: Duration = Duration::from_millis(300);

fn is_candidate(p: &Path) -> bool {
    p.extension().is_some_and(|e| e == "wasm") && p.is_file()
}

fn stamp(p: &Path) -> Option<(u64, SystemTime)> {
    let m = std::fs::metadata(p).ok()?;
    Some((m.len(), m.modified().ok()?))
}

/// Watches the manager's folder on a background thread until the manager is dropped.
pub fn spawn(mgr: &Arc<PluginManager>) -> anyhow::Result<()> {
    let dir = mgr.folder().to_path_buf();
    std::fs::create_dir_all(&dir)?;
    let (tx, rx) = mpsc::channel::<PathBuf>();
    let mut watcher = notify::recommended_watcher(move |ev: notify::Result<notify::Event>| {
        if let Ok(ev) = ev {
            for p in ev.paths {
                let _ = tx.send(p);
            }
        }
    })?;
    watcher.watch(&dir, RecursiveMode::NonRecursive)?;
    let weak = Arc::downgrade(mgr);
    std::thread::Builder::new()
        .name("qingguan-plugin-folder".into())
        .spawn(move || run(watcher, rx, dir, weak))?;
    Ok(())
}

fn run(
    _watcher: notify::RecommendedWatcher,
    rx: mpsc::Receiver<PathBuf>,
    dir: PathBuf,
    mgr: Weak<PluginManager>,
) {
    let mut pending: HashMap<PathBuf, ((u64, SystemTime), Instant)> = HashMap::new();
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for e in entries.flatten() {
            let p = e.path();
            if let (true, Some(s)) = (is_candidate(&p), stamp(&p)) {
                pending.insert(p, (s, Instant::now()));
            }
        }
    }
    loop {
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(p) => {
                if is_candidate(&p) {
                    if let Some(s) = stamp(&p) {
                        pending.insert(p, (s, Instant::now()));
                    }
                }
                continue;
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        let Some(mgr) = mgr.upgrade() else { return };
        let mut ready = Vec::new();
        pending.retain(|p, (s, since)| match stamp(p) {
            None => false,
            Some(now) if now != *s => {
                *s = now;
                *since = Instant::now();
                true
            }
            Some(_) if since.elapsed() >= DEBOUNCE => {
                ready.push(p.clone());
                false
            }
            Some(_) => true,
        });
        for p in ready {
            load(&mgr, &p);
        }
    }
}

fn load(mgr: &PluginManager, path: &Path) {
    let name = path.file_name().map(|n| n.to_string_lossy().to_string());
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(file = %path.display(), error = %e, "cannot read dropped plugin");
            return;
        }
    };
    let outcome = mgr.install(
        &bytes,
        InstallOptions {
            approve: false,
            source: name,
            by: None,
        },
    );
    match outcome {
        Ok(info) => {
            tracing::info!(file = %path.display(), plugin = %info.id, version = %info.version, "installed from the plugins folder");
            let _ = std::fs::remove_file(path);
        }
        Err(e) => {
            tracing::warn!(file = %path.display(), error = %e, "refused a dropped plugin");
            let mut rejected = path.as_os_str().to_owned();
            rejected.push(".rejected");
            let _ = std::fs::rename(path, PathBuf::from(rejected));
        }
    }
}
