//! A plugin built for SDK 1.0.0 with the released 1.0.0 WIT, without the current SDK: it must
//! keep running on a host that provides a newer 1.x contract.

wit_bindgen::generate!({ path: "../../../plugin-sdk/wit/v1.0.0", world: "plugin" });

use exports::qingguan::plugin::guest::Guest;
use qingguan::plugin::types::{EntityRecord, HttpRequest, HttpResponse, PluginError, WriteOp};

struct Past;

impl Guest for Past {
    fn install() -> Result<(), PluginError> {
        qingguan::plugin::host::kv_set("installed", b"1.0")?;
        Ok(())
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
    fn after_write(
        _op: WriteOp,
        _entity: String,
        _written: EntityRecord,
    ) -> Result<(), PluginError> {
        Ok(())
    }
    fn action(
        _name: String,
        _entity: String,
        _id: i64,
        _input: String,
    ) -> Result<String, PluginError> {
        Ok("null".into())
    }
    fn job(_name: String) -> Result<(), PluginError> {
        Ok(())
    }
    fn http(_request: HttpRequest) -> Result<HttpResponse, PluginError> {
        Ok(HttpResponse {
            status: 404,
            headers: vec![],
            body: vec![],
        })
    }
    fn answer(_query: String, _args: String) -> Result<String, PluginError> {
        use qingguan::plugin::host;
        use qingguan::plugin::types::RecordQuery;
        let ctx = host::context();
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
        let kv = host::kv_get("installed")?.map(|v| String::from_utf8_lossy(&v).into_owned());
        Ok(format!(
            r#"{{"plugin":"{}","count":{},"kv":"{}"}}"#,
            ctx.plugin_id,
            page.items.len(),
            kv.unwrap_or_default()
        ))
    }
    fn event(_name: String, _payload: String) -> Result<(), PluginError> {
        Ok(())
    }
}

export!(Past);

#[link_section = "qingguan-manifest"]
#[used]
static MANIFEST: [u8; include_bytes!("../qingguan.toml").len()] =
    *include_bytes!("../qingguan.toml");
