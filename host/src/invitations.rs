//! Inviting a user: an invitation made in the core, its link mailed to the user in their
//! language when mail is set up and they have an e-mail address — and the link given back
//! either way, for the administrator to pass on when it could not be mailed.

use crate::state::AppState;
use qingguan_core::{Access, Error, Locale};
use serde::Serialize;

/// What inviting did.
#[derive(Debug, Clone, Serialize)]
pub struct Invited {
    /// The one-time link (`/welcome/<token>`, with the public address when configured).
    pub link: String,
    /// Whether it was mailed.
    pub mailed: bool,
    /// Why it was not, when mail is set up but sending failed or there is no address.
    pub mail_error: Option<String>,
}

/// One invited person of an import.
#[derive(Debug, Clone, Serialize)]
pub struct InvitedUser {
    pub user_id: i64,
    pub username: String,
    #[serde(flatten)]
    pub invited: Invited,
}

/// Invites every user an import created (administrators); each gets a new link.
pub fn invite_imported(
    state: &AppState,
    access: &Access,
    import: i64,
) -> Result<Vec<InvitedUser>, Error> {
    let store = state.store();
    let log = store.import_log(access, import)?;
    if log.entity != "user" {
        return Err(Error::conflict("this import did not create users"));
    }
    let mut out = Vec::new();
    for id in store.imported_records(access, import)? {
        let Ok(user) = store.get(access, "user", id) else {
            continue;
        };
        // A deactivated (or since removed) user is not invited.
        let Ok(invited) = invite(state, access, id) else {
            continue;
        };
        out.push(InvitedUser {
            user_id: id,
            username: user.get("username").to_text(),
            invited,
        });
    }
    Ok(out)
}

/// Invites a user (administrators): see the module.
pub fn invite(state: &AppState, access: &Access, user_id: i64) -> Result<Invited, Error> {
    let store = state.store();
    let token = store.invite_user(access, user_id)?;
    let link = format!(
        "{}/welcome/{token}",
        state.config().public_url.as_deref().unwrap_or("")
    );
    let who = store.invitation(&token)?;
    let Some(mailer) = state.mailer() else {
        return Ok(Invited {
            link,
            mailed: false,
            mail_error: None,
        });
    };
    let Some(to) = who.email.clone() else {
        return Ok(Invited {
            link,
            mailed: false,
            mail_error: Some("the user has no e-mail address".into()),
        });
    };
    let locale = who
        .locale
        .unwrap_or(store.default_locale().unwrap_or(Locale::ZhCn));
    let name = if who.display_name.is_empty() {
        &who.username
    } else {
        &who.display_name
    };
    let (subject, body) = crate::mail::invitation(locale, name, &who.username, &link);
    match mailer.send(&to, &subject, &body) {
        Ok(()) => Ok(Invited {
            link,
            mailed: true,
            mail_error: None,
        }),
        Err(e) => {
            tracing::warn!(error = %e, user = user_id, "mailing an invitation failed");
            Ok(Invited {
                link,
                mailed: false,
                mail_error: Some(e),
            })
        }
    }
}
