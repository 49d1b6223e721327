//! The HTTP load generator (a real client over TCP) and the bare-axum baseline.

use crate::report::Report;
use qingguan_tests::TestServer;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Throughput and latency of one load run.
#[derive(Debug)]
pub struct Stats {
    pub per_sec: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub errors: u64,
}

/// Runs `conc` client tasks for `dur`, each issuing requests built by `req`.
pub async fn run<F>(conc: usize, dur: Duration, req: F) -> Stats
where
    F: Fn(&reqwest::Client, u64) -> reqwest::RequestBuilder + Send + Sync + 'static,
{
    let req = Arc::new(req);
    let errors = Arc::new(AtomicU64::new(0));
    let counter = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..conc {
        let req = req.clone();
        let errors = errors.clone();
        let counter = counter.clone();
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .pool_max_idle_per_host(1)
                .build()
                .expect("client");
            let mut lat = Vec::new();
            while started.elapsed() < dur {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                let t = Instant::now();
                match req(&client, n).send().await {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                    }
                    _ => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
                lat.push(t.elapsed().as_micros() as u32);
            }
            lat
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap_or_default());
    }
    let secs = started.elapsed().as_secs_f64();
    all.sort_unstable();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0) as f64
            / 1000.0
    };
    Stats {
        per_sec: all.len() as f64 / secs,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
        errors: errors.load(Ordering::Relaxed),
    }
}

/// A bare axum server that returns `body` for `GET /record`.
async fn bare_axum(body: bytes_like::Body) -> String {
    let app = axum::Router::new().route(
        "/record",
        axum::routing::get(move || {
            let b = body.clone();
            async move { ([("content-type", "application/json")], b) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

mod bytes_like {
    pub type Body = axum::body::Bytes;
}

/// With `QG_BENCH_HOLD=<seconds>`, the seeded server (and the bare handlers) serve that long
/// before the wrk rows, for a profiler or a load of one's own; `QG_BENCH_KEEP=0` turns off
/// what the store keeps while it holds (every request reads the database).
async fn hold_for_profiling(server: &TestServer, token: &str, bare: &str, bare_list: &str) {
    let Some(secs) = std::env::var("QG_BENCH_HOLD")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
    else {
        return;
    };
    let keep = std::env::var("QG_BENCH_KEEP").map_or(true, |v| v != "0");
    server.store.set_keep_records(keep);
    eprintln!(
        "holding {secs} s (keeping: {keep}): server {} token {token} pid {}; bare record {bare}/record, bare list page {bare_list}/record; list query {}",
        server.url,
        std::process::id(),
        crate::wrk::LIST_QUERY
    );
    tokio::time::sleep(Duration::from_secs(secs)).await;
    server.store.set_keep_records(true);
}

/// HTTP read and create at 1, 16 and 64 connections, against the bare-axum baseline.
pub async fn http(
    server: &TestServer,
    token: &str,
    size: usize,
    dur: Duration,
    report: &mut Report,
) -> anyhow::Result<()> {
    let sample = reqwest::Client::new()
        .get(format!("{}/api/v1/records/customer/1", server.url))
        .bearer_auth(token)
        .send()
        .await?
        .bytes()
        .await?;
    let bare = bare_axum(sample.clone()).await;
    for conc in [1usize, 16, 64] {
        let url = bare.clone();
        let base = run(conc, dur, move |c, _| c.get(format!("{url}/record"))).await;
        let (url, tok) = (server.url.clone(), token.to_string());
        let size = size as u64;
        let read = run(conc, dur, move |c, n| {
            c.get(format!(
                "{url}/api/v1/records/customer/{}",
                1 + (n * 7919) % size
            ))
            .bearer_auth(&tok)
        })
        .await;
        report.add(
            "http",
            &format!(
                "read one record, {conc} conn (p50 {:.2} ms, p99 {:.2} ms, {} errors)",
                read.p50_ms, read.p99_ms, read.errors
            ),
            read.per_sec,
            "req/s",
            Some(("bare axum, same bytes", base.per_sec)),
            &format!(
                "baseline p50 {:.2} ms, p99 {:.2} ms; budget ≥ 0.5, p99 < 5 ms at 64",
                base.p50_ms, base.p99_ms
            ),
        );
    }
    // The same reads from wrk, a separate, lean process (when installed), each next to a bare
    // handler serving the same bytes — before any create of this group, so that the pages are
    // read from the seeded table alone (the creates add tens of thousands of customers without
    // an industry or a signing date, which changes what the list's plan walks).
    let page = reqwest::Client::new()
        .get(format!(
            "{}/api/v1/records/customer?{}",
            server.url,
            crate::wrk::LIST_QUERY
        ))
        .bearer_auth(token)
        .send()
        .await?
        .bytes()
        .await?;
    let bare_list = bare_axum(page).await;
    hold_for_profiling(server, token, &bare, &bare_list).await;
    tokio::task::block_in_place(|| {
        let served = crate::wrk::Served {
            base: &server.url,
            token,
            store: &server.store,
            records: size,
        };
        crate::wrk::http(&served, &bare, &bare_list, dur, report)
    })?;
    for conc in [1usize, 16, 64] {
        let (url, tok) = (server.url.clone(), token.to_string());
        let create = run(conc, dur, move |c, n| {
            c.post(format!("{url}/api/v1/records/customer"))
                .bearer_auth(&tok)
                .json(&serde_json::json!({"name": format!("Load {n}"), "kind": "company", "status": "lead", "revenue": "10.00"}))
        })
        .await;
        report.add(
            "http",
            &format!("create one record with history, {conc} conn (p50 {:.2} ms, p99 {:.2} ms, {} errors)", create.p50_ms, create.p99_ms, create.errors),
            create.per_sec,
            "req/s",
            None,
            "budget ≥ 5,000/s",
        );
    }
    if server.store.is_postgres() {
        // Their baselines are raw rusqlite on the install's file.
        eprintln!("on PostgreSQL: the storage rows compare with raw SQLite and are skipped");
        return Ok(());
    }
    // Storage limits, same process: direct store calls and raw rusqlite.
    let store = server.store.clone();
    let path = store.path().to_path_buf();
    let (store_reads, raw_reads, store_creates, raw_inserts) =
        tokio::task::spawn_blocking(move || storage(&store, &path, size)).await??;
    report.add(
        "storage",
        "read by id through the store (no HTTP)",
        store_reads,
        "ops/s",
        Some(("raw rusqlite SELECT by id", raw_reads)),
        "",
    );
    report.add(
        "storage",
        "create through the store (validation, history, FTS)",
        store_creates,
        "ops/s",
        Some(("raw rusqlite INSERT, one txn each", raw_inserts)),
        "",
    );
    Ok(())
}

fn storage(
    store: &qingguan_core::Store,
    path: &std::path::Path,
    size: usize,
) -> anyhow::Result<(f64, f64, f64, f64)> {
    let system = qingguan_core::Access::system();
    let n = 20_000u64;
    let t = Instant::now();
    for i in 0..n {
        store.get(&system, "customer", 1 + (i * 7919 % size as u64) as i64)?;
    }
    let store_reads = n as f64 / t.elapsed().as_secs_f64();
    let conn = rusqlite::Connection::open(path)?;
    let t = Instant::now();
    {
        let mut stmt = conn.prepare("SELECT * FROM r_customer WHERE id = ?1")?;
        for i in 0..n {
            let mut rows = stmt.query([1 + (i * 7919 % size as u64) as i64])?;
            while let Some(r) = rows.next()? {
                let _: i64 = r.get(0)?;
            }
        }
    }
    let raw_reads = n as f64 / t.elapsed().as_secs_f64();
    let m = 5000u64;
    let input = serde_json::json!({"name": "Direct", "kind": "company", "status": "lead", "revenue": "1.00"});
    let map = input.as_object().cloned().unwrap_or_default();
    let t = Instant::now();
    for _ in 0..m {
        store.create(&system, "customer", &map)?;
    }
    let store_creates = m as f64 / t.elapsed().as_secs_f64();
    conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; CREATE TABLE IF NOT EXISTS bench_raw (id INTEGER PRIMARY KEY, name TEXT, kind TEXT, status TEXT, revenue INTEGER, created_at TEXT)")?;
    let t = Instant::now();
    for i in 0..m {
        conn.execute("INSERT INTO bench_raw (name, kind, status, revenue, created_at) VALUES (?1, 'company', 'lead', 100, '2026-01-01')", [format!("Raw {i}")])?;
    }
    let raw_inserts = m as f64 / t.elapsed().as_secs_f64();
    Ok((store_reads, raw_reads, store_creates, raw_inserts))
}
