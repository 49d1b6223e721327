//! Several hosts on one PostgreSQL database: reads and creates through two hosts at once next
//! to one host with the same connections (wrk, separate processes), and how long a plugin
//! upgraded through one host takes to serve on the other. PostgreSQL only (`QG_TEST_POSTGRES`).

use crate::report::Report;
use crate::wrk;
use qingguan_tests::{install, plugin_with_version, Client, TestServer};
use serde_json::json;
use std::time::{Duration, Instant};

/// wrk against each URL at once, `conns` connections each; the runs in order.
fn at_once(
    urls: &[String],
    token: &str,
    script: Option<&std::path::Path>,
    conns: usize,
    dur: Duration,
) -> anyhow::Result<Vec<wrk::Run>> {
    std::thread::scope(|scope| {
        let runs: Vec<_> = urls
            .iter()
            .map(|url| scope.spawn(move || wrk::wrk(url, Some(token), script, conns, dur)))
            .collect();
        runs.into_iter()
            .map(|r| {
                r.join()
                    .map_err(|_| anyhow::anyhow!("wrk thread panicked"))?
            })
            .collect()
    })
}

/// The version stamp a note created through `c` gets from the `good` plugin.
fn stamp(c: &Client) -> String {
    let r = c.post("/api/v1/records/note", &json!({"title": "probe"}));
    r.body["stamp"].as_str().unwrap_or_default().to_string()
}

pub(crate) fn hosts(
    server: &TestServer,
    token: &str,
    dur: Duration,
    report: &mut Report,
) -> anyhow::Result<()> {
    if !server.on_postgres() {
        eprintln!("the hosts group needs PostgreSQL (QG_TEST_POSTGRES): skipped");
        return Ok(());
    }
    let second = server.second_host();
    let a = server.url.clone();
    let b = second.url.clone();

    if wrk::installed() {
        let script = wrk::create_script()?;
        let cases: [(&str, String, Option<&std::path::Path>); 2] = [
            ("read one record", "/api/v1/records/customer/1".into(), None),
            (
                "create one record with history and search",
                "/api/v1/records/customer".into(),
                Some(&script),
            ),
        ];
        for (what, path, script) in &cases {
            let one = at_once(&[format!("{a}{path}")], token, *script, 64, dur)?;
            let two = at_once(
                &[format!("{a}{path}"), format!("{b}{path}")],
                token,
                *script,
                32,
                dur,
            )?;
            let total: f64 = two.iter().map(|r| r.per_sec).sum();
            let errors: u64 = two.iter().map(|r| r.errors).sum::<u64>() + one[0].errors;
            report.add(
                "hosts",
                &format!(
                    "{what}: two hosts, 32 conn each (p99 {:.2} / {:.2} ms, {errors} errors)",
                    two[0].p99_ms, two[1].p99_ms
                ),
                total,
                "req/s",
                Some(("one host, 64 conn", one[0].per_sec)),
                &format!(
                    "wrk -t2 per host, separate processes; one host p99 {:.2} ms",
                    one[0].p99_ms
                ),
            );
        }
        let _ = std::fs::remove_file(&script);
    } else {
        eprintln!("wrk not found: the hosts group's throughput rows are skipped");
    }

    // A plugin upgraded (and rolled back) through A: how long until B serves it.
    let admin_a = server.admin();
    let mut admin_b = Client::new(&b);
    admin_b.token = admin_a.token.clone();
    let first = install(&admin_a, "qg-test-good", true);
    anyhow::ensure!(first.status == 201, "install good: {}", first.text);
    let mut waits = Vec::new();
    for round in 0..6 {
        // Builds of their own each round: a build B has compiled before loads from its cache.
        let (from, to) = ("1.0.0", format!("1.0.{}", round + 1));
        let bytes = plugin_with_version("qg-test-good", from, &to);
        let up = qingguan_tests::install_bytes(&admin_a, bytes, false);
        anyhow::ensure!(up.status == 201, "upgrade: {}", up.text);
        let answered = Instant::now();
        while !stamp(&admin_b).ends_with(&format!(":{to}")) {
            anyhow::ensure!(
                answered.elapsed() < Duration::from_secs(30),
                "B never served {to}"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        waits.push(answered.elapsed().as_secs_f64() * 1000.0);
    }
    waits.sort_by(f64::total_cmp);
    report.add(
        "hosts",
        "plugin upgraded through A, live on B (median of 6)",
        waits[waits.len() / 2],
        "ms",
        None,
        &format!(
            "from A's answer to B's first write on the new version; fastest {:.0} ms, slowest \
             {:.0} ms; B polls for changes every 250 ms, then compiles the new build",
            waits[0],
            waits[waits.len() - 1]
        ),
    );
    drop(second);
    Ok(())
}
