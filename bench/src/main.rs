//! `qingguan-bench`: measures Qingguan against the limits of its own stack — a bare axum
//! handler, direct store calls and raw rusqlite, a raw wasmtime call — in one run, and prints
//! a markdown table of figures, baselines and ratios.
//!
//! ```sh
//! cargo run --release -p qingguan-bench -- all            # 10k and 100k records
//! cargo run --release -p qingguan-bench -- all --full     # also 1M records (slow)
//! QG_TEST_POSTGRES=postgres://… cargo run --release -p qingguan-bench -- http   # on PostgreSQL
//! ```

/// The server runs in this process: the same allocator as the shipped binary.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod appraisal;
mod data;
mod finance;
mod grow;
mod hosts;
mod import;
mod inventory;
mod inventory_scale;
mod load;
mod plugins;
mod raw;
mod report;
mod reports;
mod sdk;
mod shapes;
mod timeline;
mod workflow;
mod wrk;

use anyhow::Context;
use clap::{Parser, ValueEnum};
use qingguan::Config;
use qingguan_core::{Access, ListQuery};
use qingguan_tests::TestServer;
use report::Report;
use serde_json::json;
use std::time::{Duration, Instant};

/// Benchmarks of Qingguan, each next to its baseline.
#[derive(Debug, Parser)]
struct Args {
    /// Which group to run.
    #[arg(value_enum, default_value = "all")]
    what: What,
    /// Also measure at 1,000,000 records.
    #[arg(long)]
    full: bool,
    /// Seconds per HTTP load measurement.
    #[arg(long, default_value_t = 3)]
    seconds: u64,
    /// Deals generated for the sales group (default 100,000; 1,000,000 with --full).
    #[arg(long)]
    deals: Option<usize>,
    /// Write the markdown table here too.
    #[arg(long, default_value = "target/bench-report.md")]
    out: std::path::PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum What {
    All,
    Http,
    Query,
    Plugins,
    Sdk,
    Inventory,
    Finance,
    Swap,
    Sales,
    Appraisal,
    Workflow,
    Import,
    Timeline,
    /// Every list shape at one size (`QG_BENCH_SHAPES`, default 1,000,000 customers).
    Shapes,
    /// Two hosts on one PostgreSQL database against one (`QG_TEST_POSTGRES`).
    Hosts,
    /// Customers created through the API with wrk until `QG_BENCH_GROW` (default 600,000),
    /// each window's rate; then #20's list shapes over HTTP at that size.
    Grow,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut report = Report::new();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let server = TestServer::start_with_own_compile_cache(Config {
        session_cache_ttl: Duration::from_secs(3600),
        ..Config::default()
    });
    eprintln!("server at {}", server.url);
    let admin = server.admin();
    let token = admin.token.clone().context("admin token")?;
    let sizes: Vec<usize> = if matches!(args.what, What::Shapes) {
        vec![env_size("QG_BENCH_SHAPES", 1_000_000)]
    } else if matches!(args.what, What::Grow) {
        vec![] // grown through the API instead
    } else if matches!(args.what, What::Http | What::Hosts) {
        vec![10_000] // the HTTP rows are measured at the first size only
    } else if args.full {
        vec![10_000, 100_000, 1_000_000]
    } else {
        vec![10_000, 100_000]
    };

    // The matrix over a database a shapes run left (`QG_BENCH_SHAPES_DB`: its file, or the
    // URL of a PostgreSQL database kept with `QG_KEEP_DATABASE`), as it is: growing a million
    // customers through the store takes the better part of an hour.
    if let (What::Shapes, Ok(path)) = (&args.what, std::env::var("QG_BENCH_SHAPES_DB")) {
        let mut options = qingguan_core::StoreOptions::new(&path);
        if path.starts_with("postgres://") {
            options.path = std::env::temp_dir();
            options.postgres = Some(path);
        }
        let store = qingguan_core::Store::open(options)?;
        store.optimize()?;
        let size = store.count(&Access::system(), "customer", &ListQuery::default())? as usize;
        shapes::shapes(&store, size, &mut report)?;
        println!("{}", report.markdown());
        return Ok(());
    }
    let mut seeded = 0;
    data::prepare(&server)?;
    if matches!(args.what, What::Grow) {
        grow::grow(&server, &token, &mut report)?;
    }
    for (i, &size) in sizes.iter().enumerate() {
        if matches!(args.what, What::Timeline) {
            // Its own record, on an install without the seeded customers.
            timeline::timeline(&server, &mut report)?;
            break;
        }
        let t = Instant::now();
        // In steps of 100,000, each followed by what the server's hourly maintenance does:
        // refresh the planner's statistics. Without them, a table grown from empty to a
        // million in one go makes SQLite's full-text merges slower at every write.
        // Each step's rate: how creates slow as the table grows.
        let mut at = seeded;
        let mut rates = Vec::new();
        while at < size {
            let next = (at + 100_000).min(size);
            let step = Instant::now();
            data::seed(&server, at, next)?;
            let rate = (next - at) as f64 / step.elapsed().as_secs_f64();
            eprintln!("seeded {at}..{next}: {rate:.0} creates/s");
            rates.push((next, rate));
            server.store.optimize()?;
            at = next;
        }
        eprintln!("seeded {size} customers in {:.1?}", t.elapsed());
        if let (Some(&(first_at, first)), Some(&(last_at, last))) = (rates.first(), rates.last()) {
            if rates.len() > 1 {
                let curve: Vec<String> = rates
                    .iter()
                    .map(|(n, r)| format!("{}k {r:.0}", n / 1000))
                    .collect();
                report.add(
                    "seed",
                    &format!("creates through the store, one writer, the step ending at {last_at}"),
                    last,
                    "creates/s",
                    Some((&format!("the step ending at {first_at}"), first)),
                    &format!("each step of 100,000: {}", curve.join(" · ")),
                );
            }
        }
        seeded = size;
        if matches!(args.what, What::Shapes) {
            shapes::shapes(&server.store, size, &mut report)?;
        }
        if matches!(args.what, What::All | What::Query) {
            query(&server, size, &mut report)?;
            reports::reports(&server, size, &mut report)?;
            ui(&server, &token, size, &mut report)?;
            if i == 0 {
                timeline::timeline(&server, &mut report)?;
            }
        }
        if i == 0 && matches!(args.what, What::All | What::Hosts) {
            hosts::hosts(
                &server,
                &token,
                Duration::from_secs(args.seconds),
                &mut report,
            )?;
        }
        if i == 0 && matches!(args.what, What::All | What::Http) {
            rt.block_on(load::http(
                &server,
                &token,
                size,
                Duration::from_secs(args.seconds),
                &mut report,
            ))?;
        }
    }
    if matches!(args.what, What::All | What::Plugins) {
        plugins::plugins(&server, &mut report)?;
    }
    if matches!(args.what, What::All | What::Sdk) {
        sdk::sdk(&server, &mut report)?;
    }
    if matches!(args.what, What::All | What::Inventory) {
        inventory::inventory(&server, &mut report)?;
    }
    if matches!(args.what, What::All | What::Finance) {
        finance::finance(&server, seeded, &mut report)?;
    }
    if matches!(args.what, What::All | What::Import) {
        import::import(&server, &mut report)?;
    }
    if matches!(args.what, What::All | What::Workflow) {
        workflow::workflow(&server, &mut report)?;
    }
    if matches!(args.what, What::All | What::Sales | What::Appraisal) {
        sales(
            &server,
            &mut report,
            args.deals
                .unwrap_or(if args.full { 1_000_000 } else { 100_000 }),
        )?;
    }
    if matches!(args.what, What::All | What::Appraisal) {
        let deals = args
            .deals
            .unwrap_or(if args.full { 1_000_000 } else { 100_000 });
        appraisal::cycle(&server, &mut report, deals)?;
    }
    if matches!(args.what, What::All | What::Swap) {
        plugins::swap(&server, &rt, &mut report)?;
    }
    let md = report.markdown();
    println!("{md}");
    if let Some(dir) = args.out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&args.out, &md)?;
    eprintln!("written to {}", args.out.display());
    Ok(())
}

/// A size from the environment (`QG_BENCH_…`), else `default`.
pub(crate) fn env_size(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Runs `write(i)` for every `i` in `range`, `QG_BENCH_SEED_BATCH` of them to a transaction
/// (default 1: each write its own transaction, as a user's are). Batches make seeding a
/// million rows on PostgreSQL take minutes rather than the better part of an hour; every write
/// still goes through the store (validation, history, search, hooks).
pub(crate) fn in_batches(
    store: &qingguan_core::Store,
    range: std::ops::Range<usize>,
    mut write: impl FnMut(usize) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let batch = env_size("QG_BENCH_SEED_BATCH", 1).max(1);
    let mut at = range.start;
    while at < range.end {
        let end = (at + batch).min(range.end);
        if batch == 1 {
            write(at)?;
        } else {
            store.transaction(|| (at..end).try_for_each(&mut write))?;
        }
        at = end;
    }
    Ok(())
}

/// Creates a record through the store as the system (hooks, history, search) and returns its id.
pub(crate) fn create_as_system(
    store: &qingguan_core::Store,
    entity: &str,
    v: serde_json::Value,
) -> anyhow::Result<i64> {
    let fields = v.as_object().context("a JSON object")?;
    Ok(store.create(&Access::system(), entity, fields)?.id)
}

/// Median of a few timings of `f`, in milliseconds.
pub(crate) fn median_ms(
    runs: usize,
    mut f: impl FnMut(usize) -> anyhow::Result<()>,
) -> anyhow::Result<f64> {
    let mut v = Vec::with_capacity(runs);
    for i in 0..runs {
        let t = Instant::now();
        f(i)?;
        v.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    v.sort_by(|a, b| a.total_cmp(b));
    Ok(v[v.len() / 2])
}

fn query(server: &TestServer, size: usize, report: &mut Report) -> anyhow::Result<()> {
    let store = &server.store;
    let system = Access::system();
    let statuses = ["lead", "customer", "inactive"];
    let industries = ["retail", "technology", "manufacturing", "food", "services"];
    let page = median_ms(21, |i| {
        let q = ListQuery::from_pairs([
            ("status", statuses[i % 3]),
            ("industry", industries[i % 5]),
            ("sort", "-signed_on"),
            ("limit", "50"),
        ])?;
        let p = store.list(&system, "customer", &q)?;
        anyhow::ensure!(!p.items.is_empty(), "empty page");
        Ok(())
    })?;
    let deep = median_ms(11, |i| {
        let q =
            ListQuery::from_pairs([("revenue[gte]", "50000"), ("sort", "name"), ("limit", "50")])?;
        let mut q = q;
        let first = store.list(&system, "customer", &q)?;
        q.cursor = first.next_cursor;
        let _ = i;
        store.list(&system, "customer", &q)?;
        Ok(())
    })?;
    let pk = median_ms(101, |i| {
        store.get(&system, "customer", 1 + (i as i64 * 7919) % size as i64)?;
        Ok(())
    })?;
    report.add(
        "query",
        &format!("filtered+sorted page of 50 (status, industry, -signed_on) @ {size}"),
        page,
        "ms",
        Some(("read by id, same store", pk)),
        "budget < 20 ms",
    );
    report.add(
        "query",
        &format!("custom-field range + sort by name, 2nd page @ {size}"),
        deep / 2.0,
        "ms/page",
        None,
        "",
    );
    let words = ["杭州", "north", "科技", "贸易 上海", "smith"];
    let search = median_ms(21, |i| {
        store.search(&system, words[i % words.len()], 20)?;
        Ok(())
    })?;
    let within = median_ms(21, |i| {
        let q = ListQuery::from_pairs([("q", words[i % words.len()]), ("limit", "50")])?;
        store.list(&system, "customer", &q)?;
        Ok(())
    })?;
    report.add(
        "query",
        &format!("full-text search across types, 20 hits @ {size}"),
        search,
        "ms",
        None,
        "budget < 50 ms",
    );
    report.add(
        "query",
        &format!("full-text within customers, page of 50 @ {size}"),
        within,
        "ms",
        None,
        "",
    );
    report.add(
        "memory",
        &format!("resident memory of the whole process @ {size} customers"),
        rss_mib(),
        "MiB",
        None,
        "server + load generator; budget < 200 MB at 1M",
    );
    Ok(())
}

/// Time for a second server over the same data directory to become ready.
pub(crate) fn startup(server: &TestServer) -> anyhow::Result<f64> {
    let t = Instant::now();
    let store = std::sync::Arc::new(qingguan_core::Store::open(
        qingguan_core::StoreOptions::new(server.dir.path().join("qingguan.db")),
    )?);
    let plugins = qingguan::server::open_plugins(store, server.dir.path(), &Config::default())?;
    plugins.load_all()?;
    Ok(t.elapsed().as_secs_f64() * 1000.0)
}

/// Resident memory of this process (server and load generator together), in MiB.
fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .map(|l| l.split_whitespace().nth(1).unwrap_or("0").to_string())
        })
        .and_then(|kb| kb.parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

/// Server time to render UI pages (over HTTP, with a session cookie).
fn ui(server: &TestServer, token: &str, size: usize, report: &mut Report) -> anyhow::Result<()> {
    let c = qingguan_tests::Client::new(&server.url);
    let cookie = format!("qg_session={token}");
    let get = |path: String| -> anyhow::Result<()> {
        let r = c.send(reqwest::Method::GET, &path, |r| r.header("cookie", &cookie));
        anyhow::ensure!(r.status == 200, "{path}: {}", r.status);
        Ok(())
    };
    let list = median_ms(11, |_| get("/e/customer?sort=-signed_on".into()))?;
    let filtered = median_ms(11, |_| {
        get("/e/customer?status=customer&industry=retail&sort=name".into())
    })?;
    let detail = median_ms(21, |i| {
        get(format!("/e/customer/{}", 1 + (i * 7919) % size))
    })?;
    let api = median_ms(21, |i| {
        let r = c.send(
            reqwest::Method::GET,
            &format!("/api/v1/records/customer/{}", 1 + (i * 7919) % size),
            |r| r.bearer_auth(token),
        );
        anyhow::ensure!(r.status == 200);
        Ok(())
    })?;
    report.add(
        "ui",
        &format!("list page, 50 rows, sorted, with total count @ {size}"),
        list,
        "ms",
        None,
        "includes owner names and the COUNT(*) for the total",
    );
    report.add(
        "ui",
        &format!("list page, 2 filters + sort @ {size}"),
        filtered,
        "ms",
        None,
        "",
    );
    report.add(
        "ui",
        &format!("detail page (sections, related, history) @ {size}"),
        detail,
        "ms",
        Some(("API read of the same record", api)),
        "",
    );
    Ok(())
}

/// The sales plugin: hook cost per deal write, and per-owner figures over many deals.
fn sales(server: &TestServer, report: &mut Report, deals: usize) -> anyhow::Result<()> {
    let admin = server.admin();
    let r = qingguan_tests::install(&admin, "qingguan-sales", true);
    anyhow::ensure!(r.status == 201, "install sales: {}", r.text);
    let store = &server.store;
    let system = Access::system();
    let t = Instant::now();
    let mut x: u64 = 42;
    crate::in_batches(store, 0..deals, |i| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let owner = 2 + (x % 50) as i64;
        let day = 1 + (x >> 8) % 360;
        let (y, m, d) = (2026, 1 + (day / 30).min(11), 1 + day % 28);
        let won = x.is_multiple_of(3);
        let mut v = json!({
            "title": format!("Deal {i}"), "customer": 1 + (x >> 16) % 10_000, "owner": owner,
            "amount": format!("{}.{:02}", (x >> 20) % 100_000, x % 100),
            "opened_on": format!("{y}-{m:02}-01"),
            "stage": if won { "won" } else { ["lead", "qualified", "proposal", "negotiation"][(x % 4) as usize] },
        });
        if won {
            v["closed_on"] = json!(format!("{y}-{m:02}-{d:02}"));
        }
        store.create(&system, "deal", v.as_object().expect("object"))?;
        Ok(())
    })?;
    let per_deal = t.elapsed().as_secs_f64() * 1e6 / deals as f64;
    report.add(
        "sales",
        &format!(
            "create a deal through the sales hooks ({deals} deals, {} to a transaction)",
            env_size("QG_BENCH_SEED_BATCH", 1).max(1)
        ),
        per_deal,
        "µs/write",
        None,
        "before-write rules + after-write won hook (customer update) included",
    );
    let args = json!({"owner": 2, "from": "2026-01-01", "to": "2026-12-31"});
    let revenue = median_ms(5, |_| {
        server.plugins.calls().ask(
            "sales",
            "won_revenue",
            &args.to_string(),
            qingguan_runtime::CallCtx::system(),
        )?;
        Ok(())
    })?;
    // Over a million deals this can exceed the plugin's per-call time limit: report that as a
    // result rather than ending the run.
    let summary = median_ms(3, |_| {
        server.plugins.calls().ask(
            "sales",
            "summary",
            &json!({"from": "2026-01-01", "to": "2026-12-31"}).to_string(),
            qingguan_runtime::CallCtx::system(),
        )?;
        Ok(())
    });
    report.add(
        "sales",
        &format!("won revenue of one owner for a year, over {deals} deals"),
        revenue,
        "ms",
        None,
        "~1/50 of the deals are that owner's",
    );
    let what = format!("all six figures for every owner for a year, over {deals} deals");
    match summary {
        Ok(ms) => report.add(
            "sales",
            &what,
            ms,
            "ms",
            None,
            "grouped aggregates in the database (SDK 1.1), index-covered; new customers by first-win lookups per 500 customers",
        ),
        Err(e) => report.add(
            "sales",
            &what,
            f64::NAN,
            "ms",
            None,
            &format!("FAILED: {e}"),
        ),
    }
    Ok(())
}
