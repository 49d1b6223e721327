//! One row's cells turned into a record's input: each value typed for its field under the
//! import's declared date format and value maps, references found by a unique field or the
//! title (once per distinct text), owners and user fields by user name, e-mail or name. Empty
//! cells are left out: a create gets the field's default, an update leaves the field alone.

use super::options::{ImportOptions, CREATED_AT, OWNER};
use super::sheet::{number_text, Cell, Row};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use qingguan_core::imports::RowError;
use qingguan_core::{Access, Entity, Error, Field, FieldType, ListQuery, Locale, Reason, Store};
use serde_json::{Map, Value as Json};
use std::collections::HashMap;

/// A row ready to write.
#[derive(Debug, Default)]
pub struct RowInput {
    /// Field (and `owner`) → value, as the API takes it.
    pub values: Map<String, Json>,
    /// A migrated record's creation time.
    pub created_at: Option<DateTime<Utc>>,
}

/// Converts rows for one pass; remembers what it looked up.
pub struct Converter<'a> {
    store: &'a Store,
    access: &'a Access,
    entity: &'a Entity,
    options: &'a ImportOptions,
    /// Column index → (column name, field name).
    columns: Vec<(usize, String, String)>,
    /// Minutes east of UTC that times without a zone are read in.
    offset_minutes: i32,
    /// (field, text) → the record it names, or why none.
    references: HashMap<(String, String), Result<i64, Reason>>,
    /// Lower-cased user name, e-mail or name → user id (`None`: several users share it).
    users: Option<HashMap<String, Option<i64>>>,
    /// A lookup the database failed (no cell explains it): the row is not judged, the pass
    /// stops, and the import can be resumed.
    failure: Option<Error>,
}

impl<'a> Converter<'a> {
    pub fn new(
        store: &'a Store,
        access: &'a Access,
        entity: &'a Entity,
        options: &'a ImportOptions,
        headers: &[String],
    ) -> Self {
        let columns = headers
            .iter()
            .enumerate()
            .filter_map(|(i, h)| {
                let field = options.mapping.get(h).filter(|f| !f.is_empty())?;
                Some((i, h.clone(), field.clone()))
            })
            .collect();
        let fallback = if access.locale == Locale::ZhCn {
            480
        } else {
            0
        };
        let offset_minutes = store.time_zone().ok().flatten().unwrap_or(fallback);
        Converter {
            store,
            access,
            entity,
            options,
            columns,
            offset_minutes,
            references: HashMap::new(),
            users: None,
            failure: None,
        }
    }

    /// The row as input, or every cell that does not fit; `Err` when a lookup failed in the
    /// database, which says nothing of the row.
    pub fn convert(&mut self, row: &Row) -> Result<Result<RowInput, Vec<RowError>>, Error> {
        let converted = self.cells(row);
        match self.failure.take() {
            Some(e) => Err(e),
            None => Ok(converted),
        }
    }

    fn cells(&mut self, row: &Row) -> Result<RowInput, Vec<RowError>> {
        let mut input = RowInput::default();
        let mut errors = Vec::new();
        let columns = self.columns.clone();
        for (i, column, field) in &columns {
            let cell = row.cell(*i);
            if cell.is_empty() {
                continue;
            }
            let converted = match field.as_str() {
                OWNER => self.user(cell).map(Json::from),
                CREATED_AT => match self.instant(cell) {
                    // A creation time is in the past (a day's slack for time zones).
                    Ok(t) if t > Utc::now() + chrono::Duration::days(1) => Err(Reason::AtMost {
                        max: Utc::now().format("%Y-%m-%d").to_string(),
                    }),
                    Ok(t) => {
                        input.created_at = Some(t);
                        continue;
                    }
                    Err(e) => Err(e),
                },
                name => match self.entity.field(name) {
                    Some(f) => self.value(f, cell),
                    None => continue,
                },
            };
            match converted {
                Ok(v) => {
                    input.values.insert(field.clone(), v);
                }
                Err(why) => errors.push(RowError::cell(row.number, column, field, &why)),
            }
        }
        if errors.is_empty() {
            Ok(input)
        } else {
            Err(errors)
        }
    }

    fn value(&mut self, f: &Field, cell: &Cell) -> Result<Json, Reason> {
        let text = cell.text();
        let t = text.trim();
        Ok(match f.def.kind {
            FieldType::Integer => match cell {
                Cell::Number(n) if n.fract() == 0.0 => Json::from(*n as i64),
                _ => Json::from(
                    plain_number(t)
                        .parse::<i64>()
                        .map_err(|_| Reason::NotInteger)?,
                ),
            },
            FieldType::Decimal | FieldType::Percent => Json::String(match cell {
                Cell::Number(n) => number_text(*n),
                _ => plain_number(t),
            }),
            FieldType::Currency => Json::String(match cell {
                Cell::Number(n) => number_text(*n),
                _ => amount_text(t, &f.def),
            }),
            FieldType::Boolean => match cell {
                Cell::Bool(b) => Json::Bool(*b),
                Cell::Number(n) if *n == 1.0 || *n == 0.0 => Json::Bool(*n == 1.0),
                _ => qingguan_core::Value::parse_str(&f.def, t)?.to_json(),
            },
            FieldType::Date => Json::String(self.date(cell)?.format("%Y-%m-%d").to_string()),
            FieldType::Datetime => Json::String(self.instant(cell)?.to_rfc3339()),
            FieldType::Select => Json::String(self.option(f, t)?),
            FieldType::MultiSelect => {
                let mut out = Vec::new();
                for part in t
                    .split([',', ';', '，', '；', '、'])
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                {
                    out.push(Json::String(self.option(f, part)?));
                }
                Json::Array(out)
            }
            FieldType::Reference => Json::from(self.reference(f, t)?),
            FieldType::User => Json::from(self.user(cell)?),
            // Spaces around a cell's text are never meant (and would make a key unfindable).
            _ => Json::String(t.to_string()),
        })
    }

    /// A select's option for text in the file: the import's value map, then an option's value,
    /// then its label in either language (ignoring case).
    fn option(&self, f: &Field, t: &str) -> Result<String, Reason> {
        if let Some(map) = self.options.values.get(&f.def.name) {
            if let Some(v) = map.get(t).or_else(|| {
                map.iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(t))
                    .map(|(_, v)| v)
            }) {
                return Ok(v.clone());
            }
        }
        let lower = t.to_lowercase();
        f.def
            .options
            .iter()
            .find(|o| o.value == t)
            .or_else(|| {
                f.def.options.iter().find(|o| {
                    o.value.to_lowercase() == lower
                        || o.label.en.to_lowercase() == lower
                        || o.label.zh_cn == t
                })
            })
            .map(|o| o.value.clone())
            .ok_or_else(|| Reason::NotOption {
                value: t.to_string(),
                options: f.def.options.iter().map(|o| o.value.clone()).collect(),
            })
    }

    fn date(&self, cell: &Cell) -> Result<NaiveDate, Reason> {
        let not_date = || Reason::NotDateIn {
            format: self.options.date_format_name().to_string(),
        };
        match cell {
            Cell::Date(d) => Ok(d.date()),
            Cell::Text(s) => {
                let d = NaiveDate::parse_from_str(s.trim(), self.options.chrono_date_format())
                    .map_err(|_| not_date())?;
                // A four-digit year from the file, never one chrono widened from fewer digits.
                if self.options.chrono_date_format().contains("%Y") && !has_four_digit_year(s) {
                    return Err(not_date());
                }
                Ok(d)
            }
            _ => Err(not_date()),
        }
    }

    /// A point in time: a spreadsheet date-time, RFC 3339 text, or the declared date format
    /// with an optional `HH:MM[:SS]`, read in the install's time zone.
    fn instant(&self, cell: &Cell) -> Result<DateTime<Utc>, Reason> {
        let local = match cell {
            Cell::Date(d) => *d,
            Cell::Text(s) => {
                let s = s.trim();
                if let Ok(t) = DateTime::parse_from_rfc3339(s) {
                    return Ok(t.with_timezone(&Utc));
                }
                let (day, time) = match s.split_once([' ', 'T']) {
                    Some((d, t)) => (d, Some(t.trim())),
                    None => (s, None),
                };
                let date = self.date(&Cell::Text(day.to_string()))?;
                let time = match time {
                    None => chrono::NaiveTime::MIN,
                    Some(t) => chrono::NaiveTime::parse_from_str(t, "%H:%M:%S")
                        .or_else(|_| chrono::NaiveTime::parse_from_str(t, "%H:%M"))
                        .map_err(|_| Reason::NotDatetime)?,
                };
                NaiveDateTime::new(date, time)
            }
            _ => {
                return Err(Reason::NotDateIn {
                    format: self.options.date_format_name().to_string(),
                })
            }
        };
        let utc = local - chrono::Duration::minutes(i64::from(self.offset_minutes));
        Ok(DateTime::from_naive_utc_and_offset(utc, Utc))
    }

    /// The record a reference cell names: by the field the import matches this reference on
    /// (`id`, or a field of the target type), the target's title field otherwise.
    fn reference(&mut self, f: &Field, t: &str) -> Result<i64, Reason> {
        let key = (f.def.name.clone(), t.to_string());
        if let Some(known) = self.references.get(&key) {
            return known.clone();
        }
        let target = f.def.reference_target().unwrap_or_default().to_string();
        let schema = self.store.schema();
        let on = self
            .options
            .match_on
            .get(&f.def.name)
            .cloned()
            .or_else(|| schema.entity(&target).and_then(|e| e.title_field.clone()))
            .unwrap_or_else(|| "id".into());
        let found = if on == "id" {
            t.parse::<i64>()
                .map_err(|_| Reason::NotRecordId)
                .and_then(|id| match self.store.get(self.access, &target, id) {
                    Ok(r) => Ok(r.id),
                    Err(e) => Err(self.failed(
                        e,
                        Reason::NoRecord {
                            entity: target.clone(),
                            id,
                        },
                    )),
                })
        } else {
            self.find(&target, &on, t)
        };
        // What the database failed to answer is asked again (by the resumed import).
        if self.failure.is_none() {
            self.references.insert(key, found.clone());
        }
        found
    }

    /// `why` for the row — unless the database failed, which is kept to stop the pass.
    fn failed(&mut self, e: Error, why: Reason) -> Reason {
        if matches!(e, Error::Database(_)) {
            self.failure.get_or_insert(e);
        }
        why
    }

    fn find(&mut self, entity: &str, field: &str, t: &str) -> Result<i64, Reason> {
        let no_match = || Reason::NoMatch {
            entity: entity.into(),
            value: t.into(),
        };
        let query = ListQuery::from_pairs([(field, t), ("limit", "2")])
            .map_err(|e| self.failed(e, no_match()))?;
        let page = self
            .store
            .list(self.access, entity, &query)
            .map_err(|e| self.failed(e, no_match()))?;
        match page.items.as_slice() {
            [one] => Ok(one.id),
            [] => Err(Reason::NoMatch {
                entity: entity.into(),
                value: t.into(),
            }),
            many => Err(Reason::Ambiguous {
                entity: entity.into(),
                value: t.into(),
                count: many.len(),
            }),
        }
    }

    /// A user named by user name, e-mail or name (ignoring case), or by id.
    fn user(&mut self, cell: &Cell) -> Result<i64, Reason> {
        let t = cell.text().trim().to_string();
        if self.users.is_none() {
            let users = self.load_users();
            if self.failure.is_some() {
                // The row is not judged (the pass stops): any reason will do.
                return Err(Reason::NotRecordId);
            }
            self.users = Some(users);
        }
        let users = self.users.as_ref().expect("loaded above");
        match users.get(&t.to_lowercase()) {
            Some(Some(id)) => Ok(*id),
            Some(None) => Err(Reason::Ambiguous {
                entity: "user".into(),
                value: t,
                count: 2,
            }),
            None => match t.parse::<i64>() {
                Ok(id) if users.values().any(|u| *u == Some(id)) => Ok(id),
                _ => Err(Reason::NoMatch {
                    entity: "user".into(),
                    value: t,
                }),
            },
        }
    }

    /// The users the importer may read, by every name they go by.
    fn load_users(&mut self) -> HashMap<String, Option<i64>> {
        let mut out: HashMap<String, Option<i64>> = HashMap::new();
        let mut query = ListQuery {
            limit: 200,
            ..ListQuery::default()
        };
        loop {
            let page = match self.store.list(self.access, "user", &query) {
                Ok(page) => page,
                Err(e) => {
                    // A database failure stops the pass; a refusal leaves no user to name.
                    self.failed(e, Reason::NotRecordId);
                    break;
                }
            };
            for u in &page.items {
                for name in ["username", "email", "display_name"] {
                    let v = u.get(name).to_text().trim().to_lowercase();
                    if v.is_empty() {
                        continue;
                    }
                    out.entry(v)
                        .and_modify(|seen| {
                            if *seen != Some(u.id) {
                                *seen = None;
                            }
                        })
                        .or_insert(Some(u.id));
                }
            }
            match page.next_cursor {
                Some(c) => query.cursor = Some(c),
                None => break,
            }
        }
        out
    }
}

/// A number as typed in a spreadsheet, without a currency sign and without grouping commas
/// where they group thousands (`¥1,234.50` → `1234.50`). Any other comma stays — `12,50` (a
/// decimal comma) and `1,2,3` are no numbers here, not 1250 and 123.
fn plain_number(t: &str) -> String {
    let t = t.trim().trim_start_matches(['¥', '￥', '$']).trim();
    let (sign, digits) = match t.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", t),
    };
    let (whole, fraction) = match digits.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (digits, None),
    };
    let groups: Vec<&str> = whole.split(',').collect();
    let grouped = groups.len() > 1
        && (1..=3).contains(&groups[0].len())
        && groups[1..].iter().all(|g| g.len() == 3)
        && groups.iter().all(|g| g.bytes().all(|b| b.is_ascii_digit()));
    if !grouped {
        return t.to_string();
    }
    match fraction {
        Some(f) => format!("{sign}{}.{f}", groups.concat()),
        None => format!("{sign}{}", groups.concat()),
    }
}

/// Whether the text's year is written with four digits (chrono's `%Y` also takes fewer).
fn has_four_digit_year(s: &str) -> bool {
    s.split(|c: char| !c.is_ascii_digit())
        .any(|part| part.len() == 4)
}

/// A typed amount as plain decimal text: without its field's currency sign — or, for an
/// amount in each record's own currency, without the sign of whichever currency it is written
/// in (`US$100` on a dollar deal); the currency itself is the row's currency column.
fn amount_text(t: &str, def: &qingguan_core::FieldDef) -> String {
    use qingguan_core::currency::{plain_amount, CURRENCIES};
    let own = plain_amount(t, def.currency.as_deref());
    let plain = |s: &str| !s.is_empty() && s.parse::<f64>().is_ok();
    if def.currency_field.is_none() || plain(&own) {
        return own;
    }
    CURRENCIES
        .iter()
        .map(|c| plain_amount(t, Some(c.code)))
        .find(|s| plain(s))
        .unwrap_or(own)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_lose_grouping_and_currency() {
        assert_eq!(plain_number("¥1,234.50"), "1234.50");
        assert_eq!(plain_number("-12,345,678"), "-12345678");
        assert_eq!(plain_number("-3"), "-3");
        assert_eq!(
            plain_number("12,50"),
            "12,50",
            "a decimal comma is no grouping"
        );
        assert_eq!(plain_number("1,2,3"), "1,2,3");
        assert_eq!(plain_number("1234,567"), "1234,567");
    }

    #[test]
    fn four_digit_years_only() {
        assert!(has_four_digit_year("2026-01-31"));
        assert!(has_four_digit_year("31/01/2026"));
        assert!(!has_four_digit_year("20-10-16"));
        assert!(!has_four_digit_year("31/1/26"));
    }

    #[test]
    fn an_amount_in_its_records_own_currency_loses_whichever_sign_it_has() {
        let mut def = qingguan_core::FieldDef::new(
            "amount",
            qingguan_core::FieldType::Currency,
            "Amount",
            "金额",
        );
        def.currency = Some("CNY".into());
        assert_eq!(super::amount_text("US$100", &def), "US$100", "a yuan field");
        assert_eq!(super::amount_text("¥1,000.50", &def), "1000.50");
        def.currency_field = Some("currency".into());
        assert_eq!(super::amount_text("US$100", &def), "100");
        assert_eq!(super::amount_text("EUR 1,234.5", &def), "1234.5");
        assert_eq!(super::amount_text("¥1,000.50", &def), "1000.50");
        assert_eq!(
            super::amount_text("abc", &def),
            "abc",
            "left for the parser to refuse"
        );
    }
}
