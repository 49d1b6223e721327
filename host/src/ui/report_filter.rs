//! The report builder's filter as rows a person fills in — field, comparison, value — plus a
//! text to search for, read back into the filter a report keeps (a list's query string:
//! `status=customer&created_at[gte]=2026-01-01`), and a kept filter shown again as rows.
//! Every pair of a query string is one row, so every filter a report can keep shows.

use crate::ui::render::t;
use qingguan_core::schema::Entity;
use qingguan_core::Locale;
use serde_json::{json, Value as Json};

/// Rows the form offers at least (a kept filter with more shows them all).
const ROWS: usize = 4;

/// Comparisons as the form names them, with their query-string spelling: `eq` is `field=v`,
/// `empty` and `filled` are `field[null]=true|false`.
const OPS: &[(&str, &str)] = &[
    ("eq", "wf_op_eq"),
    ("ne", "wf_op_ne"),
    ("gt", "wf_op_gt"),
    ("gte", "wf_op_gte"),
    ("lt", "wf_op_lt"),
    ("lte", "wf_op_lte"),
    ("contains", "report_op_contains"),
    ("in", "wf_op_in"),
    ("empty", "wf_op_not_set"),
    ("filled", "wf_op_set"),
];

/// The filter's rows and choices for the builder: `rows` (field, op, value; blank rows to
/// fill), `q` (the text searched for) and `fields`/`ops` to choose from.
pub(crate) fn model(e: &Entity, filter: &str, locale: Locale) -> Json {
    let (rows, q) = rows_of(filter);
    let offered = |name: &str| {
        matches!(name, "owner" | "created_at" | "updated_at")
            || e.visible_fields().any(|f| f.def.name == name)
    };
    // A field the form does not list (a hidden one, say) still shows, so saving keeps it.
    let mut rows: Vec<Json> = rows
        .into_iter()
        .map(|(field, op, value)| {
            json!({"known": offered(&field), "field": field, "op": op, "value": value})
        })
        .collect();
    while rows.len() < ROWS {
        rows.push(json!({"field": "", "op": "eq", "value": ""}));
    }
    let mut fields = vec![
        json!({"name": "owner", "label": t(locale, "owner")}),
        json!({"name": "created_at", "label": t(locale, "created_at")}),
        json!({"name": "updated_at", "label": t(locale, "updated_at")}),
    ];
    fields.extend(
        e.visible_fields()
            .filter(|f| f.def.kind.info().orderable || f.def.kind.info().options)
            .map(|f| json!({"name": f.def.name, "label": f.def.label.get(locale)})),
    );
    let ops: Vec<Json> = OPS
        .iter()
        .map(|(op, key)| json!({"value": op, "label": t(locale, key)}))
        .collect();
    json!({"rows": rows, "q": q, "fields": fields, "ops": ops})
}

/// A kept filter as rows (field, op, value) and the text searched for.
fn rows_of(filter: &str) -> (Vec<(String, String, String)>, String) {
    let mut rows = Vec::new();
    let mut q = String::new();
    for (key, value) in form_urlencoded::parse(filter.as_bytes()) {
        if key == "q" {
            q = value.into_owned();
            continue;
        }
        let (field, op) = match key.split_once('[') {
            Some((f, rest)) => (f.to_string(), rest.trim_end_matches(']').to_string()),
            None => (key.into_owned(), "eq".to_string()),
        };
        let (op, value) = match (op.as_str(), value.as_ref()) {
            ("null", "false") => ("filled".to_string(), String::new()),
            ("null", _) => ("empty".to_string(), String::new()),
            _ => (op, value.into_owned()),
        };
        rows.push((field, op, value));
    }
    (rows, q)
}

/// The filter a posted builder form keeps: its rows (`f0.field`, `f0.op`, `f0.value`, …) and
/// search text (`fq`) as a query string; a form that posts `filter` itself (as the API's
/// definitions do) keeps that, with the rows after it.
pub(crate) fn from_form(form: &[(String, String)]) -> String {
    let get = |k: &str| {
        form.iter()
            .find(|(a, _)| a == k)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    let mut out = form_urlencoded::Serializer::new(String::new());
    let given = get("filter");
    for (k, v) in form_urlencoded::parse(given.as_bytes()) {
        out.append_pair(&k, &v);
    }
    for i in 0.. {
        let field_key = format!("f{i}.field");
        if !form.iter().any(|(k, _)| k == &field_key) {
            break;
        }
        let field = get(&field_key);
        if field.is_empty() {
            continue;
        }
        let value = get(&format!("f{i}.value"));
        match get(&format!("f{i}.op")).as_str() {
            "" | "eq" => out.append_pair(&field, &value),
            "empty" => out.append_pair(&format!("{field}[null]"), "true"),
            "filled" => out.append_pair(&format!("{field}[null]"), "false"),
            op => out.append_pair(&format!("{field}[{op}]"), &value),
        };
    }
    let q = get("fq");
    if !q.is_empty() {
        out.append_pair("q", &q);
    }
    out.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn rows_become_the_query_string_and_back() {
        let posted = form(&[
            ("f0.field", "status"),
            ("f0.op", "eq"),
            ("f0.value", "customer"),
            ("f1.field", "created_at"),
            ("f1.op", "gte"),
            ("f1.value", "2026-01-01"),
            ("f2.field", "phone"),
            ("f2.op", "empty"),
            ("f2.value", "ignored"),
            ("f3.field", ""),
            ("fq", "恒信 & co"),
        ]);
        let filter = from_form(&posted);
        assert_eq!(
            filter,
            "status=customer&created_at%5Bgte%5D=2026-01-01&phone%5Bnull%5D=true&q=%E6%81%92%E4%BF%A1+%26+co"
        );
        let (rows, q) = rows_of(&filter);
        let row = |f: &str, o: &str, v: &str| (f.to_string(), o.to_string(), v.to_string());
        assert_eq!(
            rows,
            vec![
                row("status", "eq", "customer"),
                row("created_at", "gte", "2026-01-01"),
                row("phone", "empty", "")
            ]
        );
        assert_eq!(q, "恒信 & co");
        // Shown again and posted unchanged, the rows keep the same filter.
        let mut again = Vec::new();
        for (i, (f, o, v)) in rows.iter().enumerate() {
            again.push((format!("f{i}.field"), f.clone()));
            again.push((format!("f{i}.op"), o.clone()));
            again.push((format!("f{i}.value"), v.clone()));
        }
        again.push(("fq".into(), q));
        assert_eq!(from_form(&again), filter);
        assert_eq!(from_form(&form(&[("f0.field", "")])), "");
    }
}
