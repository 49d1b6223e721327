//! The kanban board: one column per option of the type's kanban field, each with its count
//! and the total of the type's money field (the first decimal list column) in the reader's
//! notation; `…/kanban/totals` answers the same figures after a card moved. Closed columns
//! (options with a colour: won, lost) show the cards changed in the last 30 days, with their
//! figures, unless `?all=1`.

use super::{cell, entity_or_page};
use crate::caller::Caller;
use crate::state::AppState;
use crate::ui::extract::UiCaller;
use crate::ui::render::{base, core_error, locale_of, page};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use qingguan_core::{AggregateQuery, Entity, Field, FieldType, ListQuery, Locale, Metric};
use serde_json::{json, Value as Json};
use std::collections::HashMap;

/// The field a board totals: the first decimal or currency field among the list columns.
fn money_field(e: &Entity) -> Option<&Field> {
    e.layout
        .list_columns
        .iter()
        .filter_map(|c| e.field(c))
        .find(|f| matches!(f.def.kind, FieldType::Decimal | FieldType::Currency))
}

/// Count and total (as the store sums it: decimal text) per option value, over every record
/// of the type the caller reaches — one grouped query, not the cards shown.
struct Figures {
    by_value: HashMap<String, (i64, Option<String>)>,
    /// Whether the columns have totals (the type has a money field, and it could be summed).
    totals: bool,
}

fn figures(
    state: &AppState,
    caller: &Caller,
    e: &Entity,
    kanban: &str,
    filters: &[qingguan_core::Filter],
) -> qingguan_core::Result<Figures> {
    let money = money_field(e).map(|f| f.def.name.clone());
    let query = |money: Option<&String>| {
        let mut metrics = vec![Metric::Count];
        metrics.extend(money.map(|m| Metric::Sum(m.clone())));
        state.store().aggregate(
            &caller.access,
            &e.name,
            &AggregateQuery {
                group_by: vec![kanban.to_string()],
                metrics,
                filters: filters.to_vec(),
                ..AggregateQuery::default()
            },
        )
    };
    // A total too large to sum leaves the board with its counts (and no totals), not broken.
    let (rows, money) = match query(money.as_ref()) {
        Ok(rows) => (rows, money),
        Err(_) if money.is_some() => (query(None)?, None),
        Err(err) => return Err(err),
    };
    let by_value = rows
        .into_iter()
        .filter_map(|r| {
            let value = r.group.first()?.as_str()?.to_string();
            let count = r.values.first().and_then(Json::as_i64).unwrap_or(0);
            let total = money
                .as_ref()
                .and_then(|_| r.values.get(1))
                .and_then(|v| v.as_str().map(String::from).or_else(|| Some(v.to_string())));
            Some((value, (count, total)))
        })
        .collect();
    Ok(Figures {
        by_value,
        totals: money.is_some(),
    })
}

/// How many days a closed column looks back by default.
const RECENT_DAYS: i64 = 30;

/// `?all=1`: every card of closed columns, not only the recent ones.
#[derive(Debug, Default, serde::Deserialize)]
pub struct BoardQuery {
    #[serde(default)]
    all: Option<String>,
    /// Only the caller's own cards (`mine=1`).
    #[serde(default)]
    mine: Option<String>,
}

impl BoardQuery {
    fn all(&self) -> bool {
        self.all
            .as_deref()
            .is_some_and(|a| !a.is_empty() && a != "0")
    }

    fn mine(&self) -> bool {
        self.mine
            .as_deref()
            .is_some_and(|a| !a.is_empty() && a != "0")
    }

    /// The filters the board's choices add to every column (the owner, for "mine").
    fn filters(&self, caller: &Caller) -> Vec<(String, String)> {
        if self.mine() {
            vec![("owner".into(), caller.user.id.to_string())]
        } else {
            Vec::new()
        }
    }
}

/// Whether an option closes a record's way across the board: options with a colour (a
/// pipeline's won and lost) are its end states.
fn closed(o: &qingguan_core::SelectOption) -> bool {
    o.color.is_some()
}

/// `updated_at ≥` the start of the recent window, as a list parameter.
fn recent_pair() -> (String, String) {
    let since = chrono::Utc::now() - chrono::Duration::days(RECENT_DAYS);
    (
        "updated_at[gte]".to_string(),
        since.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
    )
}

/// Figures of every column: open columns over every record, closed columns over the recent
/// window unless `all` (one or two grouped queries).
fn board_figures(
    state: &AppState,
    caller: &Caller,
    e: &Entity,
    field: &Field,
    bq: &BoardQuery,
) -> qingguan_core::Result<(Figures, Option<Figures>)> {
    let chosen = bq.filters(caller);
    let base = ListQuery::from_pairs(chosen.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .map(|q| q.filters)
        .unwrap_or_default();
    let every = figures(state, caller, e, &field.def.name, &base)?;
    if bq.all() || !field.def.options.iter().any(closed) {
        return Ok((every, None));
    }
    let (k, v) = recent_pair();
    let mut filters = base;
    filters.extend(
        ListQuery::from_pairs([(k.as_str(), v.as_str())])
            .map(|q| q.filters)
            .unwrap_or_default(),
    );
    let recent = figures(state, caller, e, &field.def.name, &filters)?;
    Ok((every, Some(recent)))
}

/// One column's figures as the page shows them.
fn column_json(locale: Locale, value: &str, figures: &Figures) -> Json {
    let (count, total) = figures.by_value.get(value).cloned().unwrap_or((0, None));
    let total = figures
        .totals
        .then(|| money_text(locale, total.as_deref().unwrap_or("0")));
    json!({"value": value, "count": count, "total": total})
}

/// `GET /e/{entity}/kanban`: one column per option of the kanban field.
pub async fn kanban(
    State(state): State<AppState>,
    UiCaller(caller): UiCaller,
    Path(entity): Path<String>,
    Query(bq): Query<BoardQuery>,
) -> Response {
    let e = match entity_or_page(&state, &caller, &entity) {
        Ok(e) => e,
        Err(r) => return r,
    };
    let locale = locale_of(&caller);
    let Some(field) = e.kanban_field.clone().and_then(|k| e.field(&k).cloned()) else {
        return Redirect::to(&format!("/e/{entity}")).into_response();
    };
    let extra: Vec<String> = e
        .layout
        .list_columns
        .iter()
        .filter(|c| *c != &field.def.name && Some(*c) != e.title_field.as_ref())
        .take(2)
        .cloned()
        .collect();
    let (sums, recent) = match board_figures(&state, &caller, &e, &field, &bq) {
        Ok(f) => f,
        Err(err) => return core_error(&state, &caller, err),
    };
    let money = money_field(&e).filter(|_| sums.totals);
    let since = recent_pair();
    let mut board = Vec::new();
    for o in &field.def.options {
        let recent_only = recent.is_some() && closed(o);
        let mut pairs = vec![
            (field.def.name.clone(), o.value.clone()),
            ("sort".into(), "-updated_at".into()),
            ("limit".into(), "50".into()),
        ];
        if recent_only {
            pairs.push(since.clone());
        }
        pairs.extend(bq.filters(&caller));
        let q = ListQuery::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .unwrap_or_default();
        let page_data = match state.store().list(&caller.access, &entity, &q) {
            Ok(p) => p,
            Err(err) => return core_error(&state, &caller, err),
        };
        let cards: Vec<Json> = page_data
            .items
            .iter()
            .map(|r| {
                let lines: Vec<String> = extra
                    .iter()
                    .map(|c| cell(&state, &caller, &e, r, c))
                    .filter(|s| !s.is_empty())
                    .collect();
                json!({"id": r.id, "version": r.version, "title": r.title(&e), "lines": lines})
            })
            .collect();
        let figs = recent.as_ref().filter(|_| recent_only).unwrap_or(&sums);
        let mut col = column_json(locale, &o.value, figs);
        col["label"] = json!(o.label.get(locale));
        col["recent"] = json!(recent_only);
        // A new card in this column: the form with the column's value filled in.
        let value: String = form_urlencoded::byte_serialize(o.value.as_bytes()).collect();
        col["new_href"] = json!(format!("/e/{entity}/new?{}={value}", field.def.name));
        col["cards"] = json!(cards);
        board.push(col);
    }
    let mut ctx = base(&state, &caller, &format!("/e/{entity}"));
    ctx.insert(
        "entity".into(),
        json!({"name": e.name, "label": e.label.get(locale)}),
    );
    ctx.insert(
        "can_create".into(),
        json!(caller.access.permission(&entity).create && !e.retired),
    );
    ctx.insert("field".into(), json!(field.def.name));
    ctx.insert(
        "money_label".into(),
        json!(money.map(|f| f.def.label.get(locale).to_string())),
    );
    // Field labels for the script, so a refused drag names fields as the form does.
    let labels: serde_json::Map<String, Json> = e
        .visible_fields()
        .map(|f| (f.def.name.clone(), json!(f.def.label.get(locale))))
        .collect();
    ctx.insert(
        "labels_json".into(),
        json!(Json::Object(labels).to_string()),
    );
    // What a refused move may ask for on the spot: the type's editable fields a small form can
    // hold (a line of text, a number, a date, several lines, one option of a list).
    let inputs: Vec<Json> = e
        .visible_fields()
        .filter(|f| f.def.typed_in_forms() && f.def.name != field.def.name)
        .filter_map(|f| {
            let kind = match f.def.kind.info().input {
                qingguan_core::Input::Line(html) => html,
                qingguan_core::Input::Area => "area",
                qingguan_core::Input::Choice => "choice",
                _ => return None,
            };
            let options: Vec<Json> = f
                .def
                .options
                .iter()
                .map(|o| json!({"value": o.value, "label": o.label.get(locale)}))
                .collect();
            Some(json!({"name": f.def.name, "label": f.def.label.get(locale), "kind": kind, "options": options}))
        })
        .collect();
    ctx.insert("inputs_json".into(), json!(Json::Array(inputs).to_string()));
    ctx.insert(
        "move_words".into(),
        json!(
            crate::ui::render::words(locale, &["kanban_move_needs", "save", "cancel"]).to_string()
        ),
    );
    ctx.insert("board".into(), json!(board));
    // Closed columns show the last days' cards unless every card was asked for.
    let has_closed = field.def.options.iter().any(closed);
    ctx.insert("has_closed".into(), json!(has_closed));
    ctx.insert("show_all".into(), json!(bq.all()));
    ctx.insert("mine".into(), json!(bq.mine()));
    ctx.insert("recent_days".into(), json!(RECENT_DAYS));
    page(StatusCode::OK, "kanban.html", Json::Object(ctx))
}

/// `GET /e/{entity}/kanban/totals`: each column's count and total, for the board's script to
/// show after a card moved (`{"columns": [{"value", "count", "total"}]}`).
pub async fn kanban_totals(
    State(state): State<AppState>,
    UiCaller(caller): UiCaller,
    Path(entity): Path<String>,
    Query(bq): Query<BoardQuery>,
) -> Response {
    let e = match entity_or_page(&state, &caller, &entity) {
        Ok(e) => e,
        Err(r) => return r,
    };
    let locale = locale_of(&caller);
    let Some(field) = e.kanban_field.clone().and_then(|k| e.field(&k).cloned()) else {
        return (StatusCode::NOT_FOUND, axum::Json(json!({"columns": []}))).into_response();
    };
    let (sums, recent) = match board_figures(&state, &caller, &e, &field, &bq) {
        Ok(f) => f,
        Err(err) => return crate::error::ApiError::from(err).into_response(),
    };
    let columns: Vec<Json> = (field.def.options.iter())
        .map(|o| {
            let figs = recent.as_ref().filter(|_| closed(o)).unwrap_or(&sums);
            column_json(locale, &o.value, figs)
        })
        .collect();
    axum::Json(json!({"columns": columns})).into_response()
}

/// An amount as the reader writes it: in Chinese, amounts of 10,000 and more in 万 (`30万`,
/// `12.5万`, up to two decimals), smaller ones and every English amount with thousands
/// separators and two decimals (`300,000.00`). `text` is a decimal as the store writes it.
pub fn money_text(locale: Locale, text: &str) -> String {
    let Some(cents) = cents_of(text) else {
        return text.to_string();
    };
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    if locale == Locale::ZhCn && abs >= 1_000_000 {
        // Hundredths of 万, rounded half up.
        let wan = (abs + 5_000) / 10_000;
        let (whole, frac) = (wan / 100, wan % 100);
        let frac = format!("{frac:02}");
        let frac = frac.trim_end_matches('0');
        let dot = if frac.is_empty() { "" } else { "." };
        return format!("{sign}{}{dot}{frac}万", grouped(whole));
    }
    format!("{sign}{}.{:02}", grouped(abs / 100), abs % 100)
}

/// A decimal text as hundredths, rounded half away from zero; none if it is not a number.
fn cents_of(text: &str) -> Option<i128> {
    let t = text.trim();
    let (neg, t) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t),
    };
    let (int, frac) = t.split_once('.').unwrap_or((t, ""));
    if int.is_empty() && frac.is_empty()
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let whole: i128 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let digits: Vec<u32> = frac.bytes().map(|b| u32::from(b - b'0')).collect();
    let first_two = digits.first().copied().unwrap_or(0) * 10 + digits.get(1).copied().unwrap_or(0);
    let round_up = digits.get(2).is_some_and(|d| *d >= 5);
    let cents = whole.checked_mul(100)? + i128::from(first_two) + i128::from(round_up);
    Some(if neg { -cents } else { cents })
}

/// A whole number with `,` between thousands.
fn grouped(n: u128) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_in_either_notation() {
        assert_eq!(money_text(Locale::ZhCn, "300000.00"), "30万");
        assert_eq!(money_text(Locale::ZhCn, "125000"), "12.5万");
        assert_eq!(money_text(Locale::ZhCn, "123456.78"), "12.35万");
        assert_eq!(money_text(Locale::ZhCn, "10000"), "1万");
        assert_eq!(money_text(Locale::ZhCn, "12345678900"), "1,234,567.89万");
        assert_eq!(money_text(Locale::ZhCn, "8500.5"), "8,500.50");
        assert_eq!(money_text(Locale::En, "300000.00"), "300,000.00");
        assert_eq!(money_text(Locale::En, "0"), "0.00");
        assert_eq!(money_text(Locale::En, "-1234.567"), "-1,234.57");
        assert_eq!(money_text(Locale::En, "abc"), "abc");
    }
}
