//! A test plugin granted nothing: `call {"import": NAME, "entity": E, "id": N}` runs one host
//! import and reports what came back — `{"ok": …}` or `{"error": KIND, "message": …}` — so
//! that a table-driven test can walk every import and expect a denial.

use qingguan_plugin_sdk::host::{self, Metric, Query};
use qingguan_plugin_sdk::*;

struct Nothing;

fn outcome<T: Into<Value>>(r: Result<T>) -> Value {
    match r {
        Ok(v) => json!({"ok": v.into()}),
        Err(e) => {
            json!({"error": e.kind(), "message": e.to_string()})
        }
    }
}

impl Plugin for Nothing {
    fn answer(query: &str, args: Value) -> Result<Value> {
        if query != "call" {
            return Err(Error::not_found(query));
        }
        let entity = args["entity"].as_str().unwrap_or("customer").to_string();
        let id = args["id"].as_i64().unwrap_or(1);
        let fields =
            json!({"name": "Injected", "kind": "company", "status": "lead", "role": "admin"});
        Ok(match args["import"].as_str().unwrap_or("") {
            "get-record" => outcome(host::get(&entity, id).map(|r| json!(r.id))),
            "query-records" => {
                outcome(host::query(&entity, &Query::new()).map(|p| json!(p.items.len())))
            }
            "query-records-as-user" => {
                outcome(host::query(&entity, &Query::new().as_user()).map(|p| json!(p.items.len())))
            }
            "aggregate-records" => outcome(
                host::aggregate(&entity, &Query::new(), &[], &[Metric::Count])
                    .map(|rows| json!(rows.len())),
            ),
            "create-record" => outcome(host::create(&entity, &fields).map(|r| json!(r.id))),
            "update-record" => outcome(host::update(&entity, id, 1, &fields).map(|r| json!(r.id))),
            "delete-record" => outcome(host::delete(&entity, id, 1).map(|_| json!(null))),
            "kv-get" => outcome(host::kv_get("k").map(|v| json!(v.is_some()))),
            "kv-set" => outcome(host::kv_set("k", b"v").map(|_| json!(null))),
            "kv-delete" => outcome(host::kv_delete("k").map(|_| json!(null))),
            "kv-keys" => outcome(host::kv_keys("").map(|k| json!(k.len()))),
            "emit" => outcome(host::emit("boom", &json!({})).map(|_| json!(null))),
            "ask" => outcome(host::ask("sales", "won_revenue", &json!({}))),
            "context" => json!({"ok": host::context().plugin_id}),
            "config" => json!({"ok": host::config()}),
            "log" => {
                host::log_info("nothing logs");
                json!({"ok": null})
            }
            other => return Err(Error::not_found(other)),
        })
    }
}

export_plugin!(Nothing);
