//! Benchmark plugin: hooks that do nothing, or read one record.

use qingguan_plugin_sdk::*;

struct Bench;

impl Plugin for Bench {
    fn before_write(
        _op: WriteOp,
        entity: &str,
        _before: Option<&Record>,
        fields: &mut Fields,
    ) -> Result<()> {
        if entity == "bench_read" {
            if let Some(id) = fields.i64("customer") {
                host::get("customer", id)?;
            }
        }
        Ok(())
    }
}

export_plugin!(Bench);
