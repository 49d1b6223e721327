//! Growing the customer table through the API, as #20 measured it: wrk POSTs varied customers
//! at 16 connections in windows until the table holds `QG_BENCH_GROW` records (default
//! 600,000), each window's rate beside the table's size; then the list shapes the issue named,
//! over HTTP, first with the planner's statistics as the server kept them while it grew, then
//! after a refresh.

use crate::report::Report;
use crate::wrk;
use qingguan_core::{Access, ListQuery};
use qingguan_tests::TestServer;
use std::time::Duration;

/// wrk's script: a POST of one customer per request, its name, status, industry, date, amount
/// and owner drawn at random, from the words `data::seed` makes names of.
fn script_text() -> String {
    let lua_list = |words: &[&str]| {
        let quoted: Vec<String> = words.iter().map(|w| format!("{w:?}")).collect();
        format!("{{{}}}", quoted.join(", "))
    };
    format!(
        r#"
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local cities = {cities}
local words = {words}
local trades = {trades}
local latin = {latin}
local latin_trades = {{"Trading", "Foods", "Systems"}}
local statuses = {{"lead", "customer", "customer", "inactive"}}
local industries = {{"retail", "technology", "manufacturing", "food", "services", "wholesale"}}
local n = 0
init = function(args)
  -- Each wrk thread has its own Lua state: seed each apart.
  math.randomseed(os.time() + tonumber(tostring({{}}):match("0x(%x+)"), 16) % 100000)
end
request = function()
  n = n + 1
  local name
  if math.random(4) == 1 then
    name = latin[math.random(#latin)] .. " " .. latin_trades[math.random(3)] .. " " .. n
  else
    name = cities[math.random(#cities)] .. words[math.random(#words)]
      .. trades[math.random(#trades)] .. "有限公司" .. n
  end
  local body = string.format(
    '{{"name":"%s","kind":"company","status":"%s","industry":"%s","signed_on":"%04d-%02d-%02d","revenue":"%d.%02d","owner":%d}}',
    name, statuses[math.random(#statuses)], industries[math.random(#industries)],
    2020 + math.random(5), math.random(12), math.random(28),
    math.random(200000) - 1, math.random(100) - 1, 1 + math.random(20))
  return wrk.format(nil, nil, nil, body)
end
"#,
        cities = lua_list(crate::data::CITIES),
        words = lua_list(crate::data::WORDS),
        trades = lua_list(crate::data::TRADES),
        latin = lua_list(crate::data::LATIN),
    )
}

/// The list shapes of #20 (its five, and the bench's list page), as `(name, path)`.
const SHAPES: &[(&str, &str)] = &[
    (
        "status=lead&industry=food&sort=-created_at",
        "/api/v1/records/customer?status=lead&industry=food&sort=-created_at&limit=50",
    ),
    (
        "industry=food&created_at[gt]=2026-01-01&sort=-updated_at",
        "/api/v1/records/customer?industry=food&created_at%5Bgt%5D=2026-01-01&sort=-updated_at&limit=50",
    ),
    (
        "status=inactive&sort=name",
        "/api/v1/records/customer?status=inactive&sort=name&limit=50",
    ),
    (
        "status=lead&industry=retail&sort=-signed_on",
        "/api/v1/records/customer?status=lead&industry=retail&sort=-signed_on&limit=50",
    ),
    (
        "q=恒信 within customers",
        "/api/v1/records/customer?q=%E6%81%92%E4%BF%A1&limit=50",
    ),
    ("global search q=恒信", "/api/v1/search?q=%E6%81%92%E4%BF%A1"),
];

/// Grows the table through the API and measures the issue's list shapes at its size.
pub fn grow(server: &TestServer, token: &str, report: &mut Report) -> anyhow::Result<()> {
    if !wrk::installed() {
        eprintln!("wrk not found: the grow group is skipped (apt-get install wrk)");
        return Ok(());
    }
    let target = crate::env_size("QG_BENCH_GROW", 600_000) as i64;
    let window = Duration::from_secs(crate::env_size("QG_BENCH_GROW_WINDOW", 15) as u64);
    let script = std::env::temp_dir().join(format!("qg-wrk-grow-{}.lua", std::process::id()));
    std::fs::write(&script, script_text())?;
    let url = format!("{}/api/v1/records/customer", server.url);
    let count = || {
        server
            .store
            .count(&Access::system(), "customer", &ListQuery::default())
    };
    let started = std::time::Instant::now();
    let mut windows = Vec::new();
    let mut rows = count()?;
    while rows < target {
        let run = wrk::wrk(&url, Some(token), Some(&script), 16, window)?;
        let before = rows;
        rows = count()?;
        let (commits, calls) = server.store.commit_groups();
        eprintln!(
            "grow {before}..{rows}: {:.0} creates/s, p99 {:.1} ms, {} errors; {:.1} creates a commit so far",
            run.per_sec,
            run.p99_ms,
            run.errors,
            calls as f64 / commits.max(1) as f64
        );
        anyhow::ensure!(
            run.errors == 0,
            "creates failed while growing: {}",
            run.errors
        );
        windows.push((rows, run.per_sec, run.p99_ms));
    }
    let _ = std::fs::remove_file(&script);
    let elapsed = started.elapsed().as_secs_f64();
    let curve: Vec<String> = windows
        .iter()
        .map(|(n, r, p99)| format!("{}k {r:.0} (p99 {p99:.0} ms)", n / 1000))
        .collect();
    if let (Some(first), Some(last)) = (windows.first(), windows.last()) {
        report.add(
            "grow",
            &format!(
                "creates over HTTP, wrk 16 conn, the window ending at {} records",
                last.0
            ),
            last.1,
            "creates/s",
            Some((&format!("the window ending at {}", first.0), first.1)),
            &format!(
                "{rows} records in {elapsed:.0} s ({:.0}/s on average); windows of {} s: {}",
                rows as f64 / elapsed,
                window.as_secs(),
                curve.join(" · ")
            ),
        );
    }
    let stale = shapes(server, token)?;
    server.store.optimize()?;
    let fresh = shapes(server, token)?;
    for ((name, stale), (_, fresh)) in stale.iter().zip(&fresh) {
        report.add(
            "grow",
            &format!("list page over HTTP @ {rows}, {name}"),
            *fresh,
            "ms",
            Some((
                "the statistics as the server kept them while it grew",
                *stale,
            )),
            "median of 11; the figure after the planner's statistics were refreshed",
        );
    }
    Ok(())
}

/// Each shape's first page over HTTP: the median of 11, in ms.
fn shapes(server: &TestServer, token: &str) -> anyhow::Result<Vec<(&'static str, f64)>> {
    let c = qingguan_tests::Client::new(&server.url);
    SHAPES
        .iter()
        .map(|&(name, path)| {
            let ms = crate::median_ms(11, |_| {
                let r = c.send(reqwest::Method::GET, path, |r| r.bearer_auth(token));
                anyhow::ensure!(r.status == 200, "{path}: {}", r.status);
                Ok(())
            })?;
            eprintln!("grow  {name}: {ms:.2} ms");
            Ok((name, ms))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_script_lists_the_generators_words_as_lua_strings() {
        let text = super::script_text();
        assert!(
            text.contains("local cities = {\"杭州\", \"上海\","),
            "{text}"
        );
        assert!(text.contains("\"Smith & Sons\""));
        // Lua's table braces are single in the script, not format!'s doubled ones.
        assert!(text.contains("local latin_trades = {\"Trading\", \"Foods\", \"Systems\"}"));
        assert!(!text.contains("{{"));
    }
}
