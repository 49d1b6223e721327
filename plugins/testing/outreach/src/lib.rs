//! Test plugin for SDK 1.3: routes that notify people or a role (and one that notifies and
//! then fails), and one that sends the outbound request its body describes and reports the
//! answer or the error by kind.

use qingguan_plugin_sdk::host;
use qingguan_plugin_sdk::outreach::{self, Fetch, Notice};
use qingguan_plugin_sdk::*;

struct Outreach;

fn report(r: Result<Value>) -> Response {
    match r {
        Ok(v) => Response::json(&json!({"ok": v})),
        Err(e) => {
            let fields = match &e {
                Error::Invalid { fields, .. } => json!(fields),
                _ => Value::Null,
            };
            Response::json(&json!({"error": e.kind(), "fields": fields, "message": e.to_string()}))
        }
    }
}

fn notice(body: &Value) -> Notice {
    let mut n = Notice::new(body["en"].as_str().unwrap_or_default())
        .zh(body["zh"].as_str().unwrap_or_default());
    if let Some(link) = body["link"].as_str() {
        n = n.link(link);
    }
    n
}

fn notify(body: &Value) -> Result<Value> {
    let n = notice(body);
    match body["role"].as_str() {
        Some(role) => Ok(json!(outreach::notify_role(role, &n)?)),
        None => {
            let users: Vec<i64> = body["users"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_i64).collect())
                .unwrap_or_default();
            outreach::notify_users(&users, &n)?;
            Ok(json!(users.len()))
        }
    }
}

fn fetch(body: &Value) -> Result<Value> {
    let mut f = Fetch::new(
        body["method"].as_str().unwrap_or("GET"),
        body["url"].as_str().unwrap_or_default(),
    );
    if let Some(headers) = body["headers"].as_object() {
        for (k, v) in headers {
            f = f.header(k, v.as_str().unwrap_or_default());
        }
    }
    if let Some(text) = body["body"].as_str() {
        f = f.body(text.as_bytes().to_vec());
    }
    let answer = f.send()?;
    Ok(json!({
        "status": answer.status,
        "body": answer.text(),
        "length": answer.body.len(),
        "location": answer.header("location"),
    }))
}

impl Plugin for Outreach {
    fn http(req: Request) -> Result<Response> {
        let body: Value = req.json().unwrap_or(Value::Null);
        match req.path.as_str() {
            "/notify" => Ok(report(notify(&body))),
            "/notify-then-fail" => {
                notify(&body)?;
                Err(Error::failed("failing after notifying"))
            }
            "/fetch" => Ok(report(fetch(&body))),
            "/write-then-fetch" => {
                host::kv_set("wrote", b"1")?;
                Ok(report(fetch(&body)))
            }
            _ => Ok(Response::status(404)),
        }
    }
}

export_plugin!(Outreach);
