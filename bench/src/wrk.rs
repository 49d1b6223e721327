//! HTTP load from `wrk` (Debian's package), a separate process that costs far less CPU than
//! the in-process client, so the ratios to the bare axum handler are the server's own: one
//! record read (the first again and again, one at random, the first with nothing kept) and a
//! filtered list page of 50 (kept, and with nothing kept), at 16 and 64 connections; both while
//! records are written beside them; creates. Skipped, saying so, when `wrk` is not installed.

use crate::report::Report;
use std::process::Command;
use std::time::{Duration, Instant};

/// What one `wrk` run measured.
pub(crate) struct Run {
    pub(crate) per_sec: f64,
    pub(crate) p50_ms: f64,
    pub(crate) p99_ms: f64,
    pub(crate) errors: u64,
}

/// A latency as `wrk` prints it (`812.00us`, `1.25ms`, `2.01s`) in milliseconds.
fn ms(text: &str) -> Option<f64> {
    let (num, unit) = text
        .find(|c: char| c.is_ascii_alphabetic())
        .map(|i| text.split_at(i))?;
    let n: f64 = num.parse().ok()?;
    Some(match unit {
        "us" => n / 1000.0,
        "ms" => n,
        "s" => n * 1000.0,
        "m" => n * 60_000.0,
        _ => return None,
    })
}

fn parse(out: &str) -> Option<Run> {
    let mut run = Run {
        per_sec: 0.0,
        p50_ms: 0.0,
        p99_ms: 0.0,
        errors: 0,
    };
    for line in out.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["Requests/sec:", n] => run.per_sec = n.parse().ok()?,
            ["50%", t] => run.p50_ms = ms(t)?,
            ["99%", t] => run.p99_ms = ms(t)?,
            ["Non-2xx", "or", "3xx", "responses:", n] => run.errors += n.parse::<u64>().ok()?,
            ["Socket", "errors:", rest @ ..] => {
                run.errors += rest
                    .iter()
                    .filter_map(|w| w.trim_end_matches(',').parse::<u64>().ok())
                    .sum::<u64>()
            }
            _ => {}
        }
    }
    (run.per_sec > 0.0).then_some(run)
}

/// Runs `wrk` against `url` (with a bearer token, a Lua script) for `dur`.
pub(crate) fn wrk(
    url: &str,
    token: Option<&str>,
    script: Option<&std::path::Path>,
    conns: usize,
    dur: Duration,
) -> anyhow::Result<Run> {
    let mut cmd = Command::new("wrk");
    cmd.args([
        "-t2",
        &format!("-c{conns}"),
        &format!("-d{}s", dur.as_secs().max(1)),
        "--latency",
    ]);
    if let Some(t) = token {
        cmd.args(["-H", &format!("Authorization: Bearer {t}")]);
    }
    if let Some(s) = script {
        cmd.arg("-s").arg(s);
    }
    let out = cmd.arg(url).output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    parse(&text).ok_or_else(|| anyhow::anyhow!("wrk printed no result: {text}"))
}

/// Adds a row of `r` (`what` at `conns` connections) beside bare axum's `baseline`.
fn beside_bare(report: &mut Report, what: &str, conns: usize, r: &Run, baseline: &Run, goal: f64) {
    report.add(
        "http-wrk",
        &format!(
            "{what}, {conns} conn (p50 {:.2} ms, p99 {:.2} ms, {} errors)",
            r.p50_ms, r.p99_ms, r.errors
        ),
        r.per_sec,
        "req/s",
        Some(("bare axum, the same bytes, same wrk", baseline.per_sec)),
        &format!(
            "wrk -t2, a separate process; baseline p99 {:.2} ms; goal ≥ {goal} of bare axum",
            baseline.p99_ms
        ),
    );
}

/// The server the wrk rows load: its address, a user's token, its store, and how many
/// customers it was seeded with.
#[derive(Clone, Copy)]
pub(crate) struct Served<'a> {
    pub(crate) base: &'a str,
    pub(crate) token: &'a str,
    pub(crate) store: &'a qingguan_core::Store,
    pub(crate) records: usize,
}

/// The wrk rows of the HTTP group: each page next to a bare axum handler serving that page's
/// own bytes (`bare_record`, `bare_list` serve `/record`), and creates.
pub(crate) fn http(
    served: &Served<'_>,
    bare_record: &str,
    bare_list: &str,
    dur: Duration,
    report: &mut Report,
) -> anyhow::Result<()> {
    let Served {
        base,
        token,
        store,
        records,
    } = *served;
    if Command::new("wrk").arg("--version").output().is_err() {
        eprintln!(
            "wrk not found: the wrk rows of the http group are skipped (apt-get install wrk)"
        );
        return Ok(());
    }
    let list_page = format!("{base}/api/v1/records/customer?{LIST_QUERY}");
    let pages = [
        (
            "read one record",
            format!("{base}/api/v1/records/customer/1"),
            bare_record,
            0.5,
        ),
        (
            "filtered list page of 50 (status, industry, -signed_on)",
            list_page.clone(),
            bare_list,
            0.25,
        ),
    ];
    for conns in [16usize, 64] {
        for (what, url, bare, goal) in &pages {
            let baseline = wrk(&format!("{bare}/record"), None, None, conns, dur)?;
            let r = wrk(url, Some(token), None, conns, dur)?;
            beside_bare(report, what, conns, &r, &baseline, *goal);
        }
    }
    // The same read, of one of the seeded customers at random rather than always the first
    // (each kept after its first read, but far fewer of them in the CPU's caches, and wrk runs
    // a script per request to draw the id); and of the first with nothing kept (every read reads the database, as on PostgreSQL or
    // after any commit).
    let random = random_read_script(records)?;
    let read_one = format!("{base}/api/v1/records/customer/1");
    for conns in [16usize, 64] {
        let baseline = wrk(&format!("{bare_record}/record"), None, None, conns, dur)?;
        let r = wrk(&read_one, Some(token), Some(&random), conns, dur)?;
        store.set_keep_records(false);
        let cold = wrk(&read_one, Some(token), None, conns, dur);
        store.set_keep_records(true);
        let cold = cold?;
        for (what, r) in [
            (format!("read one of {records} records at random"), r),
            ("read one record, nothing kept".to_string(), cold),
        ] {
            beside_bare(report, &what, conns, &r, &baseline, 0.5);
        }
        // The list page with nothing kept: every page read and written out again.
        let baseline = wrk(&format!("{bare_list}/record"), None, None, conns, dur)?;
        store.set_keep_records(false);
        let cold = wrk(&list_page, Some(token), None, conns, dur);
        store.set_keep_records(true);
        let what = "filtered list page of 50 (status, industry, -signed_on), nothing kept";
        beside_bare(report, what, conns, &cold?, &baseline, 0.25);
    }
    let at_random = format!("read one of {records} records at random");
    let beside = [
        (
            "filtered list page of 50",
            list_page.as_str(),
            None,
            bare_list,
            0.25,
        ),
        ("read one record", read_one.as_str(), None, bare_record, 0.5),
        (
            at_random.as_str(),
            read_one.as_str(),
            Some(random.as_path()),
            bare_record,
            0.5,
        ),
    ];
    for (what, url, script, bare, goal) in beside {
        let load = Load { url, script };
        beside_writes(served, what, &load, bare, goal, dur, report)?;
    }
    let _ = std::fs::remove_file(&random);
    // Creates: a POST of one customer per request (wrk's script sets method, body, type),
    // each next to the same load with every create committing alone (group commit off).
    let script = create_script()?;
    let url = format!("{base}/api/v1/records/customer");
    for conns in [16usize, 64] {
        store.set_group_commit(false);
        let alone = wrk(&url, Some(token), Some(&script), conns, dur);
        store.set_group_commit(true);
        let alone = alone?;
        // The same load with the log checkpointed inside the writer's commits, as by SQLite's
        // default (`db/checkpoints.rs`), just before and just after it (the table grows).
        let checkpointed_inside = |store: &qingguan_core::Store| {
            store.set_checkpoints_aside(false);
            let run = wrk(&url, Some(token), Some(&script), conns, dur);
            store.set_checkpoints_aside(true);
            run
        };
        let inside_before = checkpointed_inside(store)?;
        let (commits, calls) = store.commit_groups();
        let aside_before = store.checkpoints_aside();
        let (held, started) = (store.writer_held(), Instant::now());
        let r = wrk(&url, Some(token), Some(&script), conns, dur)?;
        let (held, took) = (store.writer_held() - held, started.elapsed());
        let (commits_after, calls_after) = store.commit_groups();
        let aside = store.checkpoints_aside() - aside_before;
        let inside_after = checkpointed_inside(store)?;
        let inside = Run {
            per_sec: (inside_before.per_sec + inside_after.per_sec) / 2.0,
            p99_ms: inside_before.p99_ms.max(inside_after.p99_ms),
            ..inside_after
        };
        report.add(
            "http-wrk",
            &format!(
                "create one record, {conns} conn, the log checkpointed aside ({aside} checkpoints; p99 {:.2} ms)",
                r.p99_ms
            ),
            r.per_sec,
            "req/s",
            Some((
                "checkpointed inside the writer's commits, same wrk, before and after",
                inside.per_sec,
            )),
            &format!(
                "wrk -t2 with a POST script; baseline {:.0} then {:.0} req/s, p99 up to {:.2} ms",
                inside_before.per_sec, inside_after.per_sec, inside.p99_ms
            ),
        );
        let per_commit = (calls_after - calls) as f64 / (commits_after - commits).max(1) as f64;
        // How busy the one writer was: the share of the load's time a call held it, and how
        // long each create held it (from taking it to letting it go).
        let held_share = 100.0 * held.as_secs_f64() / took.as_secs_f64();
        let held_each = held.as_secs_f64() * 1e6 / (calls_after - calls).max(1) as f64;
        report.add(
            "http-wrk",
            &format!(
                "create one record with history and search, {conns} conn (p50 {:.2} ms, p99 {:.2} ms, {} errors; {per_commit:.1} creates a commit; the writer held {held_share:.0}% of the time, {held_each:.0} µs a create)",
                r.p50_ms, r.p99_ms, r.errors
            ),
            r.per_sec,
            "req/s",
            Some(("each create committed alone, same wrk", alone.per_sec)),
            &format!(
                "wrk -t2 with a POST script; baseline p50 {:.2} ms, p99 {:.2} ms; goal ≥ 5,000/s",
                alone.p50_ms, alone.p99_ms
            ),
        );
    }
    creates_without_write_tokens(served, &url, &script, dur, report)?;
    let _ = std::fs::remove_file(&script);
    Ok(())
}

/// What the triggers that renew the customers' write token and log their writes
/// (`record_writes`) cost creates:
/// the 16-connection create load with them dropped — straight on the database file, as the
/// bench's raw baselines are — next to the same load with them, then made again as they were.
fn creates_without_write_tokens(
    served: &Served<'_>,
    url: &str,
    script: &std::path::Path,
    dur: Duration,
    report: &mut Report,
) -> anyhow::Result<()> {
    let path = served.store.path();
    if path.as_os_str().is_empty() {
        return Ok(()); // PostgreSQL has no such triggers
    }
    let raw = rusqlite::Connection::open(path)?;
    let triggers: Vec<(String, String)> = raw
        .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'qg_writes\\_customer\\_%' ESCAPE '\\'")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let with = wrk(url, Some(served.token), Some(script), 16, dur)?;
    for (name, _) in &triggers {
        raw.execute_batch(&format!("DROP TRIGGER \"{name}\""))?;
    }
    let without = wrk(url, Some(served.token), Some(script), 16, dur);
    for (_, sql) in &triggers {
        raw.execute_batch(sql)?;
    }
    let without = without?;
    report.add(
        "http-wrk",
        &format!(
            "create one record with history and search, 16 conn, with the {} write-token triggers (p99 {:.2} ms)",
            triggers.len(),
            with.p99_ms
        ),
        with.per_sec,
        "req/s",
        Some(("the same creates, the triggers dropped", without.per_sec)),
        &format!("wrk -t2 with a POST script; baseline p99 {:.2} ms", without.p99_ms),
    );
    Ok(())
}

/// A page (kept) at 16 connections while records are written beside it, 200 a second through
/// the store: of another type — contacts: after each commit the page is given out again once
/// its type's write token says no customer was written —, of its own that the page does not
/// show — given out again once the writes logged are seen to name no record it read or would
/// read — and of its own, each first on the page: each commit makes the page read again.
/// What wrk asks for: a URL, or what a script makes of it.
struct Load<'a> {
    url: &'a str,
    script: Option<&'a std::path::Path>,
}

fn beside_writes(
    served: &Served<'_>,
    page: &str,
    load: &Load<'_>,
    bare: &str,
    goal: f64,
    dur: Duration,
    report: &mut Report,
) -> anyhow::Result<()> {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
    let baseline = wrk(&format!("{bare}/record"), None, None, 16, dur)?;
    let writes = [
        (
            "contacts, another type",
            "contact",
            serde_json::json!({"name": "Beside", "customer": 1}),
        ),
        (
            "customers the page does not show",
            "customer",
            serde_json::json!({"name": "Beside", "kind": "company", "status": "customer"}),
        ),
        (
            "customers first on the page (every write changes it)",
            "customer",
            serde_json::json!({"name": "Beside", "kind": "company", "status": "lead",
                               "industry": "retail", "signed_on": "2099-01-01"}),
        ),
    ];
    for (what, entity, body) in writes {
        let (stop, written) = (AtomicBool::new(false), AtomicU64::new(0));
        let started = std::time::Instant::now();
        let r = std::thread::scope(|scope| {
            scope.spawn(|| {
                let system = qingguan_core::Access::system();
                let input = body.as_object().expect("an object");
                let mut next = std::time::Instant::now();
                while !stop.load(Relaxed) {
                    if served.store.create(&system, entity, input).is_ok() {
                        written.fetch_add(1, Relaxed);
                    }
                    next += Duration::from_millis(5);
                    if let Some(wait) = next.checked_duration_since(std::time::Instant::now()) {
                        std::thread::sleep(wait);
                    }
                }
            });
            let r = wrk(load.url, Some(served.token), load.script, 16, dur);
            stop.store(true, Relaxed);
            r
        })?;
        let rate = written.load(Relaxed) as f64 / started.elapsed().as_secs_f64();
        let what = format!("{page} beside {rate:.0} writes/s of {what}");
        beside_bare(report, &what, 16, &r, &baseline, goal);
    }
    Ok(())
}

/// wrk's script for creates: a POST of one customer per request. The caller removes the file.
pub(crate) fn create_script() -> anyhow::Result<std::path::PathBuf> {
    let script = std::env::temp_dir().join(format!("qg-wrk-create-{}.lua", std::process::id()));
    std::fs::write(
        &script,
        "wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\nwrk.body = '{\"name\": \"Load\", \"kind\": \"company\", \"status\": \"lead\", \"revenue\": \"10.00\"}'\n",
    )?;
    Ok(script)
}

/// wrk's script for reads of customers 1 to `records` at random. The caller removes the file.
fn random_read_script(records: usize) -> anyhow::Result<std::path::PathBuf> {
    let script = std::env::temp_dir().join(format!("qg-wrk-read-{}.lua", std::process::id()));
    std::fs::write(
        &script,
        format!(
            "request = function()\n  return wrk.format(nil, \"/api/v1/records/customer/\" .. math.random(1, {records}))\nend\n"
        ),
    )?;
    Ok(script)
}

/// Whether `wrk` is installed.
pub(crate) fn installed() -> bool {
    Command::new("wrk").arg("--version").output().is_ok()
}

/// The list page measured (a filter on two few-valued fields, sorted by a custom date).
pub(crate) const LIST_QUERY: &str = "status=lead&industry=retail&sort=-signed_on&limit=50";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_wrk_output() {
        let out = "Running 3s test @ http://127.0.0.1:1/x\n  2 threads and 16 connections\n  Latency Distribution\n     50%  612.00us\n     75%    1.02ms\n     90%    1.50ms\n     99%    3.25ms\n  84213 requests in 3.00s, 40.00MB read\n  Non-2xx or 3xx responses: 4\nRequests/sec:  28068.41\nTransfer/sec:     13.33MB\n";
        let r = parse(out).unwrap();
        assert_eq!(r.per_sec, 28068.41);
        assert_eq!(r.p50_ms, 0.612);
        assert_eq!(r.p99_ms, 3.25);
        assert_eq!(r.errors, 4);
        assert!((ms("2.01s").unwrap() - 2010.0).abs() < 1e-9);
        assert!(parse("nothing").is_none());
    }
}
