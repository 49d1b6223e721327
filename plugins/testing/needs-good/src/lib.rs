//! A plugin that depends on `good` and asks it questions through the host.

use qingguan_plugin_sdk::*;

struct NeedsGood;

impl Plugin for NeedsGood {
    fn answer(query: &str, args: Value) -> Result<Value> {
        match query {
            "relay" => {
                let inner = host::ask("good", "notes_of", &args)?;
                Ok(json!({"relayed": inner}))
            }
            _ => Err(Error::not_found(query)),
        }
    }
}

export_plugin!(NeedsGood);
