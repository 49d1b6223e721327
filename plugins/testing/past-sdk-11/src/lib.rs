//! A plugin built for SDK 1.1 with the released 1.1.0 WIT, without the current SDK: it must
//! keep running on a 1.2 host, with 1.1's access rules, and its writes are transactional.

wit_bindgen::generate!({ path: "../../../plugin-sdk/wit/v1.1.0", world: "plugin" });

use exports::qingguan::plugin::guest::Guest;
use qingguan::plugin::host;
use qingguan::plugin::types::{
    AggregateQuery, EntityRecord, HttpRequest, HttpResponse, PluginError, RecordQuery, WriteOp,
};

struct Past;

fn json(status: u16, body: String) -> HttpResponse {
    HttpResponse {
        status,
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.into_bytes(),
    }
}

fn count(as_user: bool) -> Result<String, PluginError> {
    host::aggregate_records(
        "customer",
        &AggregateQuery {
            filters: vec![],
            search: None,
            group_by: vec![],
            metrics: vec!["count".into()],
            as_user,
        },
    )
}

impl Guest for Past {
    fn install() -> Result<(), PluginError> {
        host::kv_set("installed", b"1.1")
    }
    fn upgrade(_from: String) -> Result<(), PluginError> {
        Ok(())
    }
    fn uninstall() -> Result<(), PluginError> {
        Ok(())
    }
    fn health() -> Result<(), PluginError> {
        Ok(())
    }
    fn before_write(
        _op: WriteOp,
        _entity: String,
        _before: Option<EntityRecord>,
        _fields: String,
    ) -> Result<Option<String>, PluginError> {
        Ok(None)
    }
    fn after_write(_op: WriteOp, _entity: String, _w: EntityRecord) -> Result<(), PluginError> {
        Ok(())
    }
    fn action(_n: String, _e: String, _id: i64, _i: String) -> Result<String, PluginError> {
        Ok("null".into())
    }
    fn job(_name: String) -> Result<(), PluginError> {
        Ok(())
    }
    fn http(req: HttpRequest) -> Result<HttpResponse, PluginError> {
        match req.path.as_str() {
            "/counts" => {
                let page = host::query_records(
                    "customer",
                    &RecordQuery {
                        filters: vec![],
                        sort: None,
                        limit: 200,
                        cursor: None,
                        search: None,
                        as_user: false,
                    },
                )?;
                Ok(json(
                    200,
                    format!(
                        r#"{{"all":{},"all_aggregate":{},"mine_aggregate":{}}}"#,
                        page.items.len(),
                        count(false)?,
                        count(true)?
                    ),
                ))
            }
            "/two-then-trap" => {
                for name in ["Past One", "Past Two"] {
                    host::create_record(
                        "customer",
                        &format!(r#"{{"name":"{name}","kind":"company","status":"lead"}}"#),
                    )?;
                }
                unreachable!("a 1.1 plugin trapping after two writes")
            }
            "/duplicate" => match host::update_record("customer", i64::MAX, 1, "{}") {
                Err(PluginError::NotFound(m)) => Ok(json(200, format!(r#"{{"not_found":{m:?}}}"#))),
                other => Ok(json(
                    500,
                    format!("{{\"unexpected\":{:?}}}", format!("{other:?}")),
                )),
            },
            _ => Ok(json(404, "{}".into())),
        }
    }
    fn answer(_query: String, _args: String) -> Result<String, PluginError> {
        Ok("null".into())
    }
    fn event(_name: String, _payload: String) -> Result<(), PluginError> {
        Ok(())
    }
}

export!(Past);

// Built as `qg-test-bare` without it: a component from another toolchain, packed by
// `qingguan plugin pack`.
#[cfg(not(feature = "bare"))]
#[link_section = "qingguan-manifest"]
#[used]
static MANIFEST: [u8; include_bytes!("../qingguan.toml").len()] =
    *include_bytes!("../qingguan.toml");
