//! Full-text search: what goes into each entity type's full-text index, how a user's query
//! becomes an FTS5 expression (Chinese text is indexed per character and searched as phrases;
//! on PostgreSQL pairs of adjacent characters are indexed too), and the search across every
//! entity type the caller may read.

use crate::db::Value as Sql;
use crate::db::{ddl, sql};
use crate::schema::Entity;
use crate::store::text_match::WALK;
use crate::store::Store;
use crate::value::Value;
use crate::{Access, Result};
use std::collections::BTreeMap;

/// Whether a character belongs to a script written without spaces (CJK).
fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F
        | 0x3040..=0x30FF | 0xAC00..=0xD7AF)
}

/// Splits CJK characters apart so the tokenizer sees one token per character.
///
/// With `pairs`, each pair of CJK characters next to each other as FTS5 reads them (nothing
/// but spaces and punctuation between, as in `恒信`, `恒 信`, or the end of one field and the
/// start of the next) is a token too, between its two characters (`杭州恒` → `杭 杭州 州 州恒
/// 恒`), and spaces stand for punctuation: a word of two characters is then one term, and one of
/// n characters the n−1 pairs two positions apart (see `qg_phrase` in `migrations.rs`), so
/// both backends find the same records. `previous` is the CJK character last seen with
/// nothing but separators since.
fn segment(text: &str, pairs: bool, previous: &mut Option<char>, out: &mut String) {
    for c in text.chars() {
        // Marks and punctuation among the CJK blocks (`・`, a kana's sound mark) separate
        // characters as any punctuation does: no pair holds one.
        if is_cjk(c) && (c.is_alphanumeric() || !pairs) {
            out.push(' ');
            if let Some(p) = previous.filter(|_| pairs) {
                out.push(p);
                out.push(c);
                out.push(' ');
            }
            out.push(c);
            out.push(' ');
            *previous = Some(c);
        } else if c.is_alphanumeric() || !pairs {
            out.push(c);
            *previous = None;
        } else {
            out.push(' ');
        }
    }
}

/// The text indexed for a record: its textual fields, CJK segmented; with `pairs` (on
/// PostgreSQL, whose planner would otherwise take a word's characters as independent and
/// misjudge how many records match) adjacent CJK characters also as pairs.
pub(crate) fn index_text(e: &Entity, values: &BTreeMap<String, Value>, pairs: bool) -> String {
    let mut out = String::new();
    let mut previous = None;
    for f in &e.fields {
        if !f.def.kind.is_textual() {
            continue;
        }
        if let Some(Value::Text(t)) = values.get(&f.def.name) {
            if !out.is_empty() {
                out.push('\n');
            }
            segment(t, pairs, &mut previous, &mut out);
        }
    }
    out
}

/// One term of a query: a Latin word matched as a prefix, or a run of Chinese characters
/// matched as a phrase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Term {
    Prefix(String),
    Phrase(String),
}

/// The terms of what a user typed (at most 17; the rest is ignored).
pub(crate) fn terms(q: &str) -> Vec<Term> {
    let mut terms = Vec::new();
    for word in q.split(|c: char| !c.is_alphanumeric() && !is_cjk(c)) {
        if word.is_empty() {
            continue;
        }
        let mut run = String::new();
        let mut latin = String::new();
        for c in word.chars() {
            if is_cjk(c) {
                if !latin.is_empty() {
                    terms.push(Term::Prefix(std::mem::take(&mut latin)));
                }
                // A mark or `・` inside a run is not a character of it (FTS5 reads past it).
                if c.is_alphanumeric() {
                    run.push(c);
                }
            } else {
                if !run.is_empty() {
                    terms.push(Term::Phrase(std::mem::take(&mut run)));
                }
                latin.push(c);
            }
        }
        if !latin.is_empty() {
            terms.push(Term::Prefix(latin));
        }
        if !run.is_empty() {
            terms.push(Term::Phrase(run));
        }
        if terms.len() > 16 {
            break;
        }
    }
    terms
}

/// Turns what a user typed into an FTS5 expression: each word must match; Latin words match
/// as prefixes, Chinese runs as phrases of adjacent characters. `None` if nothing searchable.
pub fn match_expression(q: &str) -> Option<String> {
    let terms: Vec<String> = terms(q)
        .into_iter()
        .map(|t| match t {
            Term::Prefix(w) => format!("\"{w}\"*"),
            Term::Phrase(run) => {
                let chars: Vec<String> = run.chars().map(|c| c.to_string()).collect();
                format!("\"{}\"", chars.join(" "))
            }
        })
        .collect();
    if terms.is_empty() {
        None
    } else {
        Some(terms.join(" "))
    }
}

/// Where a term matches in a text, as a char index: a Latin word at the start of a word of
/// the text (case-insensitive), a Chinese run anywhere.
fn term_at(text: &[char], term: &Term) -> Option<usize> {
    let lower = |c: &char| c.to_lowercase().next().unwrap_or(*c);
    match term {
        Term::Prefix(w) => {
            let w: Vec<char> = w.chars().map(|c| lower(&c)).collect();
            (0..text.len()).find(|&i| {
                let starts_word = i == 0 || !text[i - 1].is_alphanumeric() || is_cjk(text[i - 1]);
                starts_word
                    && text.len() - i >= w.len()
                    && text[i..i + w.len()].iter().map(lower).eq(w.iter().copied())
            })
        }
        Term::Phrase(run) => {
            let run: Vec<char> = run.chars().collect();
            text.windows(run.len())
                .position(|win| win == run.as_slice())
        }
    }
}

/// The field a hit matched in, shown beside its title: the textual field (other than the
/// title field) matching the most terms the title does not; none when the title explains the
/// hit. `fields` are the record's textual fields as `(name, text)`.
fn why_matched(
    terms: &[Term],
    title_field: Option<&str>,
    fields: &[(String, String)],
) -> Option<SearchMatch> {
    let chars = |t: &str| t.chars().collect::<Vec<char>>();
    let title = fields
        .iter()
        .find(|(name, _)| Some(name.as_str()) == title_field)
        .map(|(_, text)| chars(text));
    let in_title: Vec<bool> = terms
        .iter()
        .map(|term| title.as_ref().is_some_and(|t| term_at(t, term).is_some()))
        .collect();
    let mut best: Option<(usize, &String, Vec<char>, usize)> = None;
    for (name, text) in fields {
        if Some(name.as_str()) == title_field {
            continue;
        }
        let t = chars(text);
        let mut count = 0;
        let mut first = None;
        for (term, seen) in terms.iter().zip(&in_title) {
            if let Some(at) = term_at(&t, term).filter(|_| !seen) {
                count += 1;
                first = first.or(Some(at));
            }
        }
        if count > 0 && best.as_ref().is_none_or(|b| count > b.0) {
            best = Some((count, name, t, first.unwrap_or(0)));
        }
    }
    let (_, name, text, at) = best?;
    Some(SearchMatch {
        field: name.clone(),
        text: excerpt(&text, at),
    })
}

/// At most 40 characters of a text around a match, with `…` where it was cut.
fn excerpt(text: &[char], at: usize) -> String {
    const MAX: usize = 40;
    if text.len() <= MAX {
        return text.iter().collect();
    }
    let start = at.saturating_sub(12).min(text.len() - MAX);
    let end = start + MAX;
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    out.extend(&text[start..end]);
    if end < text.len() {
        out.push('…');
    }
    out
}

/// Why a record was found: a field other than its title and the part of its text that
/// matched.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SearchMatch {
    /// The field's machine name.
    pub field: String,
    /// Its text around the match (at most 40 characters, `…` where cut).
    pub text: String,
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
    /// The field it matched in, when the title does not show why it was found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matched: Option<SearchMatch>,
}

impl Store {
    /// Searches every entity type the caller may read (within scope), newest first.
    pub fn search(&self, access: &Access, q: &str, limit: usize) -> Result<Vec<SearchHit>> {
        let Some(expr) = match_expression(q) else {
            return Ok(Vec::new());
        };
        let limit = limit.clamp(1, 100);
        let query_terms = terms(q);
        // As the caller sees each type: a field their role hides neither titles, explains nor
        // finds a hit.
        let schema = self.schema_for(access);
        let mut hits = Vec::new();
        for e in schema.entities() {
            // Types kept out of the index (journal lines, ledger lines) are not searched.
            if e.retired || !e.searchable {
                continue;
            }
            let perm = access.permission(&e.name);
            if !perm.read {
                continue;
            }
            let (mut scope, mut scope_params) = crate::store::scope_sql(access, &perm, "r.");
            // A role that hides some of the type's fields searches the fields it sees, not the
            // index (which holds every field: a match there could come from a hidden one).
            let seen_only = crate::store::hides_any(access, &e.name);
            if seen_only {
                let Some((cond, params)) = crate::store::seen_text_condition(e, q, "r.") else {
                    continue;
                };
                scope = if scope.is_empty() {
                    cond
                } else {
                    format!("{scope} AND {cond}")
                };
                scope_params.extend(params);
            }
            // An entity type may have no title field: its hits are titled `#id`.
            let title = e.title_field.as_deref().and_then(|t| e.field(t));
            let title_col = title
                .map(|f| format!("r.{}", ddl::column(&f.def.name)))
                .unwrap_or_else(|| "NULL".into());
            // The visible textual fields, to say which one a hit matched in.
            let texts: Vec<&crate::schema::Field> = e
                .visible_fields()
                .filter(|f| f.def.kind.is_textual())
                .collect();
            let text_cols: String = texts
                .iter()
                .map(|f| format!(", r.{}", ddl::column(&f.def.name)))
                .collect();
            let fts = ddl::fts_table(&e.name);
            // What the search selects, without its order (`newest_first` orders it twice).
            let matching = format!(
                "SELECT r.id, {title_col}{text_cols} FROM {fts} JOIN {t} r ON r.id = {fts}.rowid
                 WHERE {fts} MATCH ? {scope}",
                t = ddl::table(&e.name),
                scope = if scope.is_empty() {
                    String::new()
                } else {
                    format!("AND {scope}")
                }
            );
            let sql = if seen_only {
                format!(
                    "SELECT r.id, {title_col}{text_cols} FROM {t} r WHERE {scope}
                     ORDER BY r.id DESC LIMIT {limit}",
                    t = ddl::table(&e.name),
                )
            } else {
                format!("{matching} ORDER BY {fts}.rowid DESC LIMIT {limit}")
            };
            let mut params = if seen_only {
                Vec::new()
            } else {
                vec![Sql::Text(expr.clone())]
            };
            params.extend(scope_params);
            let found = self.read(|c| {
                let hit = |r: &crate::db::Row<'_>| {
                    let text = match title {
                        Some(f) => sql::from_sql(&f.def, r.get_ref(1)?).to_text(),
                        None => String::new(),
                    };
                    let mut values = Vec::with_capacity(texts.len());
                    for (i, f) in texts.iter().enumerate() {
                        let v = sql::from_sql(&f.def, r.get_ref(i + 2)?).to_text();
                        values.push((f.def.name.clone(), v));
                    }
                    Ok((r.get::<_, i64>(0)?, text, values))
                };
                let run = |sql: &str, params: Vec<Sql>| -> Result<Vec<_>> {
                    let mut stmt = c.prepare_cached(sql)?;
                    let rows = stmt
                        .query_map(crate::db::params_from_iter(params), hit)?
                        .collect::<Result<Vec<_>, _>>()?;
                    Ok(rows)
                };
                if seen_only || !c.is_postgres() {
                    return run(&sql, params);
                }
                newest_first(&fts, &matching, params, limit, run)
            })?;
            let title_field = title.map(|f| f.def.name.as_str());
            hits.extend(found.into_iter().map(|(id, title, values)| {
                SearchHit {
                    entity: e.name.clone(),
                    id,
                    title: Some(title)
                        .filter(|t| !t.is_empty())
                        .unwrap_or_else(|| format!("#{id}")),
                    matched: why_matched(&query_terms, title_field, &values),
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

/// A search of one type on PostgreSQL, in two tries: its newest `WALK` entries, then, if
/// they hold fewer than `limit` hits, the matches among the older ones, sorted. PostgreSQL
/// estimates several words' matches as if the words were independent: for common words that
/// never occur together it would walk every entry, newest first, looking for hits that are not
/// there (310 ms at a million). `matching` is the search without its order (`… WHERE fts MATCH
/// ? {scope}`), `run` runs a statement.
fn newest_first<T>(
    fts: &str,
    matching: &str,
    params: Vec<Sql>,
    limit: usize,
    run: impl Fn(&str, Vec<Sql>) -> Result<Vec<T>>,
) -> Result<Vec<T>> {
    // Where the newest entries begin, read within each try (0: fewer entries than a walk,
    // all of them in the first).
    let floor = format!(
        "COALESCE((SELECT rowid FROM {fts} ORDER BY rowid DESC LIMIT 1 OFFSET {}), 0)",
        WALK - 1
    );
    let mut hits = run(
        &format!("{matching} AND {fts}.rowid >= {floor} ORDER BY {fts}.rowid DESC LIMIT {limit}"),
        params.clone(),
    )?;
    if hits.len() >= limit {
        return Ok(hits);
    }
    hits.extend(run(
        &format!(
            "{matching} AND {fts}.rowid < {floor} ORDER BY ({fts}.rowid + 0) DESC LIMIT {}",
            limit - hits.len()
        ),
        params,
    )?);
    Ok(hits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_of_adjacent_characters() {
        let seg = |t: &str, pairs| {
            let mut out = String::new();
            segment(t, pairs, &mut None, &mut out);
            out.split_whitespace().collect::<Vec<_>>().join(" ")
        };
        assert_eq!(seg("杭州恒信", false), "杭 州 恒 信");
        assert_eq!(seg("杭州恒信", true), "杭 杭州 州 州恒 恒 恒信 信");
        // Spaces and punctuation do not part characters, as in FTS5's reading; a word does.
        assert_eq!(seg("贸易 上海", true), "贸 贸易 易 易上 上 上海 海");
        assert_eq!(seg("恒、信-x", true), "恒 恒信 信 x");
        assert_eq!(seg("恒信abc科技", true), "恒 恒信 信 abc 科 科技 技");
        assert_eq!(seg("a 恒 b", true), "a 恒 b");
        assert_eq!(seg("a-b 恒", false), "a-b 恒");
        assert_eq!(seg("ド・ダ", true), "ド ドダ ダ");
    }

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

    fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn why_a_record_matched() {
        let f = fields(&[
            ("name", "杭州恒信科技"),
            ("phone", "+86 139 1234 5678"),
            ("notes", "Met at the Shanghai fair; wants an ERP quote"),
        ]);
        let why = |q: &str| why_matched(&terms(q), Some("name"), &f);
        let m = why("139").unwrap();
        assert_eq!(
            (m.field.as_str(), m.text.as_str()),
            ("phone", "+86 139 1234 5678")
        );
        assert_eq!(why("恒信"), None, "the title explains it");
        assert_eq!(why("恒信 13").unwrap().field, "phone");
        assert_eq!(why("erp").unwrap().field, "notes");
        // Prefixes of words only: "hai" is inside "Shanghai", not at a word's start.
        assert_eq!(why("hai"), None);
        assert_eq!(why("SHANG").unwrap().field, "notes");
        let long = fields(&[(
            "notes",
            "A very long note that goes on and on before it finally mentions the keyword zephyr and then goes on",
        )]);
        let m = why_matched(&terms("zephyr"), None, &long).unwrap();
        assert!(
            m.text.starts_with('…') && m.text.contains("zephyr"),
            "{}",
            m.text
        );
        assert!(m.text.chars().count() <= 42, "{}", m.text);
    }
}
