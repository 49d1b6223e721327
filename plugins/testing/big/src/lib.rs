//! A large test plugin: thousands of generated rules, for hot-swap timing.

use qingguan_plugin_sdk::*;

#[allow(clippy::all)]
mod rules {
    include!(concat!(env!("OUT_DIR"), "/rules.rs"));
}

struct Big;

impl Plugin for Big {
    fn answer(query: &str, args: Value) -> Result<Value> {
        match query {
            "rule" => {
                let n = args["n"].as_u64().unwrap_or(0) as usize % rules::RULES.len();
                Ok(json!(rules::RULES[n](args["x"].as_i64().unwrap_or(1))))
            }
            _ => Err(Error::not_found(query)),
        }
    }
}

export_plugin!(Big);
