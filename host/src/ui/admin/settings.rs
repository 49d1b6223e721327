//! Install settings: the default language (for users who chose none and whose browser names
//! no language Qingguan speaks), the time zone times are shown in, as a UTC offset, and the
//! company currency (of currency amounts whose field names none).

use super::{admin_only, ErrorQuery};
use crate::caller::Caller;
use crate::state::AppState;
use crate::ui::admin::AdminForm;
use crate::ui::extract::UiCaller;
use crate::ui::render::{base, locale_of, page, t};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use qingguan_core::currency::{currency, CURRENCIES, DEFAULT_CURRENCY};
use qingguan_core::{parse_utc_offset, Locale, Reason};
use serde::Deserialize;
use serde_json::{json, Map, Value as Json};

/// A UTC offset in minutes as the form shows it (`+08:00`).
fn offset_text(minutes: i32) -> String {
    let sign = if minutes < 0 { '-' } else { '+' };
    format!("{sign}{:02}:{:02}", minutes.abs() / 60, minutes.abs() % 60)
}

/// The settings form with `values` (what is stored, or what was typed) and the reasons
/// beside the inputs.
fn settings_page(
    state: &AppState,
    caller: &Caller,
    (locale_value, zone_value, currency_value): (&str, &str, &str),
    errors: Map<String, Json>,
    flash: Option<String>,
    status: StatusCode,
) -> Response {
    let locale = locale_of(caller);
    let languages: Vec<Json> = [(Locale::En, "English"), (Locale::ZhCn, "中文（简体）")]
        .iter()
        .map(|(l, name)| json!({"value": l.as_str(), "label": name, "selected": l.as_str() == locale_value}))
        .collect();
    let mut ctx = base(state, caller, "/admin/settings");
    ctx.insert("languages".into(), json!(languages));
    ctx.insert("time_zone".into(), json!(zone_value));
    let currencies: Vec<Json> = CURRENCIES
        .iter()
        .map(|c| {
            let name = if locale == Locale::ZhCn { c.name.1 } else { c.name.0 };
            json!({"value": c.code, "label": format!("{} · {name}", c.code), "selected": c.code == currency_value})
        })
        .collect();
    ctx.insert("currencies".into(), json!(currencies));
    if !errors.is_empty() {
        ctx.insert("error".into(), json!(t(locale, "fix_errors")));
    }
    ctx.insert("errors".into(), Json::Object(errors));
    ctx.insert("flash".into(), json!(flash));
    page(status, "admin_settings.html", Json::Object(ctx))
}

/// `GET /admin/settings`.
pub async fn settings(
    State(state): State<AppState>,
    UiCaller(caller): UiCaller,
    Query(q): Query<ErrorQuery>,
) -> Response {
    if let Err(r) = admin_only(&state, &caller) {
        return r;
    }
    let store = state.store();
    let current = store.default_locale().unwrap_or_default();
    let zone = store
        .time_zone()
        .ok()
        .flatten()
        .map(offset_text)
        .unwrap_or_default();
    let currency = store.company_currency().unwrap_or(DEFAULT_CURRENCY);
    let flash = (q.done.as_deref() == Some("saved")).then(|| t(locale_of(&caller), "saved"));
    let status = StatusCode::OK;
    settings_page(
        &state,
        &caller,
        (current.as_str(), &zone, currency),
        Map::new(),
        flash,
        status,
    )
}

#[derive(Debug, Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    locale: String,
    #[serde(default)]
    time_zone: String,
    #[serde(default)]
    currency: String,
}

/// `POST /admin/settings`: both settings checked first, then written together — or neither,
/// with the form again and a reason beside each refused input.
pub async fn save_settings(
    State(state): State<AppState>,
    AdminForm { caller, form: f }: AdminForm<SettingsForm>,
) -> Response {
    let locale = locale_of(&caller);
    let mut errors = Map::new();
    let language = Locale::parse(f.locale.trim()).filter(|l| l.as_str() == f.locale.trim());
    if language.is_none() {
        errors.insert("locale".into(), json!(t(locale, "choose_language")));
    }
    let zone = Some(f.time_zone.trim())
        .filter(|z| !z.is_empty())
        .and_then(parse_utc_offset);
    if zone.is_none() {
        errors.insert("time_zone".into(), json!(t(locale, "bad_time_zone")));
    }
    // A form without the currency (an older page) keeps the one set.
    let currency = match f.currency.trim() {
        "" => state.store().company_currency().ok(),
        code => currency(code).map(|c| c.code),
    };
    if currency.is_none() {
        let why = Reason::UnknownCurrency {
            code: f.currency.trim().chars().take(12).collect(),
        };
        errors.insert("currency".into(), json!(why.render(locale)));
    }
    let (Some(language), Some(zone), Some(currency)) = (language, zone, currency) else {
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return settings_page(
            &state,
            &caller,
            (&f.locale, &f.time_zone, &f.currency),
            errors,
            None,
            status,
        );
    };
    let by = caller.user.id;
    let outcome = state
        .blocking(move |s| {
            s.transaction(|| {
                s.set_default_locale(language)?;
                s.set_time_zone(zone)?;
                s.set_company_currency(currency)?;
                s.audit(
                    Some(by),
                    "",
                    "settings_changed",
                    "",
                    &json!({"language": language.as_str(), "time_zone_minutes": zone, "currency": currency}),
                )
            })
        })
        .await;
    match outcome {
        Ok(()) => {
            // Users who chose no language carry the default in their cached session.
            state.forget_sessions();
            Redirect::to("/admin/settings?done=saved").into_response()
        }
        Err(e) => {
            let mut errors = Map::new();
            for (k, why) in &e.fields {
                errors.insert(k.clone(), json!(why.render(locale)));
            }
            if errors.is_empty() {
                errors.insert("time_zone".into(), json!(t(locale, "op_failed")));
            }
            let status = e.status;
            settings_page(
                &state,
                &caller,
                (&f.locale, &f.time_zone, &f.currency),
                errors,
                None,
                status,
            )
        }
    }
}
