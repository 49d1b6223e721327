//! A plugin built for SDK 1.2.0 — newer than the host's 1.1.0 — using a 1.2 WIT directly.

wit_bindgen::generate!({ path: "wit", world: "plugin" });

use exports::qingguan::plugin::guest::Guest;
use qingguan::plugin::types::{EntityRecord, HttpRequest, HttpResponse, PluginError, WriteOp};

struct Future;

impl Guest for Future {
    fn install() -> Result<(), PluginError> {
        let _ = qingguan::plugin::host::now();
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
        Ok("null".into())
    }
    fn event(_name: String, _payload: String) -> Result<(), PluginError> {
        Ok(())
    }
}

export!(Future);

#[link_section = "qingguan-manifest"]
#[used]
static MANIFEST: [u8; include_bytes!("../qingguan.toml").len()] =
    *include_bytes!("../qingguan.toml");
