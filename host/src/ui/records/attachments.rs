//! The attachments card of a record page: the record's files (images shown small, each a
//! link that downloads it or, for images and PDF, opens it), the form to attach one and a
//! button to remove one — for whoever may edit the record (`attachment_forms.rs` takes them).

use crate::caller::Caller;
use crate::state::AppState;
use crate::ui::render::{local_time_text, locale_of, t, title_of, words};
use qingguan_core::store::MAX_ATTACHMENT_BYTES;
use qingguan_core::Entity;
use serde_json::{json, Value as Json};

/// A size as people read it: bytes, KB or MB.
fn size_text(bytes: i64) -> String {
    match bytes {
        b if b < 1024 => format!("{b} B"),
        b if b < 1024 * 1024 => format!("{:.1} KB", b as f64 / 1024.0),
        b => format!("{:.1} MB", b as f64 / (1024.0 * 1024.0)),
    }
}

/// The card for record `id` of `e` (its files the caller may see), or `None` when the caller
/// cannot read the record.
pub(super) fn card(state: &AppState, caller: &Caller, e: &Entity, id: i64) -> Option<Json> {
    let files = state
        .store()
        .attachments(&caller.access, &e.name, id)
        .ok()?;
    let perm = caller.access.permission(&e.name);
    let may_add = perm.update && !e.retired && e.name != "user";
    let items: Vec<Json> = files
        .iter()
        .map(|a| {
            // Whoever attached it, or an administrator, may remove it.
            let may_remove = may_add
                && (caller.access.is_admin()
                    || (a.created_by.is_some() && a.created_by == caller.access.user_id));
            let by = a
                .created_by
                .map(|u| title_of(state, caller, "user", u))
                .unwrap_or_default();
            json!({
                "id": a.id, "name": a.name, "size": size_text(a.size),
                "image": a.content_type.starts_with("image/"), "inline": a.inline(),
                "by": by, "at": local_time_text(state, caller, &a.created_at),
                "may_remove": may_remove,
            })
        })
        .collect();
    let locale = locale_of(caller);
    Some(json!({
        "items": items,
        "may_add": may_add,
        "limit": t(locale, "attachment_limit").replace("{limit}", &size_text(MAX_ATTACHMENT_BYTES as i64)),
        "W": words(locale, &["attachments", "attachment_file", "attachment_add", "attachment_remove", "attachment_confirm_remove", "attachment_none"]),
    }))
}
