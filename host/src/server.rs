//! Running the HTTP server: opening the install's data directory, binding, serving until a
//! shutdown signal, and finishing in-flight requests.

use crate::state::{AppState, Config};
use anyhow::Context;
use axum::extract::ConnectInfo;
use axum::http::Request;
use hyper::body::Incoming;
use qingguan_core::{Store, StoreOptions};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The database file inside a data directory.
pub fn database_path(data_dir: &Path) -> PathBuf {
    data_dir.join("qingguan.db")
}

/// Opens (creating if needed) the store of a data directory: its SQLite file, or the
/// PostgreSQL database at `postgres` (`postgres://user:password@host:port/database`; the data
/// directory then holds the plugins' files only).
pub fn open_store(data_dir: &Path, postgres: Option<&str>) -> anyhow::Result<Arc<Store>> {
    open_store_as(data_dir, postgres, false)
}

/// [`open_store`] for the server that will serve it: on PostgreSQL the database is claimed
/// before anything is migrated, so a second host stops without touching it.
pub fn open_store_to_serve(data_dir: &Path, postgres: Option<&str>) -> anyhow::Result<Arc<Store>> {
    open_store_as(data_dir, postgres, true)
}

fn open_store_as(
    data_dir: &Path,
    postgres: Option<&str>,
    serve: bool,
) -> anyhow::Result<Arc<Store>> {
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create data directory {}", data_dir.display()))?;
    let options = match postgres {
        Some(url) => StoreOptions::postgres(url),
        None => StoreOptions::new(database_path(data_dir)),
    };
    let options = if serve { options.to_serve() } else { options };
    let store = match postgres {
        Some(url) => Store::open(options)
            .with_context(|| format!("cannot open the PostgreSQL database at {}", redacted(url)))?,
        None => Store::open(options)
            .with_context(|| format!("cannot open the database in {}", data_dir.display()))?,
    };
    Ok(Arc::new(store))
}

/// A database URL without its password (`user:password@`, or a `password=` parameter), for
/// messages.
pub fn redacted(url: &str) -> String {
    let mut out = match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let user_info = &url[scheme + 3..at];
            match user_info.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    };
    while let Some(at) = out
        .find("password=")
        .filter(|at| !out[at + 9..].starts_with("***"))
    {
        let value = at + 9;
        let end = out[value..]
            .find(['&', ' '])
            .map_or(out.len(), |e| value + e);
        out.replace_range(value..end, "***");
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn database_urls_are_shown_without_their_passwords() {
        let r = super::redacted;
        assert_eq!(r("postgres://qg:s3cret@db/qg"), "postgres://qg:***@db/qg");
        assert_eq!(
            r("postgres://qg@db/qg?password=s3cret&sslmode=require"),
            "postgres://qg@db/qg?password=***&sslmode=require"
        );
        assert_eq!(
            r("host=db user=qg password=s3cret"),
            "host=db user=qg password=***"
        );
        assert_eq!(r("postgres://db/qg"), "postgres://db/qg");
    }
}

/// Holds a data directory for the one process serving it (an OS lock on `serve.lock`, let go
/// when the process ends, however it ends): a second `serve` of the same directory stops at
/// once instead of running the install's background work — imports, jobs, plugin swaps —
/// twice over one database. Commands that only read or add (user add, backup) take no lock.
/// The data directory belongs on a local disk (SQLite's WAL needs one; a network file system
/// may not lock).
pub fn lock_data_dir(data_dir: &Path) -> anyhow::Result<std::fs::File> {
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create data directory {}", data_dir.display()))?;
    let path = data_dir.join("serve.lock");
    let mut options = std::fs::OpenOptions::new();
    options.create(true).truncate(false).write(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => anyhow::bail!(
            "another qingguan is already serving {}: stop it first (two servers on one data \
             directory would both run its imports, jobs and plugin swaps)",
            data_dir.display()
        ),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("cannot lock {}", path.display()))
        }
    }
}

/// A server bound to its address, ready to run.
#[derive(Debug)]
pub struct Server {
    listener: tokio::net::TcpListener,
    state: AppState,
}

impl Server {
    /// Binds `addr` for `store`; plugins live under `data_dir/plugins`.
    pub async fn bind(
        addr: SocketAddr,
        store: Arc<Store>,
        data_dir: &Path,
        config: Config,
    ) -> anyhow::Result<Server> {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr} (is another server using it?)"))?;
        let plugins = open_plugins(store.clone(), data_dir, &config)?;
        Ok(Server {
            listener,
            state: AppState::new(store, plugins, config),
        })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// The shared state.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Loads the installed plugins (health answers 503 until then), then serves until
    /// `shutdown` resolves and lets running requests finish.
    pub async fn run(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let router = crate::app(self.state.clone());
        let state = self.state.clone();
        let host = crate::peers::join(&state)
            .await
            .context("cannot join the hosts serving the database")?;
        tracing::info!(host, "serving");
        tokio::spawn(async move {
            let plugins = state.plugins().clone();
            match tokio::task::spawn_blocking(move || plugins.load_all()).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::error!(error = %e, "loading plugins failed"),
                Err(e) => tracing::error!(error = %e, "loading plugins panicked"),
            }
            if let Err(e) = qingguan_runtime::watch::spawn(state.plugins()) {
                tracing::error!(error = %e, "cannot watch the plugins folder");
            }
            state.set_ready(true);
            tokio::spawn(crate::peers::run(state.clone()));
            tokio::spawn(crate::ui::mail_notifications(
                state.clone(),
                state.config().mail_poll,
            ));
            tokio::spawn(crate::webhook_sender::run(
                state.store().clone(),
                state.config().webhook_poll,
                state.config().webhook_retry_base,
            ));
            crate::background::run(state).await;
        });
        let served = serve(self.listener, router, self.state.config(), shutdown).await;
        crate::peers::leave(&self.state).await;
        served
    }
}

/// Serves HTTP/1 on `listener` until `shutdown` resolves, then lets open connections finish.
///
/// Each connection must send a complete request head within `header_read_timeout` (hyper's
/// timer; this also ends idle keep-alive connections), and at most `max_connections` are
/// served at once: past that the loop stops accepting, so further clients wait in the
/// kernel's backlog instead of taking file descriptors. Every request carries the peer address
/// as `ConnectInfo<SocketAddr>`.
async fn serve(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    config: &Config,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use tower::ServiceExt;

    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(config.header_read_timeout);
    let slots = Arc::new(tokio::sync::Semaphore::new(config.max_connections.max(1)));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.context("connection slots closed")?,
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = router
            .clone()
            .map_request(move |mut req: Request<Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                req
            });
        let conn = http.serve_connection(
            TokioIo::new(stream),
            hyper_util::service::TowerToHyperService::new(service),
        );
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, %peer, "connection ended with an error");
            }
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// After a failed `accept`: nothing to do for a connection the peer already gave up on;
/// otherwise (out of file descriptors, say) log and pause instead of spinning.
async fn accept_failed(e: std::io::Error) {
    use std::io::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::ConnectionRefused | ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "accept failed");
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
}

/// The plugin manager of a data directory.
pub fn open_plugins(
    store: Arc<Store>,
    data_dir: &Path,
    config: &Config,
) -> anyhow::Result<Arc<qingguan_runtime::PluginManager>> {
    let plugins = qingguan_runtime::PluginManager::new(
        store,
        &data_dir.join("plugins"),
        config.plugin_limits.clone(),
    )
    .context("cannot start the plugin runtime")?;
    plugins.set_outbound(Some(
        Arc::new(crate::plugin_outbound::PluginOutbound::new()),
    ));
    Ok(plugins)
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}
