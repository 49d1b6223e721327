//! The SDK group: what the 1.2 contract costs next to 1.1 (a no-op call on each), atomic kv
//! increments under 16 concurrent callers through a plugin route next to the store's own rate,
//! and — when the pinned Python and JavaScript toolchains are in `target/tools` — a call into
//! a Python and a JavaScript plugin next to the same call into a Rust one.

use crate::report::Report;
use qingguan_runtime::{CallCtx, HttpRequest};
use qingguan_tests::TestServer;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

fn health_us(server: &TestServer, id: &str, calls: u32) -> anyhow::Result<f64> {
    for _ in 0..calls / 10 {
        server.plugins.calls().call_health(id)?;
    }
    let t = Instant::now();
    for _ in 0..calls {
        server.plugins.calls().call_health(id)?;
    }
    Ok(t.elapsed().as_secs_f64() * 1e6 / f64::from(calls))
}

fn install(server: &TestServer, crate_name: &str) -> anyhow::Result<()> {
    let r = qingguan_tests::install(&server.admin(), crate_name, true);
    anyhow::ensure!(r.status == 201, "install {crate_name}: {}", r.text);
    Ok(())
}

/// Runs `work` on 16 threads, `per_thread` times each; returns operations per second.
fn concurrent(
    per_thread: u32,
    work: impl Fn() -> anyhow::Result<()> + Send + Sync,
) -> anyhow::Result<f64> {
    let t = Instant::now();
    std::thread::scope(|s| -> anyhow::Result<()> {
        let handles: Vec<_> = (0..16)
            .map(|_| {
                s.spawn(|| -> anyhow::Result<()> {
                    for _ in 0..per_thread {
                        work()?;
                    }
                    Ok(())
                })
            })
            .collect();
        for h in handles {
            h.join().map_err(|_| anyhow::anyhow!("worker panicked"))??;
        }
        Ok(())
    })?;
    Ok(f64::from(16 * per_thread) / t.elapsed().as_secs_f64())
}

pub(crate) fn sdk(server: &TestServer, report: &mut Report) -> anyhow::Result<()> {
    install(server, "qg-test-bench")?;
    install(server, "qg-test-past-sdk-11")?;
    install(server, "qg-test-tx")?;
    // Alternating blocks, the median of each side: the machine's drift hits both.
    let (mut v12, mut v11) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        v12.push(health_us(server, "bench", 2000)?);
        v11.push(health_us(server, "past11", 2000)?);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (v12, v11) = (median(&mut v12), median(&mut v11));
    report.add(
        "sdk",
        "no-op export call, 1.2 plugin (transaction scope included)",
        v12,
        "µs/call",
        Some(("same call, 1.1 plugin", v11)),
        &format!(
            "{:+.1}% against 1.1 (budget: no more than +10%)",
            (v12 / v11 - 1.0) * 100.0
        ),
    );

    let store = server.store.clone();
    let quota = qingguan_core::KvQuota {
        keys: 1000,
        bytes: 1 << 20,
    };
    let direct = concurrent(500, || {
        store.kv_increment("bench-direct", "n", 1, quota)?;
        Ok(())
    })?;
    let calls = server.plugins.calls().clone();
    let admin_ctx = CallCtx::for_user(&server.store, 1)?;
    let routed = concurrent(200, || {
        let req = HttpRequest {
            method: "POST".into(),
            path: "/kv/increment".into(),
            ..Default::default()
        };
        let r = calls.http("tx", req, admin_ctx.clone())?;
        anyhow::ensure!(r.status == 200, "increment answered {}", r.status);
        Ok(())
    })?;
    let counted = server.store.kv_get("tx", "counter")?.unwrap_or_default();
    report.add(
        "sdk",
        "kv increment through a plugin route, 16 concurrent callers",
        routed,
        "ops/s",
        Some(("store kv_increment, 16 threads", direct)),
        &format!(
            "{} increments counted of {} (none lost)",
            String::from_utf8_lossy(&counted),
            16 * 200
        ),
    );

    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    match other_languages(&root) {
        Some((py, js)) => {
            let admin = server.admin();
            for (component, example) in [(&py, "python-visits"), (&js, "js-visits")] {
                let packed = qingguan_runtime::pack(
                    &std::fs::read(component)?,
                    &std::fs::read_to_string(root.join("plugins/examples").join(example).join("qingguan.toml"))?,
                )?;
                let r = admin.send(reqwest::Method::POST, "/api/v1/plugins?approve=true", |r| {
                    r.header("content-type", "application/wasm").body(packed)
                });
                anyhow::ensure!(r.status == 201, "install {example}: {}", r.text);
            }
            let rust = health_us(server, "bench", 500)?;
            let python = health_us(server, "py_visits", 500)?;
            let javascript = health_us(server, "js_visits", 500)?;
            report.add(
                "sdk",
                "no-op export call, Python plugin (componentize-py)",
                python,
                "µs/call",
                Some(("Rust plugin", rust)),
                &format!("{:.1} MB component", size_mb(&py)),
            );
            report.add(
                "sdk",
                "no-op export call, JavaScript plugin (jco, QuickJS)",
                javascript,
                "µs/call",
                Some(("Rust plugin", rust)),
                &format!("{:.1} MB component", size_mb(&js)),
            );
        }
        None => println!("sdk: target/tools has no componentize-py/jco (run .ci/language-tools); Python/JS skipped"),
    }
    Ok(())
}

fn size_mb(p: &Path) -> f64 {
    std::fs::metadata(p)
        .map(|m| m.len() as f64 / 1e6)
        .unwrap_or(0.0)
}

/// Builds the two example plugins with the pinned toolchains, if they are installed.
fn other_languages(root: &Path) -> Option<(PathBuf, PathBuf)> {
    let py = root.join("target/tools/py/bin/componentize-py");
    let jco = root.join("target/tools/js/node_modules/.bin/jco");
    if !py.exists() || !jco.exists() {
        return None;
    }
    let out = root.join("target/bench-components");
    std::fs::create_dir_all(&out).ok()?;
    let (py_out, js_out) = (out.join("visits-py.wasm"), out.join("visits-js.wasm"));
    let built = Command::new(&py)
        .arg("-d")
        .arg(root.join("plugin-sdk/wit/v1.2.0"))
        .args(["-w", "plugin", "componentize", "-p"])
        .arg(root.join("plugins/examples/python-visits"))
        .args(["app", "-o"])
        .arg(&py_out)
        .status()
        .ok()?
        .success()
        && Command::new(&jco)
            .arg("componentize")
            .arg(root.join("plugins/examples/js-visits/visits.js"))
            .arg("--wit")
            .arg(root.join("plugin-sdk/wit/v1.2.0"))
            .args(["--world-name", "plugin", "--backend", "quickjs", "-o"])
            .arg(&js_out)
            .status()
            .ok()?
            .success();
    built.then_some((py_out, js_out))
}
