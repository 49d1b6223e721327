//! The good test plugin: every export does something observable through the host.

use qingguan_plugin_sdk::host::{self, Query};
use qingguan_plugin_sdk::*;

struct Good;

impl Plugin for Good {
    fn install() -> Result<()> {
        host::kv_set("installed", b"1.0.0")?;
        host::log_info("good plugin installed");
        Ok(())
    }

    fn upgrade(from: &str) -> Result<()> {
        #[cfg(feature = "trap_upgrade")]
        panic!("this upgrade from {from} traps on purpose");
        #[cfg(feature = "slow_upgrade")]
        {
            host::log_warn("migration started");
            for i in 0..3000 {
                host::create("note", &json!({ "title": format!("migrated {i}") }))?;
            }
        }
        #[allow(unreachable_code)]
        host::kv_set("upgraded_from", from.as_bytes())
    }

    fn health() -> Result<()> {
        if cfg!(feature = "bad_health") {
            return Err(Error::failed("this health check fails on purpose"));
        }
        host::kv_get("installed")?
            .map(|_| ())
            .ok_or_else(|| Error::failed("not installed"))
    }

    fn before_write(
        op: WriteOp,
        entity: &str,
        _before: Option<&Record>,
        fields: &mut Fields,
    ) -> Result<()> {
        if entity != "note" {
            return Ok(());
        }
        let title = fields.str("title").unwrap_or_default().to_string();
        if title.contains("forbidden") {
            return Err(Error::invalid("this note may not be saved")
                .field("title", "must not say forbidden"));
        }
        let greeting = host::config()["greeting"]
            .as_str()
            .unwrap_or("?")
            .to_string();
        let ctx = host::context();
        fields.set(
            "stamp",
            format!(
                "{greeting}:{op:?}:{}:{}:{}",
                ctx.user_id.unwrap_or(0),
                ctx.locale,
                ctx.plugin_version
            ),
        );
        if fields.str("state").is_none() {
            fields.set("state", "open");
        }
        Ok(())
    }

    fn after_write(op: WriteOp, entity: &str, record: &Record) -> Result<()> {
        let n = host::kv_get("writes")?
            .map(|v| String::from_utf8_lossy(&v).parse::<i64>().unwrap_or(0))
            .unwrap_or(0);
        host::kv_set("writes", (n + 1).to_string().as_bytes())?;
        host::kv_set(
            "last_write",
            format!("{op:?} {entity} {}", record.id).as_bytes(),
        )
    }

    fn action(name: &str, entity: &str, id: i64, input: Value) -> Result<Value> {
        match name {
            "close" => {
                let note = host::get(entity, id)?;
                let r = host::update(entity, id, note.version, &json!({"state": "done"}))?;
                host::emit("note.closed", &json!({"id": id, "reason": input["reason"]}))?;
                Ok(json!({"state": r.str("state"), "version": r.version}))
            }
            _ => Err(Error::not_found(format!("no action {name}"))),
        }
    }

    fn job(name: &str) -> Result<()> {
        match name {
            "tick" => {
                let open = host::query_all("note", &Query::new().eq("state", "open"))?;
                host::kv_set("open_notes", open.len().to_string().as_bytes())
            }
            _ => Err(Error::not_found(name)),
        }
    }

    fn http(req: Request) -> Result<Response> {
        match (req.method.as_str(), req.path.as_str()) {
            ("GET", "/hello") => {
                let ctx = host::context();
                let mine = host::query("customer", &Query::new().as_user().limit(200))?;
                Ok(Response::json(&json!({
                    "hello": ctx.username,
                    "locale": ctx.locale,
                    "visible_customers": mine.items.len(),
                    "name": req.query_param("name"),
                })))
            }
            ("POST", "/echo") => Ok(Response::json(&req.json()?)),
            _ => Ok(Response::status(404)),
        }
    }

    fn answer(query: &str, args: Value) -> Result<Value> {
        match query {
            "notes_of" => {
                let customer = args["customer"].as_i64().ok_or_else(|| {
                    Error::invalid("customer is required").field("customer", "required")
                })?;
                let notes = host::query_all("note", &Query::new().eq("customer", customer))?;
                Ok(json!({"count": notes.len()}))
            }
            "ask_self" => host::ask("good", "notes_of", &args),
            "snoop" => {
                let users = host::query("user", &Query::new())?;
                Ok(json!(users.items.len()))
            }
            "write_contact" => {
                let c = host::create(
                    "contact",
                    &json!({"name": "x", "customer": args["customer"]}),
                )?;
                Ok(json!(c.id))
            }
            _ => Err(Error::not_found(query)),
        }
    }

    fn event(name: &str, payload: Value) -> Result<()> {
        host::kv_set(&format!("event:{name}"), payload.to_string().as_bytes())
    }
}

export_plugin!(Good);
