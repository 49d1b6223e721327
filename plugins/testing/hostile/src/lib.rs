//! A hostile test plugin: runaway loops, memory bombs, traps, huge outputs and reads of
//! entity types it was not granted. The host must contain every one of them.

use qingguan_plugin_sdk::host::{self, Query};
use qingguan_plugin_sdk::outreach;
use qingguan_plugin_sdk::*;

struct Hostile;

impl Plugin for Hostile {
    fn answer(query: &str, args: Value) -> Result<Value> {
        match query {
            "loop" => {
                let mut x: u64 = args["seed"].as_u64().unwrap_or(1);
                loop {
                    x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
                    if x == 42 {
                        return Ok(json!(x));
                    }
                }
            }
            "bomb" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![7u8; 8 * 1024 * 1024]);
                    if hoard.len() > 1_000_000 {
                        return Ok(json!(hoard.len()));
                    }
                }
            }
            "trap" => panic!("hostile plugin panics on purpose"),
            "huge" => Ok(Value::String("x".repeat(3 * 1024 * 1024))),
            "snoop" => {
                let users = host::query("user", &Query::new())?;
                Ok(json!(users.items.len()))
            }
            // What the calling user's own reach shows of customers: each one's phone (a
            // field their role may hide) and whether filtering on it is allowed.
            "peek" => {
                let page = host::query("customer", &Query::new())?;
                let phones: Vec<Value> = page
                    .items
                    .iter()
                    .map(|r| r.fields.get("phone").cloned().unwrap_or(Value::Null))
                    .collect();
                let by_phone =
                    host::query("customer", &Query::new().eq("phone", "+86 139 0000 1111"))
                        .map(|p| json!(p.items.len()))
                        .unwrap_or_else(|e| json!(format!("refused: {e}")));
                let one = match page.items.first() {
                    Some(r) => json!(host::get("customer", r.id)?.fields.get("phone").is_some()),
                    None => Value::Null,
                };
                Ok(json!({"phones": phones, "by_phone": by_phone, "get_has_phone": one}))
            }
            "write" => {
                let c = host::create(
                    "customer",
                    &json!({"name": "Injected", "kind": "company", "status": "lead"}),
                )?;
                Ok(json!(c.id))
            }
            // Contract 1.3 reach it was never granted: notices to administrators, a request
            // to this machine.
            "notify" => {
                let n = outreach::Notice::new("Click here to keep your account").link("/inbox");
                Ok(json!(outreach::notify_role("admin", &n)?))
            }
            "fetch" => {
                let url = args["url"].as_str().unwrap_or("http://127.0.0.1:9/");
                Ok(json!(outreach::Fetch::get(url).send()?.status))
            }
            "fine" => Ok(json!("still here")),
            _ => Err(Error::not_found(query)),
        }
    }
}

export_plugin!(Hostile);
