//! Full-text search: what goes into each entity type's FTS5 index, how a user's query becomes
//! an FTS5 expression (Chinese text is indexed per character and searched as phrases), and the
//! search across every entity type the caller may read.

use crate::db::{ddl, sql};
use crate::schema::Entity;
use crate::store::Store;
use crate::value::Value;
use crate::{Access, Result};
use rusqlite::types::Value as Sql;
use std::collections::BTreeMap;

/// Whether a character belongs to a script written without spaces (CJK).
fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F
        | 0x3040..=0x30FF | 0xAC00..=0xD7AF)
}

/// Splits CJK characters apart so the tokenizer sees one token per character.
fn segment(text: &str, out: &mut String) {
    for c in text.chars() {
        if is_cjk(c) {
            out.push(' ');
            out.push(c);
            out.push(' ');
        } else {
            out.push(c);
        }
    }
}

/// The text indexed for a record: its textual fields, CJK segmented.
pub(crate) fn index_text(e: &Entity, values: &BTreeMap<String, Value>) -> String {
    let mut out = String::new();
    for f in &e.fields {
        if !f.def.kind.is_textual() {
            continue;
        }
        if let Some(Value::Text(t)) = values.get(&f.def.name) {
            if !out.is_empty() {
                out.push('\n');
            }
            segment(t, &mut out);
        }
    }
    out
}

/// Turns what a user typed into an FTS5 expression: each word must match; Latin words match
/// as prefixes, Chinese runs as phrases of adjacent characters. `None` if nothing searchable.
pub fn match_expression(q: &str) -> Option<String> {
    let mut terms = Vec::new();
    for word in q.split(|c: char| !c.is_alphanumeric() && !is_cjk(c)) {
        if word.is_empty() {
            continue;
        }
        let mut run = String::new();
        let mut latin = String::new();
        let flush_latin = |latin: &mut String, terms: &mut Vec<String>| {
            if !latin.is_empty() {
                terms.push(format!("\"{}\"*", latin));
                latin.clear();
            }
        };
        let flush_run = |run: &mut String, terms: &mut Vec<String>| {
            if !run.is_empty() {
                let chars: Vec<String> = run.chars().map(|c| c.to_string()).collect();
                terms.push(format!("\"{}\"", chars.join(" ")));
                run.clear();
            }
        };
        for c in word.chars() {
            if is_cjk(c) {
                flush_latin(&mut latin, &mut terms);
                run.push(c);
            } else {
                flush_run(&mut run, &mut terms);
                latin.push(c);
            }
        }
        flush_latin(&mut latin, &mut terms);
        flush_run(&mut run, &mut terms);
        if terms.len() > 16 {
            break;
        }
    }
    if terms.is_empty() {
        None
    } else {
        Some(terms.join(" "))
    }
}

/// One search result.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SearchHit {
    /// Entity type of the record.
    pub entity: String,
    /// Record id.
    pub id: i64,
    /// The record's title.
    pub title: String,
}

impl Store {
    /// Searches every entity type the caller may read (within scope), newest first.
    pub fn search(&self, access: &Access, q: &str, limit: usize) -> Result<Vec<SearchHit>> {
        let Some(expr) = match_expression(q) else {
            return Ok(Vec::new());
        };
        let limit = limit.clamp(1, 100);
        let schema = self.schema();
        let mut hits = Vec::new();
        for e in schema.entities() {
            if e.retired {
                continue;
            }
            let perm = access.permission(&e.name);
            if !perm.read {
                continue;
            }
            let (scope, scope_params) = crate::store::scope_sql(access, &perm, "r.");
            // An entity type may have no title field: its hits are titled `#id`.
            let title = e.title_field.as_deref().and_then(|t| e.field(t));
            let title_col = title
                .map(|f| format!("r.{}", ddl::column(&f.def.name)))
                .unwrap_or_else(|| "NULL".into());
            let sql = format!(
                "SELECT r.id, {title_col} FROM {fts} f JOIN {t} r ON r.id = f.rowid
                 WHERE {fts} MATCH ? {scope} ORDER BY f.rowid DESC LIMIT {limit}",
                fts = ddl::fts_table(&e.name),
                t = ddl::table(&e.name),
                scope = if scope.is_empty() {
                    String::new()
                } else {
                    format!("AND {scope}")
                }
            );
            let mut params = vec![Sql::Text(expr.clone())];
            params.extend(scope_params);
            let found = self.read(|c| {
                let mut stmt = c.prepare_cached(&sql)?;
                let rows = stmt
                    .query_map(rusqlite::params_from_iter(params), |r| {
                        let text = match title {
                            Some(f) => sql::from_sql(&f.def, r.get_ref(1)?).to_text(),
                            None => String::new(),
                        };
                        Ok((r.get::<_, i64>(0)?, text))
                    })?
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(rows)
            })?;
            hits.extend(found.into_iter().map(|(id, title)| {
                SearchHit {
                    entity: e.name.clone(),
                    id,
                    title: Some(title)
                        .filter(|t| !t.is_empty())
                        .unwrap_or_else(|| format!("#{id}")),
                }
            }));
            if hits.len() >= limit {
                break;
            }
        }
        hits.truncate(limit);
        Ok(hits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expressions() {
        assert_eq!(match_expression("acme"), Some("\"acme\"*".into()));
        assert_eq!(
            match_expression("张三 acme"),
            Some("\"张 三\" \"acme\"*".into())
        );
        assert_eq!(
            match_expression("华为tech"),
            Some("\"华 为\" \"tech\"*".into())
        );
        assert_eq!(
            match_expression("\" OR 1=1 --"),
            Some("\"OR\"* \"1\"* \"1\"*".into())
        );
        assert_eq!(match_expression("  ;; "), None);
    }
}
