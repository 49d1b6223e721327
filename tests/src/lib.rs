//! Helpers shared by the black-box tests: a real server on a free port over a temporary data
//! directory, and a small blocking HTTP client that keeps the session.

use qingguan::server::Server;
use qingguan::Config;
use qingguan_core::{Access, NewUser, Store, StoreOptions};
use serde_json::Value;
use std::sync::Arc;
use std::thread::JoinHandle;

mod waiting;
pub use waiting::{until, until_within};

/// Password of the admin every test server starts with.
pub const ADMIN_PASSWORD: &str = "admin-password";
/// Password of users made with [`TestServer::user`].
pub const USER_PASSWORD: &str = "user-password";

/// A Qingguan server running in a background thread, serving real HTTP on 127.0.0.1.
#[derive(Debug)]
pub struct TestServer {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// The data directory (deleted on drop, unless `QG_KEEP_DATABASE` is set).
    pub dir: tempfile::TempDir,
    /// The store behind the server, for arranging data directly.
    pub store: Arc<Store>,
    /// The server's plugin runtime.
    pub plugins: Arc<qingguan_runtime::PluginManager>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    /// The PostgreSQL database of the install, if it runs on one (dropped after the server).
    pg: Option<PgDatabase>,
}

/// A parameter of [`TestServer::execute_sql`].
#[derive(Debug, Clone)]
pub enum SqlParam {
    Int(i64),
    Text(String),
}

impl From<i64> for SqlParam {
    fn from(i: i64) -> Self {
        SqlParam::Int(i)
    }
}

impl From<&str> for SqlParam {
    fn from(t: &str) -> Self {
        SqlParam::Text(t.to_string())
    }
}

impl From<String> for SqlParam {
    fn from(t: String) -> Self {
        SqlParam::Text(t)
    }
}

/// `?N` parameters as PostgreSQL numbers them (`$N`).
fn postgres_params(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '?' && chars.peek().is_some_and(|d| d.is_ascii_digit()) {
            out.push('$');
        } else {
            out.push(c);
        }
    }
    out
}

/// A database of its own on the PostgreSQL server of `QG_TEST_POSTGRES` (a URL naming a
/// database the user may connect to and create others from), dropped when done with.
#[derive(Debug)]
pub struct PgDatabase {
    server: String,
    name: String,
    /// The new database's URL.
    pub url: String,
}

impl PgDatabase {
    /// Creates a new, empty database.
    pub fn create(server: &str) -> PgDatabase {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let name = format!(
            "qg_it_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let mut admin = postgres::Client::connect(server, postgres::NoTls)
            .unwrap_or_else(|e| panic!("cannot reach PostgreSQL at {server}: {e}"));
        admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
            .expect("drop an old test database");
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create a test database");
        let base = server.rsplit_once('/').map_or(server, |(b, _)| b);
        PgDatabase {
            server: server.to_string(),
            url: format!("{base}/{name}"),
            name,
        }
    }

    fn client(&self) -> postgres::Client {
        postgres::Client::connect(&self.url, postgres::NoTls).expect("connect to the test database")
    }
}

impl Drop for PgDatabase {
    /// Drops the database, unless `QG_KEEP_DATABASE` is set (a benchmark's million rows kept
    /// to be read again: its name is printed, not its URL, which holds the password).
    fn drop(&mut self) {
        if std::env::var_os("QG_KEEP_DATABASE").is_some() {
            eprintln!("kept the database: {}", self.name);
            return;
        }
        if let Ok(mut admin) = postgres::Client::connect(&self.server, postgres::NoTls) {
            let _ = admin.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

impl TestServer {
    /// Starts a server with one administrator (`admin` / [`ADMIN_PASSWORD`]).
    pub fn start() -> TestServer {
        Self::start_with(Config::default())
    }

    /// Starts a server with a custom configuration.
    pub fn start_with(config: Config) -> TestServer {
        Self::start_inner(config, true, true)
    }

    /// As [`TestServer::start_with`], with a compile cache of its own rather than the one every
    /// test server shares: for measuring compiles with a cold and a warm cache (the bench).
    pub fn start_with_own_compile_cache(config: Config) -> TestServer {
        Self::start_inner(config, true, false)
    }

    /// Starts a server over an install without any user (as a fresh `qingguan serve`).
    pub fn start_empty() -> TestServer {
        Self::start_inner(Config::default(), false, true)
    }

    fn start_inner(config: Config, with_admin: bool, shared_compile_cache: bool) -> TestServer {
        let mut dir = tempfile::tempdir().expect("temp dir");
        if std::env::var_os("QG_KEEP_DATABASE").is_some() {
            // Kept, as a PostgreSQL database is (see `PgDatabase`'s drop).
            dir.disable_cleanup(true);
            eprintln!("kept the data directory: {}", dir.path().display());
        }
        let pg = std::env::var("QG_TEST_POSTGRES")
            .ok()
            .map(|server| PgDatabase::create(&server));
        let options = match &pg {
            Some(db) => StoreOptions::postgres(db.url.clone()),
            None => StoreOptions::new(dir.path().join("qingguan.db")),
        };
        let store = Arc::new(Store::open(options).expect("open store"));
        if with_admin {
            store
                .create_user(
                    &Access::system(),
                    &new_user("admin", "admin", "hq", ADMIN_PASSWORD),
                    false,
                )
                .expect("admin");
        }
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let s2 = store.clone();
        let data_dir = dir.path().to_path_buf();
        if shared_compile_cache {
            share_compile_cache(&data_dir);
        }
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let server = Server::bind("127.0.0.1:0".parse().unwrap(), s2, &data_dir, config)
                    .await
                    .expect("bind");
                addr_tx
                    .send((server.local_addr(), server.state().plugins().clone()))
                    .expect("send addr");
                server
                    .run(async {
                        let _ = rx.await;
                    })
                    .await
                    .expect("serve");
            });
        });
        let (addr, plugins) = addr_rx.recv().expect("server address");
        let probe = Client::new(&format!("http://{addr}"));
        let started = std::time::Instant::now();
        while probe.get("/api/v1/health").status != 200 {
            assert!(
                started.elapsed().as_secs() < 120,
                "server never became ready"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        TestServer {
            url: format!("http://{addr}"),
            dir,
            store,
            plugins,
            shutdown: Some(tx),
            thread: Some(thread),
            pg,
        }
    }

    /// Runs one statement straight on the install's database, as an operator (or damage)
    /// might — SQLite's dialect with `?N` parameters, which must read the same on PostgreSQL.
    /// Returns the rows changed.
    pub fn execute_sql(&self, sql: &str, params: &[SqlParam]) -> usize {
        match &self.pg {
            Some(db) => {
                let mut client = db.client();
                let boxed: Vec<Box<dyn postgres::types::ToSql + Sync>> = params
                    .iter()
                    .map(|p| -> Box<dyn postgres::types::ToSql + Sync> {
                        match p {
                            SqlParam::Int(i) => Box::new(*i),
                            SqlParam::Text(t) => Box::new(t.clone()),
                        }
                    })
                    .collect();
                let refs: Vec<&(dyn postgres::types::ToSql + Sync)> =
                    boxed.iter().map(|b| b.as_ref()).collect();
                client
                    .execute(&postgres_params(sql), &refs)
                    .unwrap_or_else(|e| panic!("{sql}: {e}")) as usize
            }
            None => {
                let db = rusqlite::Connection::open(self.dir.path().join("qingguan.db"))
                    .expect("open the database");
                let values = params.iter().map(|p| match p {
                    SqlParam::Int(i) => rusqlite::types::Value::Integer(*i),
                    SqlParam::Text(t) => rusqlite::types::Value::Text(t.clone()),
                });
                db.execute(sql, rusqlite::params_from_iter(values))
                    .unwrap_or_else(|e| panic!("{sql}: {e}"))
            }
        }
    }

    /// The one integer a query straight on the install's database returns (a count).
    pub fn query_integer(&self, sql: &str) -> i64 {
        match &self.pg {
            Some(db) => db
                .client()
                .query_one(sql, &[])
                .unwrap_or_else(|e| panic!("{sql}: {e}"))
                .get(0),
            None => rusqlite::Connection::open(self.dir.path().join("qingguan.db"))
                .expect("open the database")
                .query_row(sql, [], |r| r.get(0))
                .unwrap_or_else(|e| panic!("{sql}: {e}")),
        }
    }

    /// The PostgreSQL database the install runs on, if it does.
    pub fn postgres_url(&self) -> Option<&str> {
        self.pg.as_ref().map(|db| db.url.as_str())
    }

    /// The install runs on PostgreSQL (`QG_TEST_POSTGRES`).
    pub fn on_postgres(&self) -> bool {
        self.pg.is_some()
    }

    /// A second server over this one's store and data directory, as after a restart (plugins
    /// loaded from disk again). It serves until dropped.
    pub fn restarted(&self) -> Restarted {
        let (url, stop, rt) = serve_in_process(self.store.clone(), self.dir.path());
        Restarted {
            url,
            _stop: stop,
            _rt: rt,
        }
    }

    /// Another host serving this server's PostgreSQL database, as a second `qingguan serve`
    /// with a data directory of its own: its own store (caches, connections), plugin runtime
    /// and HTTP server. It serves until dropped. Panics on SQLite (one host per file).
    pub fn second_host(&self) -> SecondHost {
        let db = self
            .pg
            .as_ref()
            .expect("several hosts serve a PostgreSQL database");
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Arc::new(
            Store::open(StoreOptions::postgres(db.url.clone()).to_serve()).expect("open store"),
        );
        let (url, stop, rt) = serve_in_process(store, dir.path());
        SecondHost {
            url,
            _stop: stop,
            _rt: rt,
            _dir: dir,
        }
    }

    /// Signs in through the API and holds the session as the web UI does (cookie + CSRF).
    pub fn ui_login(&self, username: &str, password: &str) -> UiSession {
        UiSession::login(&self.url, username, password)
    }

    /// A client without a session.
    pub fn anonymous(&self) -> Client {
        Client::new(&self.url)
    }

    /// A client logged in as `username`.
    pub fn login(&self, username: &str, password: &str) -> Client {
        let mut c = self.anonymous();
        let r = c.post(
            "/api/v1/auth/login",
            &serde_json::json!({"username": username, "password": password}),
        );
        assert_eq!(r.status, 200, "login {username}: {}", r.body);
        c.token = Some(r.body["token"].as_str().expect("token").to_string());
        c
    }

    /// A client logged in as the administrator.
    pub fn admin(&self) -> Client {
        self.login("admin", ADMIN_PASSWORD)
    }

    /// Creates a user with a role and team and returns a client logged in as them, and the id.
    pub fn user(&self, username: &str, role: &str, team: &str) -> (Client, i64) {
        let r = self
            .store
            .create_user(
                &Access::system(),
                &new_user(username, role, team, USER_PASSWORD),
                false,
            )
            .expect("create user");
        (self.login(username, USER_PASSWORD), r.id)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A cookie session of the web UI, as a browser holds it: a client, its session cookie and the
/// session's CSRF token.
#[derive(Debug)]
pub struct UiSession {
    /// The client (without a bearer token: the UI authenticates by cookie).
    pub client: Client,
    /// The `Cookie` header value.
    pub cookie: String,
    /// The session's CSRF token.
    pub csrf: String,
}

impl UiSession {
    /// Signs `username` in to the server at `url` for the web UI.
    pub fn login(url: &str, username: &str, password: &str) -> UiSession {
        let client = Client::new(url);
        let r = client.post(
            "/api/v1/auth/login",
            &serde_json::json!({"username": username, "password": password}),
        );
        assert_eq!(r.status, 200, "login {username}: {}", r.text);
        UiSession {
            cookie: format!("qg_session={}", r.body["token"].as_str().expect("token")),
            csrf: r.body["csrf_token"].as_str().expect("csrf").to_string(),
            client,
        }
    }

    /// GET with the session and `Accept-Language: lang` (none if empty); redirects followed.
    pub fn get(&self, path: &str, lang: &str) -> Resp {
        self.client.send(reqwest::Method::GET, path, |r| {
            let r = r.header("cookie", &self.cookie);
            if lang.is_empty() {
                r
            } else {
                r.header("accept-language", lang)
            }
        })
    }

    /// POSTs a url-encoded form with the session's CSRF token added, in `lang` (none if
    /// empty); redirects followed.
    pub fn post(&self, path: &str, lang: &str, pairs: &[(&str, &str)]) -> Resp {
        let mut body = form_urlencoded::Serializer::new(String::new());
        for (k, v) in pairs {
            body.append_pair(k, v);
        }
        body.append_pair("csrf", &self.csrf);
        let body = body.finish();
        self.client.send(reqwest::Method::POST, path, |r| {
            let r = r
                .header("cookie", &self.cookie)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body);
            if lang.is_empty() {
                r
            } else {
                r.header("accept-language", lang)
            }
        })
    }
}

impl UiSession {
    /// POSTs a `multipart/form-data` form with one file part, as a browser's file input sends
    /// it (the CSRF token in the query string, as the UI's upload forms put it).
    pub fn post_file(
        &self,
        path: &str,
        lang: &str,
        part: &str,
        file_name: &str,
        bytes: &[u8],
    ) -> Resp {
        let boundary = "qg-test-boundary-7d1f";
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{part}\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let sep = if path.contains('?') { '&' } else { '?' };
        let path = format!("{path}{sep}csrf={}", self.csrf);
        self.client.send(reqwest::Method::POST, &path, |r| {
            let r = r
                .header("cookie", &self.cookie)
                .header(
                    "content-type",
                    format!("multipart/form-data; boundary={boundary}"),
                )
                .body(body);
            if lang.is_empty() {
                r
            } else {
                r.header("accept-language", lang)
            }
        })
    }
}

/// Points a test install's compile cache (`plugins/cache`) at one folder that every test
/// server of the run shares, so Cranelift compiles each component once per run rather than
/// once per test. It is wasmtime's own cache, keyed by the component's bytes, the engine's
/// settings and wasmtime's version, so a server never loads code compiled for another setup.
fn share_compile_cache(data_dir: &std::path::Path) {
    let link = data_dir.join("plugins").join("cache");
    if link.symlink_metadata().is_ok() {
        return;
    }
    let shared = plugins_target_dir().join("compile-cache");
    std::fs::create_dir_all(&shared).expect("shared compile cache");
    std::fs::create_dir_all(data_dir.join("plugins")).expect("plugins folder");
    std::os::unix::fs::symlink(&shared, &link).expect("link the shared compile cache");
}

/// Serves `store` with plugins under `dir` on a runtime of its own, once ready: its URL, the
/// sender that stops it, and the runtime.
fn serve_in_process(
    store: Arc<Store>,
    dir: &std::path::Path,
) -> (
    String,
    tokio::sync::oneshot::Sender<()>,
    tokio::runtime::Runtime,
) {
    let dir = dir.to_path_buf();
    share_compile_cache(&dir);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (addr, stop) = rt.block_on(async move {
        let server = Server::bind(
            "127.0.0.1:0".parse().unwrap(),
            store,
            &dir,
            Config::default(),
        )
        .await
        .expect("bind");
        let addr = server.local_addr();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(server.run(async {
            let _ = rx.await;
        }));
        (addr, tx)
    });
    let url = format!("http://{addr}");
    let probe = Client::new(&url);
    let started = std::time::Instant::now();
    while probe.get("/api/v1/health").status != 200 {
        assert!(
            started.elapsed().as_secs() < 60,
            "the server at {url} never became ready"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    (url, stop, rt)
}

/// A second host over a test server's database ([`TestServer::second_host`]); dropping it
/// stops it.
#[derive(Debug)]
pub struct SecondHost {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    _stop: tokio::sync::oneshot::Sender<()>,
    _rt: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
}

/// A server started by [`TestServer::restarted`]; dropping it stops it.
#[derive(Debug)]
pub struct Restarted {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    _stop: tokio::sync::oneshot::Sender<()>,
    _rt: tokio::runtime::Runtime,
}

impl Restarted {
    /// A client of the restarted server, with the session of `c` (sessions live in the store).
    pub fn client_as(&self, c: &Client) -> Client {
        let mut out = Client::new(&self.url);
        out.token = c.token.clone();
        out
    }
}

/// A user description for [`Store::create_user`].
pub fn new_user(username: &str, role: &str, team: &str, password: &str) -> NewUser {
    NewUser {
        username: username.into(),
        display_name: None,
        password: password.into(),
        invite: false,
        role: role.into(),
        team: Some(team.into()),
        manager: None,
        email: None,
        locale: None,
    }
}

/// An HTTP response: status, headers, and the body parsed as JSON (`Null` if empty or not JSON).
#[derive(Debug)]
pub struct Resp {
    /// Status code.
    pub status: u16,
    /// Response headers.
    pub headers: reqwest::header::HeaderMap,
    /// Parsed body.
    pub body: Value,
    /// Raw body text.
    pub text: String,
}

impl Resp {
    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(String::from)
    }

    /// Asserts the status and the error body shape; returns the error code.
    pub fn error_code(&self, status: u16) -> String {
        assert_eq!(self.status, status, "body: {}", self.text);
        let e = &self.body["error"];
        assert!(
            e["message"].is_string(),
            "error body lacks a message: {}",
            self.text
        );
        assert!(
            e["fields"].is_object(),
            "error body lacks fields: {}",
            self.text
        );
        e["code"].as_str().expect("error code").to_string()
    }
}

/// A blocking HTTP client with an optional bearer token.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::blocking::Client,
    base: String,
    /// The bearer token, once logged in.
    pub token: Option<String>,
}

impl Client {
    /// A client for a server URL.
    pub fn new(base: &str) -> Client {
        Client {
            http: reqwest::blocking::Client::builder()
                .timeout(std::time::Duration::from_secs(60))
                .build()
                .expect("http client"),
            base: base.to_string(),
            token: None,
        }
    }

    /// Sends a request built by `f` and reads the response.
    pub fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        f: impl FnOnce(reqwest::blocking::RequestBuilder) -> reqwest::blocking::RequestBuilder,
    ) -> Resp {
        let mut rb = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(t) = &self.token {
            rb = rb.bearer_auth(t);
        }
        let r = f(rb).send().expect("request failed");
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp {
            status,
            headers,
            body,
            text,
        }
    }

    /// GET.
    pub fn get(&self, path: &str) -> Resp {
        self.send(reqwest::Method::GET, path, |r| r)
    }

    /// POST with a JSON body.
    pub fn post(&self, path: &str, body: &Value) -> Resp {
        self.send(reqwest::Method::POST, path, |r| r.json(body))
    }

    /// PUT with a JSON body.
    pub fn put(&self, path: &str, body: &Value) -> Resp {
        self.send(reqwest::Method::PUT, path, |r| r.json(body))
    }

    /// PATCH with a JSON body and no `If-Match`.
    pub fn patch(&self, path: &str, body: &Value) -> Resp {
        self.send(reqwest::Method::PATCH, path, |r| r.json(body))
    }

    /// PATCH with `If-Match: "version"`.
    pub fn patch_v(&self, path: &str, version: i64, body: &Value) -> Resp {
        self.send(reqwest::Method::PATCH, path, |r| {
            r.header("If-Match", format!("\"{version}\"")).json(body)
        })
    }

    /// DELETE with `If-Match: "version"`.
    pub fn delete_v(&self, path: &str, version: i64) -> Resp {
        self.send(reqwest::Method::DELETE, path, |r| {
            r.header("If-Match", format!("\"{version}\""))
        })
    }

    /// Creates a record and returns its JSON, asserting 201.
    pub fn create(&self, entity: &str, body: Value) -> Value {
        let r = self.post(&format!("/api/v1/records/{entity}"), &body);
        assert_eq!(r.status, 201, "create {entity}: {}", r.text);
        r.body
    }

    /// Every record of `entity` the caller reads, page by page: each id with its `field`.
    pub fn every(&self, entity: &str, field: &str) -> std::collections::HashMap<i64, String> {
        let mut found = std::collections::HashMap::new();
        let first = format!("/api/v1/records/{entity}?limit=200&sort=id");
        let mut path = first.clone();
        loop {
            let page = self.get(&path);
            assert_eq!(page.status, 200, "{}", page.body);
            for r in page.body["items"].as_array().unwrap() {
                found.insert(
                    r["id"].as_i64().unwrap(),
                    r[field].as_str().unwrap_or_default().to_string(),
                );
            }
            match page.body["next_cursor"].as_str() {
                Some(next) => path = format!("{first}&cursor={next}"),
                None => break,
            }
        }
        found
    }
}

/// Writes made while a plugin was swapped (status, the version stamp the `good` plugin's hook
/// gave, the body): every one created (201), every one stamped by exactly one of `old` and
/// `new`, and both versions served. Returns how many each served.
pub fn each_write_saw_one_version(
    results: &[(u16, String, String)],
    old: &str,
    new: &str,
) -> (usize, usize) {
    let failed: Vec<_> = results.iter().filter(|r| r.0 != 201).collect();
    assert!(
        failed.is_empty(),
        "{} of {} requests failed, e.g. {:?}",
        failed.len(),
        results.len(),
        failed.first()
    );
    let on = |v: &str| {
        results
            .iter()
            .filter(|r| r.1.ends_with(&format!(":{v}")))
            .count()
    };
    let (v1, v2) = (on(old), on(new));
    assert_eq!(
        v1 + v2,
        results.len(),
        "every request saw exactly one version"
    );
    assert!(
        v1 > 0 && v2 > 0,
        "both versions served: {old} {v1}, {new} {v2}"
    );
    (v1, v2)
}

/// A minimal valid customer.
pub fn customer(name: &str) -> Value {
    serde_json::json!({"name": name, "kind": "company", "status": "lead"})
}

/// The cargo target directory the plugins in `plugins/` were built in (`target/plugins`).
pub fn plugins_target_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("QINGGUAN_TEST_PLUGINS")).join("../..")
}

/// The path of a plugin component built from `plugins/` (crate name with `_`).
pub fn plugin_wasm(crate_name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("QINGGUAN_TEST_PLUGINS"))
        .join(format!("{}.wasm", crate_name.replace('-', "_")))
}

/// Installs a plugin component through the API as the given client.
pub fn install(c: &Client, crate_name: &str, approve: bool) -> Resp {
    let bytes = std::fs::read(plugin_wasm(crate_name)).expect("plugin built");
    c.send(
        reqwest::Method::POST,
        &format!("/api/v1/plugins?approve={approve}"),
        move |r| r.header("content-type", "application/wasm").body(bytes),
    )
}

/// Installs component bytes through the API as the given client.
pub fn install_bytes(c: &Client, bytes: Vec<u8>, approve: bool) -> Resp {
    c.send(
        reqwest::Method::POST,
        &format!("/api/v1/plugins?approve={approve}"),
        move |r| r.header("content-type", "application/wasm").body(bytes),
    )
}

/// A built plugin as another release of itself: the same code, its manifest's version
/// `from` rewritten to `to` (of the same length, e.g. 1.3.0 → 1.3.1) in place, so every
/// section keeps its size. Every copy of the manifest's `version = "…"` line in the component
/// is rewritten (it carries the manifest's bytes more than once).
pub fn plugin_with_version(crate_name: &str, from: &str, to: &str) -> Vec<u8> {
    assert_eq!(from.len(), to.len(), "a version of the same length");
    let mut bytes = std::fs::read(plugin_wasm(crate_name)).expect("plugin built");
    let needle = format!("version = \"{from}\"");
    let found: Vec<usize> = bytes
        .windows(needle.len())
        .enumerate()
        .filter(|(_, w)| *w == needle.as_bytes())
        .map(|(i, _)| i)
        .collect();
    assert!(!found.is_empty(), "the manifest's version");
    for at in found {
        bytes[at..at + needle.len()].copy_from_slice(format!("version = \"{to}\"").as_bytes());
    }
    bytes
}
