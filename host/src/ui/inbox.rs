//! The inbox: a person's notifications in their language, newest first, each a link to its
//! record; opening the inbox's "mark all read" clears the count in the header. The same words
//! go out by e-mail when mail is set up.

use crate::caller::Caller;
use crate::state::AppState;
use crate::ui::extract::{SignedForm, UiCaller};
use crate::ui::render::{
    base, entity_label, local_time_text, locale_of, page, state_label, t, title_of,
};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use qingguan_core::Notification;
use serde_json::{json, Value as Json};

/// What a notification says, in the reader's language.
pub fn notification_text(state: &AppState, caller: &Caller, n: &Notification) -> String {
    let locale = locale_of(caller);
    let p = |k: &str| {
        n.params
            .get(k)
            .and_then(Json::as_str)
            .unwrap_or("")
            .to_string()
    };
    if n.kind == "plugin" {
        // A plugin's own words, in the reader's language (English when it gave no Chinese).
        let zh = p("zh");
        let text = if locale == qingguan_core::Locale::ZhCn && !zh.is_empty() {
            zh
        } else {
            p("en")
        };
        let plugin = p("plugin");
        let name = state
            .plugins()
            .active(&plugin)
            .and_then(|m| m.manifest.name.as_ref().map(|l| l.get(locale).to_string()))
            .unwrap_or(plugin);
        // Marked as a plugin's words, so no plugin passes for the system itself.
        return format!(
            "{}: {text}",
            t(locale, "from_plugin").replace("{name}", &name)
        );
    }
    let entity = p("entity");
    let label = entity_label(state, caller, &entity);
    // The title as the reader may see it now (`#id` for a record they cannot read).
    let title = n
        .params
        .get("id")
        .and_then(Json::as_i64)
        .map(|id| title_of(state, caller, &entity, id))
        .unwrap_or_default();
    let what = format!("{label} · {title}");
    let to = state_label(state, caller, &entity, Some(&p("to")));
    let by = n
        .params
        .get("by")
        .and_then(Json::as_i64)
        .map(|u| title_of(state, caller, "user", u))
        .unwrap_or_default();
    let comment = p("comment");
    let tail = if comment.is_empty() {
        String::new()
    } else {
        format!(" — {comment}")
    };
    match n.kind.as_str() {
        "approval_waiting" => format!("{what}: {} → {to}", t(locale, "note_waiting")),
        "activity_overdue" => format!("{what}: {} {}", t(locale, "overdue_since"), p("due_on")),
        "mention" => format!(
            "{what}: {by} {} — {}",
            t(locale, "mentioned_you"),
            p("subject")
        ),
        "approval_approved" => format!("{what}: {by} {} → {to}{tail}", t(locale, "approved")),
        "approval_rejected" => format!(
            "{what}: {by} {} ({} {to}){tail}",
            t(locale, "rejected"),
            t(locale, "asked_for")
        ),
        other => format!("{what}: {other}"),
    }
}

/// `GET /inbox`.
pub async fn inbox(State(state): State<AppState>, UiCaller(caller): UiCaller) -> Response {
    let items: Vec<Json> = state
        .store()
        .notifications(&caller.access, false)
        .unwrap_or_default()
        .iter()
        .map(|n| {
            json!({"text": notification_text(&state, &caller, n), "href": n.link,
                   "at": local_time_text(&state, &caller, &n.at), "read": n.read})
        })
        .collect();
    let mut ctx = base(&state, &caller, "/inbox");
    ctx.insert("items".into(), json!(items));
    // Who decides my approvals while I am away.
    let locale = locale_of(&caller);
    let current = state.store().delegation(&caller.access).ok().flatten();
    let people: Vec<Json> = state
        .store()
        .list(
            &caller.access,
            "user",
            &qingguan_core::ListQuery {
                limit: 200,
                ..Default::default()
            },
        )
        .map(|p| p.items)
        .unwrap_or_default()
        .iter()
        .filter(|u| u.id != caller.user.id && u.get("active") != &qingguan_core::Value::Bool(false))
        .map(|u| {
            json!({"id": u.id, "name": u.get("display_name").to_text(),
                   "selected": current.as_ref().is_some_and(|d| d.delegate == u.id)})
        })
        .collect();
    ctx.insert(
        "delegation".into(),
        json!({
            "current": current.as_ref().map(|d| json!({
                "who": title_of(&state, &caller, "user", d.delegate), "until": d.until})),
            "people": people,
            "W": {"title": t(locale, "delegation_title"), "help": t(locale, "delegation_help"),
                  "to": t(locale, "delegation_to"), "until": t(locale, "delegation_until"),
                  "set": t(locale, "delegation_set"), "end": t(locale, "delegation_end"),
                  "now": t(locale, "delegation_now")},
        }),
    );
    ctx.insert(
        "choices".into(),
        crate::ui::notify_choices::context(&state, locale_of(&caller), caller.user.id),
    );
    // The choice to get them by e-mail too, when the server sends mail.
    if state.mailer().is_some() {
        let on = state
            .store()
            .get(&qingguan_core::Access::system(), "user", caller.user.id)
            .map(|u| u.get("mail_notifications") != &qingguan_core::Value::Bool(false))
            .unwrap_or(true);
        let locale = locale_of(&caller);
        ctx.insert(
            "mail".into(),
            json!({"on": on, "label": t(locale, if on { "mail_notifications" } else { "mail_notifications_off" }),
                   "turn": t(locale, if on { "mail_off" } else { "mail_on" })}),
        );
    }
    page(StatusCode::OK, "inbox.html", Json::Object(ctx))
}

/// A delegation a form posts.
#[derive(Debug, serde::Deserialize)]
pub struct DelegationForm {
    #[serde(default)]
    delegate: String,
    #[serde(default)]
    until: String,
}

/// `POST /inbox/delegation`: someone decides my approvals until a day; `POST
/// /inbox/delegation/end` ends it. A refusal (oneself, a past day) shows the inbox with why.
pub async fn set_delegation(
    State(state): State<AppState>,
    SignedForm { caller, form }: SignedForm<DelegationForm>,
) -> Response {
    let access = caller.access.clone();
    let Ok(delegate) = form.delegate.parse::<i64>() else {
        return Redirect::to("/inbox").into_response();
    };
    let until = form.until.clone();
    match state
        .blocking(move |s| s.set_delegation(&access, Some((delegate, &until))))
        .await
    {
        Ok(()) => Redirect::to("/inbox").into_response(),
        Err(err) => {
            let locale = locale_of(&caller);
            let text = crate::ui::refusal::form_refusal(locale, &err);
            crate::ui::render::message(
                &state,
                &caller,
                err.status,
                &t(locale, "delegation_title"),
                &text,
            )
        }
    }
}

/// `POST /inbox/delegation/end`.
pub async fn end_delegation(
    State(state): State<AppState>,
    SignedForm { caller, form: _f }: SignedForm<serde::de::IgnoredAny>,
) -> Response {
    let access = caller.access.clone();
    let _ = state
        .blocking(move |s| s.set_delegation(&access, None))
        .await;
    Redirect::to("/inbox").into_response()
}

/// The e-mail choice a form posts.
#[derive(Debug, serde::Deserialize)]
pub struct MailChoice {
    #[serde(default)]
    on: String,
}

/// `POST /inbox/mail`: notifications by e-mail too (`on=1`), or not.
pub async fn mail_choice(
    State(state): State<AppState>,
    SignedForm { caller, form }: SignedForm<MailChoice>,
) -> Response {
    let id = caller.user.id;
    let on = form.on == "1";
    let _ = state
        .blocking(move |s| s.set_user_mail_notifications(id, on))
        .await;
    Redirect::to("/inbox").into_response()
}

/// `POST /inbox/read`: marks everything read.
pub async fn mark_read(
    State(state): State<AppState>,
    SignedForm { caller, form: _f }: SignedForm<serde::de::IgnoredAny>,
) -> Response {
    let access = caller.access.clone();
    let _ = state
        .blocking(move |s| s.mark_notifications_read(&access, None))
        .await;
    Redirect::to("/inbox").into_response()
}

/// Mails notifications to their people (those with an e-mail address), worded in each
/// reader's language with a link to the record, when mail is set up; runs until the process
/// ends, looking every `poll`. A message that cannot be sent is not retried (the inbox keeps
/// it).
pub async fn mail_notifications(state: AppState, poll: std::time::Duration) {
    if state.mailer().is_none() {
        return;
    }
    let mut tick = tokio::time::interval(poll);
    loop {
        tick.tick().await;
        let st = state.clone();
        // One host mails at a time (several may serve one database); if it stops, another
        // takes over when its lease runs out.
        let hold = (poll * 3).max(std::time::Duration::from_secs(60));
        let _ = tokio::task::spawn_blocking(move || mail_pending(&st, hold)).await;
    }
}

/// Whether this host (still) holds the mailing lease, renewed for `hold`.
fn mailing_here(state: &AppState, hold: std::time::Duration) -> bool {
    match state.store().hold_lease("mail", hold) {
        Ok(held) => held,
        Err(e) => {
            tracing::warn!(error = %e, "cannot take the mailing lease");
            false
        }
    }
}

fn mail_pending(state: &AppState, hold: std::time::Duration) {
    let Some(mailer) = state.mailer() else { return };
    if !mailing_here(state, hold) {
        return;
    }
    let pending = match state.store().unmailed_notifications(50) {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(error = %e, "reading notifications to mail failed");
            return;
        }
    };
    let base = state.config().public_url.clone().unwrap_or_default();
    let mut done = Vec::new();
    for u in pending {
        // Renewed before every message: a slow mail server never lets the lease run out
        // while this host still sends.
        if !mailing_here(state, hold) {
            break;
        }
        done.push(u.notification.id);
        // Worded as the reader would see it in the inbox: their language, their view of titles.
        let Ok((access, user)) = state.store().access_for(u.user_id) else {
            continue;
        };
        let reader = Caller::from(crate::caller::CallerInfo {
            access,
            user,
            csrf: String::new(),
            token: String::new(),
            token_scopes: None,
        });
        let text = notification_text(state, &reader, &u.notification);
        let locale = locale_of(&reader);
        let subject = format!("[{}] {text}", t(locale, "app"));
        let body = format!("{text}\n\n{base}{}\n", u.notification.link);
        if let Err(e) = mailer.send(&u.email, &subject, &body) {
            tracing::warn!(error = %e, notification = u.notification.id, "mailing a notification failed");
        }
    }
    if let Err(e) = state.store().mark_mailed(&done) {
        tracing::warn!(error = %e, "marking notifications mailed failed");
    }
}
