//! Shared server state: the store, the configuration and a short-lived session cache.

use crate::caller::Caller;
use crate::error::ApiError;
use crate::throttle::{LoginGuard, LoginLimits};
use qingguan_core::Store;
use qingguan_runtime::PluginManager;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Server settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// How long a login lasts.
    pub session_ttl: chrono::Duration,
    /// Largest accepted request body, in bytes.
    pub body_limit: usize,
    /// Always mark the session cookie `Secure` (serve behind HTTPS). Without it the cookie is
    /// still `Secure` on requests a proxy forwarded as HTTPS (`X-Forwarded-Proto: https`).
    pub secure_cookies: bool,
    /// How long a resolved session is reused before it is looked up again.
    pub session_cache_ttl: Duration,
    /// Limits on every plugin call.
    pub plugin_limits: qingguan_runtime::Limits,
    /// How often the server looks for changes another host serving the same database, or the
    /// CLI, made to what it keeps in memory (plugins, schema, roles, settings, sessions).
    pub change_poll: Duration,
    /// Lockouts after failed logins, and how many password checks run at once.
    pub login: LoginLimits,
    /// Reverse proxies and load balancers believed about the client's address
    /// (`X-Forwarded-For`); from any other peer, the peer is the client.
    pub trusted_proxies: crate::proxies::TrustedProxies,
    /// A connection that has not sent a complete request head within this time is closed
    /// (slow clients; also ends idle keep-alive connections).
    pub header_read_timeout: Duration,
    /// Most connections served at once; further ones wait in the listen backlog.
    pub max_connections: usize,
    /// How often the webhook outbox is looked at.
    pub webhook_poll: Duration,
    /// The wait before a failed delivery's first retry (doubling with each further one).
    pub webhook_retry_base: Duration,
    /// Where e-mail goes out (invitations, notifications); none: links are shown instead.
    pub mail: Option<crate::mail::MailSettings>,
    /// How often notifications waiting to be mailed are looked at.
    pub mail_poll: Duration,
    /// How often follow-ups past their date are looked for (owners are told once per date).
    pub overdue_interval: Duration,
    /// The address people reach this server at (`https://crm.example.com`), for links in
    /// e-mail; without it, links are paths the administrator completes.
    pub public_url: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            session_ttl: chrono::Duration::hours(12),
            body_limit: 1024 * 1024,
            secure_cookies: false,
            session_cache_ttl: Duration::from_secs(5),
            plugin_limits: qingguan_runtime::Limits::default(),
            change_poll: Duration::from_millis(250),
            login: LoginLimits::default(),
            trusted_proxies: crate::proxies::TrustedProxies::default(),
            header_read_timeout: Duration::from_secs(10),
            max_connections: 512,
            webhook_poll: Duration::from_secs(1),
            webhook_retry_base: Duration::from_secs(30),
            mail: None,
            mail_poll: Duration::from_secs(10),
            overdue_interval: Duration::from_secs(600),
            public_url: None,
        }
    }
}

/// Resolved sessions by token, and how often they were all forgotten.
#[derive(Default)]
struct SessionCache {
    entries: HashMap<String, (Instant, Caller)>,
    generation: u64,
}

/// Everything handlers share. Cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<Store>,
    plugins: Arc<PluginManager>,
    config: Config,
    logins: Arc<LoginGuard>,
    mailer: Option<crate::mail::Mailer>,
    ready: AtomicBool,
    sessions: Mutex<SessionCache>,
    openapi: OnceLock<serde_json::Value>,
    standing: Mutex<crate::standing::Standing>,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("store", &self.store)
            .field("config", &self.config)
            .finish()
    }
}

impl AppState {
    /// State over an open store.
    pub fn new(store: Arc<Store>, plugins: Arc<PluginManager>, config: Config) -> Self {
        let logins = Arc::new(LoginGuard::new(config.login.clone(), store.clone()));
        AppState {
            inner: Arc::new(Inner {
                store,
                plugins,
                logins,
                mailer: config
                    .mail
                    .as_ref()
                    .and_then(|m| match crate::mail::Mailer::new(m) {
                        Ok(mailer) => Some(mailer),
                        Err(e) => {
                            tracing::error!(error = %e, "mail is not set up");
                            None
                        }
                    }),
                config,
                ready: AtomicBool::new(false),
                sessions: Mutex::new(SessionCache::default()),
                openapi: OnceLock::new(),
                standing: Mutex::new(crate::standing::Standing::default()),
            }),
        }
    }

    /// The mail sender, when mail is set up.
    pub fn mailer(&self) -> Option<&crate::mail::Mailer> {
        self.inner.mailer.as_ref()
    }

    /// The record store.
    pub fn store(&self) -> &Arc<Store> {
        &self.inner.store
    }

    /// The plugin runtime.
    pub fn plugins(&self) -> &Arc<PluginManager> {
        &self.inner.plugins
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Login lockouts and password-check slots.
    pub(crate) fn logins(&self) -> &Arc<LoginGuard> {
        &self.inner.logins
    }

    /// This host beside the others, as its change poll and heartbeat last found it.
    pub(crate) fn standing(&self) -> std::sync::MutexGuard<'_, crate::standing::Standing> {
        self.inner
            .standing
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// The generated OpenAPI document as JSON (set once when the router is built).
    pub fn openapi(&self) -> Option<&serde_json::Value> {
        self.inner.openapi.get()
    }

    pub(crate) fn set_openapi(&self, doc: serde_json::Value) {
        let _ = self.inner.openapi.set(doc);
    }

    /// Whether the server (and its plugins) are ready to serve.
    pub fn is_ready(&self) -> bool {
        self.inner.ready.load(Ordering::Acquire)
    }

    /// Marks the server ready or not.
    pub fn set_ready(&self, ready: bool) {
        self.inner.ready.store(ready, Ordering::Release);
    }

    /// Resolves a session token, using the cache for a few seconds at a time.
    pub fn caller(&self, token: &str) -> Result<Caller, ApiError> {
        // An API token is never a session (see `token_caller`), even one cached.
        if token.starts_with(qingguan_core::api_tokens::TOKEN_PREFIX) {
            return Err(ApiError::unauthenticated(
                "an API token goes in the Authorization header, not in a session cookie",
            ));
        }
        let ttl = self.inner.config.session_cache_ttl;
        let generation = {
            let cache = self.sessions();
            if let Some((at, c)) = cache.entries.get(token) {
                if at.elapsed() < ttl {
                    return Ok(c.clone());
                }
            }
            cache.generation
        };
        let (access, user, csrf) = self.store().session(token)?;
        let caller = Caller::from(crate::caller::CallerInfo {
            access,
            user,
            csrf,
            token: token.to_string(),
            token_scopes: None,
        });
        let mut cache = self.sessions();
        // Sessions were forgotten while this one was looked up: what was read may predate
        // the change (a deactivation, say), so it is not kept.
        if cache.generation != generation {
            return Ok(caller);
        }
        if cache.entries.len() > 10_000 {
            cache.entries.retain(|_, (at, _)| at.elapsed() < ttl);
        }
        cache
            .entries
            .insert(token.to_string(), (Instant::now(), caller.clone()));
        Ok(caller)
    }

    /// The caller an API token (`Authorization: Bearer qgt_…`) acts as: its user, narrowed
    /// to its scopes. Kept like a session for the cache's lifetime; a revocation forgets it.
    pub fn token_caller(&self, token: &str) -> Result<Caller, ApiError> {
        let ttl = self.inner.config.session_cache_ttl;
        let generation = {
            let cache = self.sessions();
            if let Some((at, c)) = cache.entries.get(token) {
                if at.elapsed() < ttl {
                    return Ok(c.clone());
                }
            }
            cache.generation
        };
        let (access, user, scopes) = self.store().token_access(token)?;
        let caller = Caller::from(crate::caller::CallerInfo {
            access,
            user,
            // No session, no forms: nothing a CSRF token would guard.
            csrf: String::new(),
            token: token.to_string(),
            token_scopes: Some(scopes),
        });
        let mut cache = self.sessions();
        if cache.generation == generation {
            cache
                .entries
                .insert(token.to_string(), (Instant::now(), caller.clone()));
        }
        Ok(caller)
    }

    fn sessions(&self) -> std::sync::MutexGuard<'_, SessionCache> {
        self.inner
            .sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Drops cached sessions (after logout, or a change to users or roles), so the next
    /// request of every session sees the change.
    pub fn forget_sessions(&self) {
        let mut cache = self.sessions();
        cache.entries.clear();
        cache.generation = cache.generation.wrapping_add(1);
    }

    /// Runs blocking plugin work (calls into plugins, installs) off the async workers.
    pub async fn blocking_plugins<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Arc<PluginManager>) -> Result<T, ApiError> + Send + 'static,
    {
        let plugins = self.inner.plugins.clone();
        off_thread(move || f(&plugins)).await?
    }

    /// Runs blocking store work (writes, password hashing) off the async workers.
    pub async fn blocking<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> Result<T, qingguan_core::Error> + Send + 'static,
    {
        let store = self.inner.store.clone();
        off_thread(move || f(&store)).await?.map_err(ApiError::from)
    }
}

impl AppState {
    /// Like [`AppState::blocking`], lending the shared handle (for work that goes on after the
    /// request, on its own thread).
    pub async fn blocking_shared<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Arc<Store>) -> Result<T, qingguan_core::Error> + Send + 'static,
    {
        let store = self.inner.store.clone();
        off_thread(move || f(&store)).await?.map_err(ApiError::from)
    }
}

/// Runs `f` on the blocking pool; a panic there becomes a logged 500, not a dropped connection.
async fn off_thread<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| {
        tracing::error!(error = %e, "blocking task failed");
        ApiError::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the server could not complete the request; it has been logged",
        )
    })
}
