//! `qingguan_runtime::testing::TestHost`, the in-process harness plugin authors use from `cargo test`,
//! driving a real component.

use qingguan_runtime::testing::TestHost;
use qingguan_tests::plugin_wasm;
use serde_json::json;

#[test]
fn plugin_authors_can_test_a_component_in_process() {
    let host = TestHost::new().unwrap();
    let info = host.install(plugin_wasm("qg-test-good")).unwrap();
    assert_eq!(info.status, "active");
    let c = host
        .create(
            "customer",
            json!({"name": "Acme", "kind": "company", "status": "lead"}),
        )
        .unwrap();
    let note = host
        .create("note", json!({"title": "hello", "customer": c["id"]}))
        .unwrap();
    assert_eq!(note["state"], "open", "the before-write hook ran");
    let refused = host
        .create("note", json!({"title": "forbidden"}))
        .unwrap_err();
    assert!(
        refused.to_string().contains("may not be saved"),
        "{refused}"
    );
    assert_eq!(
        host.ask("good", "notes_of", json!({"customer": c["id"]}))
            .unwrap(),
        json!({"count": 1})
    );
    let (status, body) = host.http("good", "GET", "/hello?name=x", b"").unwrap();
    assert_eq!(status, 200);
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&body).unwrap()["name"],
        "x"
    );
    let closed = host
        .action(
            "good",
            "close",
            "note",
            note["id"].as_i64().unwrap(),
            json!({}),
        )
        .unwrap();
    assert_eq!(closed["state"], "done");
    host.run_job("good", "tick").unwrap();
    assert_eq!(
        host.store().kv_get("good", "open_notes").unwrap(),
        Some(b"0".to_vec())
    );
    let rep = host.user("amy", "sales", "east").unwrap();
    let mine = host
        .create_as(&rep, "note", json!({"title": "rep's"}))
        .unwrap();
    assert_eq!(mine["owner"], rep.user_id.unwrap());
}
