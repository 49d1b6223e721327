//! The plugin group: hook and call overhead next to a raw wasmtime call, and hot swap under
//! load (time from file to live, failed requests during the swap).

use crate::report::Report;
use anyhow::Context;
use qingguan_core::Access;
use qingguan_tests::TestServer;
use serde_json::json;
use std::time::{Duration, Instant};

pub(crate) fn plugins(server: &TestServer, report: &mut Report) -> anyhow::Result<()> {
    let admin = server.admin();
    let r = qingguan_tests::install(&admin, "qg-test-bench", true);
    anyhow::ensure!(r.status == 201, "install bench plugin: {}", r.text);
    let store = &server.store;
    let system = Access::system();
    let n = 3000;
    let per_write = |entity: &str| -> anyhow::Result<f64> {
        let input = json!({"title": "bench", "customer": 1});
        let map = input.as_object().cloned().unwrap_or_default();
        for _ in 0..200 {
            store.create(&system, entity, &map)?;
        }
        let t = Instant::now();
        for _ in 0..n {
            store.create(&system, entity, &map)?;
        }
        Ok(t.elapsed().as_secs_f64() * 1e6 / n as f64)
    };
    let plain = per_write("bench_plain")?;
    let noop = per_write("bench_noop")?;
    let read = per_write("bench_read")?;
    report.add(
        "plugins",
        "create, no hook (store)",
        plain,
        "µs/write",
        None,
        "",
    );
    report.add(
        "plugins",
        "create with no-op before-save hook",
        noop,
        "µs/write",
        Some(("no hook", plain)),
        &format!("hook adds {:.1} µs (budget < 50 µs)", noop - plain),
    );
    report.add(
        "plugins",
        "create with before-save hook that reads a record",
        read,
        "µs/write",
        Some(("no hook", plain)),
        &format!("hook adds {:.1} µs", read - plain),
    );
    let calls = 5000u32;
    let t = Instant::now();
    for _ in 0..calls {
        server.plugins.calls().call_health("bench")?;
    }
    let fresh = t.elapsed().as_secs_f64() * 1e6 / calls as f64;
    let raw = qingguan_runtime::bench::raw_health(&server.plugins, "bench", calls)?.as_secs_f64()
        * 1e6
        / calls as f64;
    report.add(
        "plugins",
        "no-op export call, fresh instance + limits (our path)",
        fresh,
        "µs/call",
        Some(("raw wasmtime call, reused instance", raw)),
        "difference = instantiation + store setup",
    );
    Ok(())
}

/// How long the last install attempt that came from `source` took (waits for it to be recorded:
/// the new version can serve a moment before its attempt is written).
fn attempt_ms(admin: &qingguan_tests::Client, id: &str, source: &str) -> anyhow::Result<f64> {
    let t = Instant::now();
    loop {
        let a = admin.get(&format!("/api/v1/plugins/{id}")).body["last_attempt"].clone();
        if a["source"] == source {
            return a["millis"].as_f64().context("millis");
        }
        anyhow::ensure!(
            t.elapsed() < Duration::from_secs(30),
            "attempt from {source} never recorded"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Polls until `good` runs `version`; returns how long that took.
fn wait_version(
    admin: &qingguan_tests::Client,
    id: &str,
    version: &str,
) -> anyhow::Result<Duration> {
    let t = Instant::now();
    loop {
        let v = admin.get(&format!("/api/v1/plugins/{id}")).body["version"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if v == version {
            return Ok(t.elapsed());
        }
        anyhow::ensure!(
            t.elapsed() < Duration::from_secs(60),
            "{id} never reached {version}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

pub(crate) fn swap(
    server: &TestServer,
    rt: &tokio::runtime::Runtime,
    report: &mut Report,
) -> anyhow::Result<()> {
    let admin = server.admin();
    let token = admin.token.clone().context("token")?;
    let r = qingguan_tests::install(&admin, "qg-test-good", true);
    anyhow::ensure!(r.status == 201, "install good: {}", r.text);
    let folder = server.dir.path().join("plugins");
    let url = server.url.clone();
    let load = rt.spawn(crate::load::run(16, Duration::from_secs(8), move |c, n| {
        c.post(format!("{url}/api/v1/records/note"))
            .bearer_auth(&token)
            .json(&json!({"title": format!("swap {n}")}))
    }));
    std::thread::sleep(Duration::from_millis(1000));
    let v2 = std::fs::read(qingguan_tests::plugin_wasm("qg-test-good-v2"))?;
    std::fs::write(folder.join("good-v2.wasm"), &v2)?;
    let cold = wait_version(&admin, "good", "1.1.0")?;
    let cold_work = attempt_ms(&admin, "good", "good-v2.wasm")?;
    std::thread::sleep(Duration::from_millis(1000));
    let t = Instant::now();
    let back = admin.post("/api/v1/plugins/good/rollback", &json!({}));
    anyhow::ensure!(back.status == 200, "rollback: {}", back.text);
    let rollback = t.elapsed().as_secs_f64() * 1000.0;
    std::thread::sleep(Duration::from_millis(1000));
    std::fs::write(folder.join("good-v2-again.wasm"), &v2)?;
    let warm = wait_version(&admin, "good", "1.1.0")?;
    let warm_work = attempt_ms(&admin, "good", "good-v2-again.wasm")?;
    let stats = rt.block_on(load)?;
    let note = format!(
        "debounce {} ms included; under 16-connection write load through the hook",
        qingguan_runtime::watch::DEBOUNCE.as_millis()
    );
    report.add(
        "swap",
        &format!(
            "small plugin ({} KB): file dropped → new version serving, cold cache",
            v2.len() / 1024
        ),
        cold.as_secs_f64() * 1000.0,
        "ms",
        None,
        &note,
    );
    report.add(
        "swap",
        "small plugin: validate+compile+migrate+swap (no debounce), cold cache",
        cold_work,
        "ms",
        None,
        "budget < 1 s",
    );
    report.add(
        "swap",
        "small plugin: file dropped → serving, warm cache",
        warm.as_secs_f64() * 1000.0,
        "ms",
        None,
        &note,
    );
    report.add(
        "swap",
        "small plugin: validate+compile+migrate+swap, warm cache",
        warm_work,
        "ms",
        None,
        "",
    );
    report.add("swap", "rollback over the API", rollback, "ms", None, "");
    report.add(
        "swap",
        &format!("requests during 3 swaps (p99 {:.1} ms)", stats.p99_ms),
        stats.per_sec * 8.0,
        "requests",
        None,
        &format!("{} failed (budget 0)", stats.errors),
    );
    let big = std::fs::read(qingguan_tests::plugin_wasm("qg-test-big"))?;
    let install_big = |bytes: &[u8]| -> anyhow::Result<f64> {
        let t = Instant::now();
        let b = bytes.to_vec();
        let r = admin.send(
            reqwest::Method::POST,
            "/api/v1/plugins?approve=true",
            move |r| r.body(b),
        );
        anyhow::ensure!(r.status == 201, "install big: {}", r.text);
        Ok(t.elapsed().as_secs_f64() * 1000.0)
    };
    let big_cold = install_big(&big)?;
    let del = admin.send(reqwest::Method::DELETE, "/api/v1/plugins/big", |r| r);
    anyhow::ensure!(del.status == 204, "remove big: {}", del.text);
    let big_warm = install_big(&big)?;
    report.add(
        "swap",
        &format!(
            "large plugin ({} KB) install over HTTP, cold cache",
            big.len() / 1024
        ),
        big_cold,
        "ms",
        None,
        "upload + validate + compile + install + health",
    );
    report.add(
        "swap",
        "large plugin install over HTTP, warm cache",
        big_warm,
        "ms",
        Some(("cold", big_cold)),
        "",
    );
    for (label, clear) in [("cold", true), ("warm", false)] {
        if clear {
            let _ = std::fs::remove_dir_all(server.dir.path().join("plugins").join("cache"));
        }
        let ms = crate::startup(server)?;
        let installed: Vec<String> = server.store.plugins()?.into_iter().map(|p| p.id).collect();
        report.add(
            "startup",
            &format!("open store + load all installed plugins ({label} compile cache)"),
            ms,
            "ms",
            None,
            &format!("budget < 1 s warm; plugins: {}", installed.join(", ")),
        );
    }
    Ok(())
}
