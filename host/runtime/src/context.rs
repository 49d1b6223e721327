//! Who a plugin call is for: the runtime's view of the caller (the WIT `call-context` and the
//! SDK's `Context` are the plugin's view of the same thing).

use qingguan_core::{Access, Locale, Store, UserInfo};

/// The user a call acts for.
#[derive(Debug, Clone)]
pub enum CallUser {
    /// Nobody (install, upgrade, jobs).
    None,
    /// A user known by id only (hooks); resolved when the plugin asks.
    Id(i64),
    /// A signed-in user (routes, actions, queries from the API).
    Known(Box<(Access, UserInfo)>),
}

impl CallUser {
    /// The user id, if any.
    pub fn id(&self) -> Option<i64> {
        match self {
            CallUser::None => None,
            CallUser::Id(id) => Some(*id),
            CallUser::Known(k) => Some(k.1.id),
        }
    }
}

/// Who a call is for, in which language, and which plugin (if any) asked for it.
#[derive(Debug, Clone)]
pub struct CallCtx {
    /// The user, if a user's request caused the call.
    pub user: CallUser,
    /// Locale of the call.
    pub locale: Locale,
    /// The plugin whose `ask` caused the call.
    pub asked_by: Option<String>,
}

impl CallCtx {
    /// A call on nobody's behalf (install, jobs).
    pub fn system() -> CallCtx {
        CallCtx {
            user: CallUser::None,
            locale: Locale::En,
            asked_by: None,
        }
    }

    /// A call for a signed-in user whose access and identity the caller already holds; in
    /// the user's chosen language, else their role's.
    pub fn signed_in(access: Access, user: UserInfo) -> CallCtx {
        CallCtx {
            locale: user.locale.unwrap_or(access.locale),
            user: CallUser::Known(Box::new((access, user))),
            asked_by: None,
        }
    }

    /// A call made by a user (their role, team and language), as a request from them would.
    pub fn for_user(store: &Store, user_id: i64) -> qingguan_core::Result<CallCtx> {
        let (access, info) = store.access_for(user_id)?;
        Ok(CallCtx::signed_in(access, info))
    }
}
