//! Test plugin for SDK 1.2: routes that write three records and then succeed, fail, answer
//! 422 or trap; a hook that counts customers with an atomic increment; reads in both scopes;
//! typed errors reported by kind; a resumable job that walks customers two at a time.

use qingguan_plugin_sdk::date::Date;
use qingguan_plugin_sdk::host::{self, Query, Scope};
use qingguan_plugin_sdk::*;

struct Tx;

fn three(tag: &str) -> Result<()> {
    for n in 1..=3 {
        host::create("tx_item", &json!({"code": format!("{tag}-{n}"), "n": n}))?;
    }
    Ok(())
}

fn report<T: Into<Value>>(r: Result<T>) -> Response {
    match r {
        Ok(v) => Response::json(&json!({"ok": v.into()})),
        Err(e) => {
            let field = match &e {
                Error::Unique { field, .. } => json!(field),
                Error::Invalid { fields, .. } => json!(fields),
                _ => Value::Null,
            };
            Response::json(&json!({"error": e.kind(), "field": field, "message": e.to_string()}))
        }
    }
}

impl Plugin for Tx {
    fn after_write(_op: WriteOp, entity: &str, _record: &Record) -> Result<()> {
        if entity == "customer" {
            host::kv_increment("customers_seen", 1)?;
        }
        Ok(())
    }

    fn before_write(
        _op: WriteOp,
        _entity: &str,
        _before: Option<&Record>,
        fields: &mut Fields,
    ) -> Result<()> {
        if fields.str("code") == Some("refuse-me") {
            return Err(Error::invalid("refused").field("code", "this code is refused"));
        }
        Ok(())
    }

    fn job_step(name: &str, cursor: Option<&str>) -> Result<JobProgress> {
        if name == "flaky" && cursor.is_some() && host::kv_get("fail_next")?.is_some() {
            // Fails part-way while the flag is set (its writes, this one included, roll back):
            // the run must continue from here, not from the start, once the flag is cleared.
            host::kv_increment("flaky_failed_after_writing", 1)?;
            return Err(Error::failed("a step failed part-way"));
        }
        if name != "walk" && name != "flaky" {
            return Err(Error::not_found(name));
        }
        let q = Query::new().sort("id").limit(2);
        let q = match cursor {
            Some(c) => q.cursor(c),
            None => q,
        };
        let page = host::query("customer", &q)?;
        let n = page.items.len() as i64;
        host::kv_increment(&format!("{name}:walked"), n)?;
        host::kv_increment(&format!("{name}:steps"), 1)?;
        Ok(match page.next_cursor {
            Some(c) => JobProgress::more(c, n as u64),
            None => JobProgress::done(n as u64),
        })
    }

    fn http(req: Request) -> Result<Response> {
        let tag = req.query_param("tag").unwrap_or_else(|| "t".into());
        match (req.method.as_str(), req.path.as_str()) {
            ("POST", "/write/commit") => {
                three(&tag)?;
                Ok(Response::json(&json!({"written": 3})))
            }
            ("POST", "/write/error") => {
                three(&tag)?;
                Err(Error::failed("changed my mind"))
            }
            ("POST", "/write/422") => {
                three(&tag)?;
                Ok(Response::status(422))
            }
            ("POST", "/write/trap") => {
                three(&tag)?;
                panic!("trap after three writes")
            }
            ("POST", "/write/kv-then-trap") => {
                host::kv_set("trapped", b"yes")?;
                panic!("trap after a kv write")
            }
            ("POST", "/write/unique") => Ok(report(
                host::create("tx_item", &json!({"code": tag})).map(|r| r.id),
            )),
            ("POST", "/write/refused") => Ok(report(
                host::create("tx_item", &json!({"code": "refuse-me"})).map(|r| r.id),
            )),
            ("POST", "/write/stale") => {
                let r = host::create("tx_item", &json!({"code": tag}))?;
                host::update("tx_item", r.id, r.version, &json!({"n": 1}))?;
                Ok(report(
                    host::update("tx_item", r.id, r.version, &json!({"n": 2})).map(|r| r.id),
                ))
            }
            ("POST", "/write/bad-date") => Ok(report(
                host::query(
                    "tx_item",
                    &Query::new().eq(
                        "day",
                        Date {
                            year: 2026,
                            month: 2,
                            day: 31,
                        },
                    ),
                )
                .map(|p| p.items.len() as i64),
            )),
            ("GET", "/read/customers") => {
                let scope = match req.query_param("scope").as_deref() {
                    Some("elevated") => Scope::Elevated,
                    _ => Scope::Caller,
                };
                let all = host::query_all("customer", &Query::new().scope(scope));
                let first = all
                    .as_ref()
                    .ok()
                    .and_then(|l| l.first().map(|c| c.id))
                    .map(|id| scope.get("customer", id).is_ok());
                Ok(match all {
                    Ok(list) => Response::json(&json!({"ok": list.len(), "get_first": first})),
                    Err(e) => report::<i64>(Err(e)),
                })
            }
            ("GET", "/kv/get") => {
                let key = req.query_param("key").unwrap_or_default();
                let v = host::kv_get(&key)?.map(|v| String::from_utf8_lossy(&v).into_owned());
                Ok(Response::json(&json!({"value": v})))
            }
            ("POST", "/kv/set") => {
                let key = req.query_param("key").unwrap_or_default();
                host::kv_set(&key, b"1")?;
                Ok(Response::json(&json!({"set": key})))
            }
            ("POST", "/kv/delete") => {
                let key = req.query_param("key").unwrap_or_default();
                host::kv_delete(&key)?;
                Ok(Response::json(&json!({"deleted": key})))
            }
            ("POST", "/kv/increment") => {
                let n = host::kv_increment("counter", 1)?;
                Ok(Response::json(&json!({"value": n})))
            }
            ("POST", "/kv/cas") => {
                let key = req.query_param("key").unwrap_or_default();
                let from = req.query_param("from");
                let to = req.query_param("to");
                let done = host::kv_compare_and_set(
                    &key,
                    from.as_deref().map(str::as_bytes),
                    to.as_deref().map(str::as_bytes),
                )?;
                Ok(Response::json(&json!({"swapped": done})))
            }
            _ => Ok(Response::status(404)),
        }
    }
}

export_plugin!(Tx);
