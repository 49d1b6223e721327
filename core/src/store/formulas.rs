//! Formula fields: each record's formulas computed from its number fields on every write
//! (after the hooks, so what is stored is what the values say), and for every record when a
//! formula is added or its expression changes.

use crate::db::{ddl, sql};
use crate::schema::{Entity, Expression, FieldDef, FieldType};
use crate::value::Value;
use crate::Result;
use rust_decimal::{Decimal, RoundingStrategy};
use std::collections::BTreeMap;

/// A formula's input as a number: integers and decimals as they are, a percent as its
/// fraction, nothing for an empty value.
fn number(kind: FieldType, v: &Value) -> Option<Decimal> {
    let d = match v {
        Value::Integer(i) => Decimal::from(*i),
        Value::Decimal(d) => *d,
        _ => return None,
    };
    if kind == FieldType::Percent {
        d.checked_div(Decimal::ONE_HUNDRED)
    } else {
        Some(d)
    }
}

/// The stored value of a formula: rounded to the field's scale, empty when it cannot be
/// computed or does not fit a decimal column.
fn result(
    def: &FieldDef,
    expression: &Expression,
    input: &dyn Fn(&str) -> Option<Decimal>,
) -> Value {
    let Some(d) = expression.evaluate(input) else {
        return Value::Null;
    };
    let mut d = d.round_dp_with_strategy(
        def.effective_scale(),
        RoundingStrategy::MidpointAwayFromZero,
    );
    if d.abs() >= Decimal::from(crate::value::DECIMAL_LIMIT) {
        return Value::Null;
    }
    d.rescale(def.effective_scale());
    Value::Decimal(d)
}

/// Sets every formula of `e` in `values` from the other values.
pub(super) fn compute(e: &Entity, values: &mut BTreeMap<String, Value>) {
    for f in e.fields.iter().filter(|f| !f.retired) {
        let Some(expression) = f.def.formula() else {
            continue;
        };
        let input = |name: &str| {
            let kind = e.field(name)?.def.kind;
            number(kind, values.get(name)?)
        };
        let v = result(&f.def, &expression, &input);
        values.insert(f.def.name.clone(), v);
    }
}

/// Computes formula `def` for every record of `entity`, whose fields are `fields`.
pub(crate) fn compute_existing(
    conn: &crate::db::Conn,
    entity: &str,
    fields: &[FieldDef],
    def: &FieldDef,
) -> Result<()> {
    let Some(expression) = def.formula() else {
        return Ok(());
    };
    let inputs: Vec<&FieldDef> = expression
        .fields()
        .into_iter()
        .filter_map(|name| fields.iter().find(|f| f.name == name))
        .collect();
    let columns: String = inputs
        .iter()
        .map(|f| format!(", {}", ddl::column(&f.name)))
        .collect();
    let table = ddl::table(entity);
    let mut select = conn.prepare(&format!("SELECT id{columns} FROM {table}"))?;
    let mut rows = select.query([])?;
    let mut computed = Vec::new();
    while let Some(row) = rows.next()? {
        let id: i64 = row.get(0)?;
        let mut values = BTreeMap::new();
        for (i, f) in inputs.iter().enumerate() {
            values.insert(f.name.as_str(), sql::from_sql(f, row.get_ref(i + 1)?));
        }
        let input = |name: &str| {
            let f = inputs.iter().find(|f| f.name == name)?;
            number(f.kind, values.get(name)?)
        };
        computed.push((id, sql::to_sql(def, &result(def, &expression, &input))));
    }
    let mut update = conn.prepare(&format!(
        "UPDATE {table} SET {} = ?1 WHERE id = ?2",
        ddl::column(&def.name)
    ))?;
    for (id, v) in computed {
        update.execute((v, id))?;
    }
    Ok(())
}
