//! A write the server acknowledged survives the server being killed (SIGKILL) under write
//! load — on SQLite, and on PostgreSQL where `QG_TEST_POSTGRES` names a server.

use crate::cli::start;
use crate::postgres::{login, user_add};
use qingguan_tests::PgDatabase;
use serde_json::json;
use std::sync::{Arc, Mutex};

/// Writes from four clients until the server is killed; every create it answered 201 must be
/// there after a restart, with what was written.
fn killed_under_load_keeps_what_it_acknowledged(database: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_s = data.to_str().unwrap();
    user_add(data_s, database);

    let serve: Vec<&str> = ["serve", "--data-dir", data_s]
        .into_iter()
        .chain(database.iter().copied())
        .collect();
    let (mut running, url) = start(&serve);
    let acknowledged = Arc::new(Mutex::new(Vec::<(i64, String)>::new()));
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (url, acknowledged) = (url.clone(), acknowledged.clone());
            std::thread::spawn(move || {
                let token = login(&url).token.unwrap();
                let http = reqwest::blocking::Client::new();
                for i in 0.. {
                    let name = format!("写入 {w}-{i}");
                    let sent = http
                        .post(format!("{url}/api/v1/records/customer"))
                        .bearer_auth(&token)
                        .json(&json!({"name": name, "kind": "company", "status": "lead"}))
                        .send();
                    // The server is gone (refused, reset, or answered half).
                    let Ok(r) = sent else { break };
                    if r.status().as_u16() != 201 {
                        break;
                    }
                    let Ok(body) = r.json::<serde_json::Value>() else {
                        break;
                    };
                    let id = body["id"].as_i64().unwrap();
                    acknowledged.lock().unwrap().push((id, name));
                }
            })
        })
        .collect();
    // Let the load run, then kill the server without warning. On SQLite, not before the
    // store's checkpoint thread has copied some of the log into the database file (only a
    // checkpoint writes that file once the server serves): the kill may land while it copies.
    let file = database.is_empty().then(|| data.join("qingguan.db"));
    let size = |file: &std::path::Path| std::fs::metadata(file).map_or(0, |m| m.len());
    let served_size = file.as_deref().map_or(0, size);
    let checkpointed = || file.as_deref().is_none_or(|f| size(f) > served_size);
    let started = std::time::Instant::now();
    while (acknowledged.lock().unwrap().len() < 200 || !checkpointed())
        && started.elapsed().as_secs() < 60
    {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(checkpointed(), "no checkpoint under a minute of creates");
    running.0.kill().unwrap();
    running.0.wait().unwrap();
    for w in writers {
        w.join().unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() >= 200, "{} writes", acknowledged.len());

    let (_again, url) = start(&serve);
    let c = login(&url);
    let found = c.every("customer", "name");
    for (id, name) in &acknowledged {
        assert_eq!(
            found.get(id),
            Some(name),
            "acknowledged write {id} was lost"
        );
    }
    // Nothing half-written: every record has its creation in its history.
    let (id, _) = acknowledged.last().unwrap();
    let history = c.get(&format!("/api/v1/records/customer/{id}/history"));
    assert_eq!(
        history.body["items"][0]["action"], "create",
        "{}",
        history.body
    );
}

#[test]
fn acknowledged_writes_survive_a_kill_on_sqlite() {
    killed_under_load_keeps_what_it_acknowledged(&[]);
}

#[test]
fn acknowledged_writes_survive_a_kill_on_postgres() {
    let Ok(server) = std::env::var("QG_TEST_POSTGRES") else {
        eprintln!("QG_TEST_POSTGRES is not set: the PostgreSQL kill test does not run");
        return;
    };
    let db = PgDatabase::create(&server);
    killed_under_load_keeps_what_it_acknowledged(&["--database", &db.url]);
}
