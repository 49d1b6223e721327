//! Who is calling: the one notion of the signed-in user that the API, the UI and calls into
//! plugins share (a plugin sees the same caller as its `CallCtx`).

use qingguan_core::{Access, Locale, UserInfo};
use qingguan_runtime::CallCtx;
use std::sync::Arc;

/// A signed-in user of one request: shared, not copied, by everything that handles the
/// request (a clone is a reference count).
#[derive(Debug, Clone)]
pub struct Caller(Arc<CallerInfo>);

/// What a [`Caller`] holds.
#[derive(Debug, Clone)]
pub struct CallerInfo {
    /// What the caller may do.
    pub access: Access,
    /// Who the caller is.
    pub user: UserInfo,
    /// The session's anti-CSRF token.
    pub csrf: String,
    /// The session token (or the API token).
    pub token: String,
    /// The scopes of the API token the caller came with (`None`: a session).
    pub token_scopes: Option<Vec<String>>,
}

impl From<CallerInfo> for Caller {
    fn from(info: CallerInfo) -> Self {
        Caller(Arc::new(info))
    }
}

impl Caller {
    /// The caller's own copy to change (copied if shared).
    pub fn make_mut(&mut self) -> &mut CallerInfo {
        Arc::make_mut(&mut self.0)
    }
}

impl std::ops::Deref for Caller {
    type Target = CallerInfo;
    fn deref(&self) -> &CallerInfo {
        &self.0
    }
}

impl CallerInfo {
    /// The caller's language: their choice, else their role's default.
    pub fn locale(&self) -> Locale {
        self.user.locale.unwrap_or(self.access.locale)
    }

    /// The form token of one plugin's pages: derived from the session's CSRF token and the
    /// plugin id, accepted only by that plugin's own form posts — so a plugin page never
    /// holds a token that another plugin's or the host's own forms would take.
    pub fn plugin_form_token(&self, plugin: &str) -> String {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(format!("qingguan plugin form\n{plugin}\n{}", self.csrf));
        digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
    }

    /// The caller as a plugin call sees them.
    pub fn call_ctx(&self) -> CallCtx {
        CallCtx::signed_in(self.access.clone(), self.user.clone())
    }
}
