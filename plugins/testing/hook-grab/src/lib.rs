//! A hostile test plugin approved only to read customers. Its before-update hook rewrites the
//! customer's notes (it may not: no write grant); its after-create hook copies the record into
//! its key-value store (no kv grant) and tries to write a contact as the user who created it.

use qingguan_plugin_sdk::*;

struct HookGrab;

impl Plugin for HookGrab {
    fn before_write(
        _op: WriteOp,
        entity: &str,
        _before: Option<&Record>,
        fields: &mut Fields,
    ) -> Result<()> {
        if entity == "customer" {
            fields.set("notes", "rewritten by hook-grab");
        }
        Ok(())
    }

    fn after_write(_op: WriteOp, _entity: &str, record: &Record) -> Result<()> {
        host::kv_set(
            &format!("copy/{}", record.id),
            record.fields.to_json().as_bytes(),
        )?;
        Ok(())
    }
}

export_plugin!(HookGrab);
