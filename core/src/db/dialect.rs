//! The store writes its SQL once, in SQLite's dialect; this turns a statement into
//! PostgreSQL's: numbered `$n` parameters, case-insensitive `LIKE`, PostgreSQL's names for
//! SQLite's types and functions, `INSERT OR IGNORE` as `ON CONFLICT DO NOTHING`, and a
//! write transaction that takes the install's one writer lock (so that several hosts write
//! one at a time, as SQLite's writers do). Text in quotes is left as it is.

/// The advisory lock a write transaction holds until it ends.
pub(crate) const WRITER_LOCK: i64 = 0x7167_7772; // "qgwr"

#[derive(Debug, PartialEq)]
enum Token<'a> {
    /// A word: keyword, name or number.
    Word(&'a str),
    /// A parameter: `?` (None) or `?n`.
    Param(Option<u32>),
    /// Anything else, quoted text included, as written.
    Other(&'a str),
}

fn tokens(sql: &str) -> Vec<Token<'_>> {
    let bytes = sql.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        if c == b'-' && bytes.get(i + 1) == Some(&b'-') {
            // A comment, to the end of its line (quotes in it quote nothing).
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
            out.push(Token::Other(&sql[start..i]));
        } else if c == b'/' && bytes.get(i + 1) == Some(&b'*') {
            // A block comment.
            i = sql[i + 2..]
                .find("*/")
                .map_or(bytes.len(), |e| i + 2 + e + 2);
            out.push(Token::Other(&sql[start..i]));
        } else if c == b'\'' || c == b'"' {
            i += 1;
            while i < bytes.len() {
                if bytes[i] == c {
                    if bytes.get(i + 1) == Some(&c) {
                        i += 2;
                        continue;
                    }
                    i += 1;
                    break;
                }
                i += 1;
            }
            out.push(Token::Other(&sql[start..i]));
        } else if c == b'?' {
            i += 1;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            out.push(Token::Param(sql[start + 1..i].parse().ok()));
        } else if c.is_ascii_alphanumeric() || c == b'_' {
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            out.push(Token::Word(&sql[start..i]));
        } else {
            // One character (which may be several bytes).
            i += sql[i..].chars().next().map_or(1, char::len_utf8);
            out.push(Token::Other(&sql[start..i]));
        }
    }
    out
}

/// The next word after position `i`, skipping spaces.
fn word_after<'a>(toks: &[Token<'a>], i: usize) -> Option<(usize, &'a str)> {
    match next_solid(toks, i)? {
        (j, Token::Word(w)) => Some((j, *w)),
        _ => None,
    }
}

/// The next token after position `i` that is not blank.
fn next_solid<'t, 'a>(toks: &'t [Token<'a>], i: usize) -> Option<(usize, &'t Token<'a>)> {
    toks.iter()
        .enumerate()
        .skip(i + 1)
        .find(|(_, t)| !matches!(t, Token::Other(s) if s.trim().is_empty()))
}

/// The next token after position `i` that is not blank is `what`.
fn next_is(toks: &[Token<'_>], i: usize, what: &str) -> bool {
    matches!(next_solid(toks, i), Some((_, Token::Other(s))) if *s == what)
}

/// Where SQLite puts empty values in an order: first going up, last going down. PostgreSQL
/// does the opposite unless told, so each key of an `ORDER BY` and each column of an index
/// says it — an index kept in SQLite's order serves both directions of a sort.
///
/// Except keys that are never empty: `id` and `rowid` (a table's key, alone or after a table's
/// name). Saying where their empty values go would only keep PostgreSQL off the primary key's
/// index (made in its own default order, which no `NULLS` clause matches going down): every
/// list by id would sort the whole table.
#[derive(Default)]
struct Nulls {
    /// The depth of the list being read (`ORDER BY` keys, or an index's columns).
    depth: Option<i32>,
    /// The current key said DESC / NULLS already.
    desc: bool,
    said: bool,
    /// The `BY` of `ORDER BY` is still to come.
    by_pending: bool,
    /// Where in the output the current key starts.
    key_from: usize,
}

/// Whether an order's key (its text, with any `ASC`/`DESC`) is a table's key, never empty.
fn never_empty(key: &str) -> bool {
    let mut words = key.split_whitespace();
    let name = words.next().unwrap_or("");
    let rest: Vec<&str> = words.collect();
    let direction_only = match rest.as_slice() {
        [] => true,
        [d] => d.eq_ignore_ascii_case("ASC") || d.eq_ignore_ascii_case("DESC"),
        _ => false,
    };
    let column = name.rsplit('.').next().unwrap_or(name);
    direction_only
        && (column.eq_ignore_ascii_case("id") || column.eq_ignore_ascii_case("rowid"))
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
}

impl Nulls {
    fn start(&mut self, depth: i32, index: bool) {
        *self = Nulls {
            depth: Some(depth),
            by_pending: !index,
            ..Nulls::default()
        };
    }

    fn close_key(&mut self, out: &mut String) {
        let key = out.get(self.key_from..).unwrap_or("");
        if !self.said && !never_empty(key) {
            let trimmed = out.trim_end().len();
            let tail = out.split_off(trimmed);
            out.push_str(if self.desc {
                " NULLS LAST"
            } else {
                " NULLS FIRST"
            });
            out.push_str(&tail);
        }
        self.desc = false;
        self.said = false;
    }

    /// Called before token `t` is written, at paren depth `depth`.
    fn before(&mut self, t: &Token<'_>, depth: i32, out: &mut String) {
        let Some(d) = self.depth else { return };
        if self.by_pending {
            if let Token::Word(w) = t {
                if w.eq_ignore_ascii_case("BY") {
                    self.by_pending = false;
                    self.key_from = out.len() + w.len(); // after `BY`, written next
                }
            }
            return;
        }
        match t {
            Token::Other(",") if depth == d => {
                self.close_key(out);
                self.key_from = out.len() + 1;
            }
            Token::Other(")") if depth == d => self.end(out),
            Token::Word(w) if depth == d => match w.to_ascii_uppercase().as_str() {
                "DESC" => self.desc = true,
                "NULLS" => self.said = true,
                "LIMIT" | "OFFSET" | "FOR" => self.end(out),
                _ => {}
            },
            _ => {}
        }
    }

    /// The list ends (before `LIMIT`, a closing paren, or the statement's end).
    fn end(&mut self, out: &mut String) {
        if self.depth.is_some() && !self.by_pending {
            self.close_key(out);
        }
        self.depth = None;
    }
}

/// Whether the `+` at `i` is unary: it starts an operand (after `(`, `,`, `=` or a keyword)
/// and a name follows it directly.
fn unary(toks: &[Token<'_>], i: usize) -> bool {
    let name_follows = matches!(toks.get(i + 1),
        Some(Token::Word(w)) if !w.starts_with(|c: char| c.is_ascii_digit()));
    if !name_follows {
        return false;
    }
    let before = toks[..i]
        .iter()
        .rev()
        .find(|t| !matches!(t, Token::Other(s) if s.trim().is_empty()));
    match before {
        None => true,
        Some(Token::Other(s)) => matches!(*s, "(" | "," | "="),
        Some(Token::Word(w)) => matches!(
            w.to_ascii_uppercase().as_str(),
            "AND" | "OR" | "NOT" | "WHERE" | "BY" | "ON" | "SELECT" | "WHEN" | "THEN" | "ELSE"
        ),
        Some(Token::Param(_)) => false,
    }
}

/// One statement (no `;`) in PostgreSQL's dialect.
fn statement(sql: &str) -> String {
    let toks = tokens(sql);
    let first: Vec<String> = toks
        .iter()
        .filter_map(|t| match t {
            Token::Word(w) => Some(w.to_ascii_uppercase()),
            _ => None,
        })
        .take(2)
        .collect();
    let head = |n: usize| first.get(n).map(String::as_str);
    let ddl = matches!(
        (head(0), head(1)),
        (Some("CREATE" | "ALTER"), Some("TABLE"))
    );
    let index = head(0) == Some("CREATE")
        && matches!(head(1), Some("INDEX" | "UNIQUE"))
        && !toks
            .iter()
            .any(|t| matches!(t, Token::Word(w) if w.eq_ignore_ascii_case("USING")));
    let mut out = String::with_capacity(sql.len() + 16);
    let mut highest = 0;
    let mut on_conflict = false;
    let mut skip_until = 0;
    let mut depth = 0i32;
    let mut nulls = Nulls::default();
    let mut returning: Option<usize> = None;
    for (i, t) in toks.iter().enumerate() {
        if i < skip_until {
            continue;
        }
        nulls.before(t, depth, &mut out);
        match t {
            Token::Other("(") => depth += 1,
            Token::Other(")") => depth -= 1,
            _ => {}
        }
        if index && depth == 1 && matches!(t, Token::Other("(")) && nulls.depth.is_none() {
            nulls.start(1, true);
            nulls.key_from = out.len() + 1;
        }
        if let Token::Word(w) = t {
            if w.eq_ignore_ascii_case("ORDER")
                && word_after(&toks, i).is_some_and(|(_, b)| b.eq_ignore_ascii_case("BY"))
            {
                nulls.start(depth, false);
            }
        }
        match t {
            Token::Param(n) => {
                let n = n.unwrap_or(highest + 1);
                highest = highest.max(n);
                out.push('$');
                out.push_str(&n.to_string());
            }
            // SQLite's unary `+` keeps a column off its index; PostgreSQL has no such
            // operator on text (and plans on its own).
            Token::Other("+") if unary(&toks, i) => {}
            Token::Other(s) => out.push_str(s),
            Token::Word(w) => {
                let upper = w.to_ascii_uppercase();
                match upper.as_str() {
                    "LIKE" => out.push_str("ILIKE"),
                    "RETURNING" if depth == 0 => {
                        returning = Some(out.len());
                        out.push_str(w);
                    }
                    // `fts MATCH ?`: the full-text table's terms against the FTS5 expression,
                    // made a tsquery by `qg_search_query` (see `migrations.rs`).
                    "MATCH" => {
                        let table = out.trim_end().len();
                        out.truncate(table);
                        out.push_str(".terms @@ qg_search_query(");
                        let param = toks[i + 1..]
                            .iter()
                            .position(|t| matches!(t, Token::Param(_)));
                        if let Some(j) = param {
                            if let Token::Param(n) = toks[i + 1 + j] {
                                let n = n.unwrap_or(highest + 1);
                                highest = highest.max(n);
                                out.push_str(&format!("${n})"));
                            }
                            skip_until = i + 2 + j;
                        }
                    }
                    "INSTR" if next_is(&toks, i, "(") => out.push_str("strpos"),
                    "IFNULL" if next_is(&toks, i, "(") => out.push_str("COALESCE"),
                    "AUTOINCREMENT" => {}
                    // `x IS ?` / `x IS NOT ?`: PostgreSQL's IS takes no parameter.
                    "IS" if matches!(next_solid(&toks, i), Some((_, Token::Param(_)))) => {
                        out.push_str("IS NOT DISTINCT FROM")
                    }
                    "IS" if word_after(&toks, i).is_some_and(|(j, w)| {
                        w.eq_ignore_ascii_case("NOT")
                            && matches!(next_solid(&toks, j), Some((_, Token::Param(_))))
                    }) =>
                    {
                        out.push_str("IS DISTINCT FROM");
                        skip_until = word_after(&toks, i).map_or(i, |(j, _)| j + 1);
                    }
                    "WITHOUT"
                        if ddl
                            && word_after(&toks, i)
                                .is_some_and(|(_, w)| w.eq_ignore_ascii_case("ROWID")) =>
                    {
                        skip_until = word_after(&toks, i).map_or(i, |(j, _)| j + 1);
                    }
                    "IMMEDIATE" if head(0) == Some("BEGIN") => {
                        out.push_str(&format!("; SELECT pg_advisory_xact_lock({WRITER_LOCK})"))
                    }
                    "INSERT" => {
                        out.push_str(w);
                        if let Some((j, "OR" | "or")) = word_after(&toks, i) {
                            if let Some((k, what)) = word_after(&toks, j) {
                                if what.eq_ignore_ascii_case("IGNORE") {
                                    on_conflict = true;
                                    skip_until = k + 1;
                                }
                            }
                        }
                    }
                    "INTEGER" if ddl => match word_after(&toks, i) {
                        Some((j, p)) if p.eq_ignore_ascii_case("PRIMARY") => {
                            out.push_str("BIGINT GENERATED BY DEFAULT AS IDENTITY");
                            skip_until = j;
                            out.push(' ');
                        }
                        _ => out.push_str("BIGINT"),
                    },
                    "INTEGER" => out.push_str("BIGINT"),
                    "REAL" => out.push_str("DOUBLE PRECISION"),
                    "BLOB" => out.push_str("BYTEA"),
                    "TEXT" if ddl => out.push_str("TEXT COLLATE \"C\""),
                    _ => out.push_str(w),
                }
            }
        }
    }
    nulls.end(&mut out);
    if on_conflict {
        // Before a RETURNING clause, or at the end.
        let at = returning.map_or(out.trim_end().len(), |r| r);
        let tail = out.split_off(at);
        out.truncate(out.trim_end().len());
        out.push_str(" ON CONFLICT DO NOTHING");
        if !tail.is_empty() {
            out.push(' ');
            out.push_str(tail.trim_start());
        }
    }
    out
}

/// Statements separated by `;`, in PostgreSQL's dialect.
pub(crate) fn to_postgres(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut start = 0;
    let mut quote: Option<u8> = None;
    let bytes = sql.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match (quote, b) {
            (Some(b'\n'), b'\n') => quote = None, // the end of a comment
            (Some(b'*'), b'/') if i > 0 && bytes[i - 1] == b'*' => quote = None,
            (Some(q), c) if c == q && q != b'\n' && q != b'*' => quote = None,
            (Some(_), _) => {}
            (None, b'-') if bytes.get(i + 1) == Some(&b'-') => quote = Some(b'\n'),
            (None, b'/') if bytes.get(i + 1) == Some(&b'*') => quote = Some(b'*'),
            (None, b'\'' | b'"') => quote = Some(b),
            (None, b';') => {
                out.push_str(&statement(&sql[start..i]));
                out.push(';');
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push_str(&statement(&sql[start..]));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_numbered_as_sqlite_numbers_them() {
        assert_eq!(
            to_postgres("SELECT a FROM t WHERE b = ?1 AND c = ?2 OR d = ?1"),
            "SELECT a FROM t WHERE b = $1 AND c = $2 OR d = $1"
        );
        assert_eq!(
            to_postgres("UPDATE t SET a = ? WHERE id = ? AND v = ?"),
            "UPDATE t SET a = $1 WHERE id = $2 AND v = $3"
        );
        assert_eq!(
            to_postgres("SELECT '?', \"a?\" FROM t"),
            "SELECT '?', \"a?\" FROM t"
        );
    }

    #[test]
    fn sqlite_words_become_postgres_words() {
        assert_eq!(
            to_postgres("SELECT 1 FROM t WHERE name LIKE ?1 ESCAPE '\\' AND instr(s, ?2) > 0"),
            "SELECT 1 FROM t WHERE name ILIKE $1 ESCAPE '\\' AND strpos(s, $2) > 0"
        );
        assert_eq!(
            to_postgres("INSERT OR IGNORE INTO roles (name, def) VALUES (?1, ?2)"),
            "INSERT INTO roles (name, def) VALUES ($1, $2) ON CONFLICT DO NOTHING"
        );
        assert_eq!(
            to_postgres("SELECT CAST(x AS INTEGER), CAST(y AS REAL) FROM t"),
            "SELECT CAST(x AS BIGINT), CAST(y AS DOUBLE PRECISION) FROM t"
        );
        assert_eq!(
            to_postgres("BEGIN IMMEDIATE"),
            format!("BEGIN ; SELECT pg_advisory_xact_lock({WRITER_LOCK})")
        );
    }

    #[test]
    fn full_text_matches_and_index_hints_become_postgres_own() {
        assert_eq!(
            to_postgres("SELECT rowid FROM search_x_fts WHERE search_x_fts MATCH ?"),
            "SELECT rowid FROM search_x_fts WHERE search_x_fts.terms @@ qg_search_query($1)"
        );
        assert_eq!(
            to_postgres("SELECT id FROM t WHERE +c_status = ? AND a + b > ?1 ORDER BY +c_x"),
            "SELECT id FROM t WHERE c_status = $1 AND a + b > $1 ORDER BY c_x NULLS FIRST"
        );
    }

    #[test]
    fn empty_values_sort_where_sqlite_sorts_them() {
        assert_eq!(
            to_postgres("SELECT a FROM t WHERE x IN (SELECT y FROM u ORDER BY y) ORDER BY a DESC, lower(b), c ASC LIMIT 5"),
            "SELECT a FROM t WHERE x IN (SELECT y FROM u ORDER BY y NULLS FIRST) ORDER BY a DESC NULLS LAST, lower(b) NULLS FIRST, c ASC NULLS FIRST LIMIT 5"
        );
        assert_eq!(
            to_postgres("SELECT a FROM t ORDER BY a NULLS LAST"),
            "SELECT a FROM t ORDER BY a NULLS LAST"
        );
        assert_eq!(
            to_postgres("CREATE INDEX IF NOT EXISTS \"ix_c:a\" ON r_c (c_a, id)"),
            "CREATE INDEX IF NOT EXISTS \"ix_c:a\" ON r_c (c_a NULLS FIRST, id)"
        );
        // A table's key is never empty: no clause, so its own index serves the order.
        assert_eq!(
            to_postgres(
                "SELECT r.id FROM t r JOIN f ON r.id = f.rowid ORDER BY f.rowid DESC LIMIT 20"
            ),
            "SELECT r.id FROM t r JOIN f ON r.id = f.rowid ORDER BY f.rowid DESC LIMIT 20"
        );
        assert_eq!(
            to_postgres("SELECT a FROM t ORDER BY c_x DESC, id DESC LIMIT 5"),
            "SELECT a FROM t ORDER BY c_x DESC NULLS LAST, id DESC LIMIT 5"
        );
        assert_eq!(
            to_postgres("SELECT a FROM t ORDER BY id, c_id, lower(id)"),
            "SELECT a FROM t ORDER BY id, c_id NULLS FIRST, lower(id) NULLS FIRST"
        );
        assert_eq!(
            to_postgres("CREATE INDEX h ON history (entity, record_id, id)"),
            "CREATE INDEX h ON history (entity NULLS FIRST, record_id NULLS FIRST, id)"
        );
        assert_eq!(
            to_postgres("CREATE INDEX i ON f USING gin (terms)"),
            "CREATE INDEX i ON f USING gin (terms)"
        );
    }

    #[test]
    fn is_a_parameter_becomes_is_not_distinct_from() {
        assert_eq!(
            to_postgres("SELECT 1 FROM t WHERE a IS ?1 AND b IS NOT ?2 AND c IS NULL"),
            "SELECT 1 FROM t WHERE a IS NOT DISTINCT FROM $1 AND b IS DISTINCT FROM $2 AND c IS NULL"
        );
    }

    #[test]
    fn returning_and_descending_index_columns_keep_their_places() {
        assert_eq!(
            to_postgres("INSERT OR IGNORE INTO t (a) VALUES (?1) RETURNING id"),
            "INSERT INTO t (a) VALUES ($1) ON CONFLICT DO NOTHING RETURNING id"
        );
        assert_eq!(
            to_postgres("CREATE INDEX i ON t (a DESC, b)"),
            "CREATE INDEX i ON t (a DESC NULLS LAST, b NULLS FIRST)"
        );
        assert_eq!(
            to_postgres("SELECT a /* it's a * b; ? */ FROM t WHERE b = ?"),
            "SELECT a /* it's a * b; ? */ FROM t WHERE b = $1"
        );
    }

    #[test]
    fn comments_quote_nothing() {
        assert_eq!(
            to_postgres("-- the plugin's values\nCREATE TABLE kv (v BLOB); SELECT ?"),
            "-- the plugin's values\nCREATE TABLE kv (v BYTEA); SELECT $1"
        );
    }

    #[test]
    fn tables_get_postgres_types_and_identities() {
        assert_eq!(
            to_postgres(
                "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL, \
                 n INTEGER, r REAL, b BLOB, note TEXT DEFAULT 'TEXT');\nCREATE INDEX i ON t (n)"
            ),
            "CREATE TABLE t (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY , \
             body TEXT COLLATE \"C\" NOT NULL, n BIGINT, r DOUBLE PRECISION, b BYTEA, \
             note TEXT COLLATE \"C\" DEFAULT 'TEXT');\nCREATE INDEX i ON t (n NULLS FIRST)"
        );
    }
}
