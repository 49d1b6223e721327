//! Who is calling and in which language: the signed-in user, whether they run appraisals
//! (HR), and the zh-CN/en text helper.

use qingguan_plugin_sdk::{host, Error, Result};

/// The caller of the current call.
#[derive(Debug, Clone)]
pub struct Caller {
    /// User id (none for jobs and the host).
    pub id: Option<i64>,
    /// Runs cycles and sees everyone (a role in the `hr_roles` configuration).
    pub hr: bool,
    /// Chinese pages.
    pub zh: bool,
}

/// The caller.
pub fn me() -> Caller {
    let ctx = host::context();
    let role = ctx.role.clone().unwrap_or_default();
    let hr_roles = host::config()["hr_roles"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect::<Vec<_>>()
        })
        .unwrap_or_else(|| vec!["hr".into(), "admin".into()]);
    Caller {
        id: ctx.user_id,
        hr: ctx.user_id.is_none() || hr_roles.contains(&role),
        zh: ctx.locale == "zh-CN",
    }
}

impl Caller {
    /// English or Chinese.
    pub fn t<'a>(&self, en: &'a str, zh: &'a str) -> &'a str {
        if self.zh {
            zh
        } else {
            en
        }
    }

    /// Fails unless the caller runs appraisals.
    pub fn require_hr(&self) -> Result<()> {
        if self.hr {
            Ok(())
        } else {
            Err(Error::Denied(
                self.t("only HR runs appraisal cycles", "只有人事可以管理考核周期")
                    .into(),
            ))
        }
    }

    /// The user id, or an error for calls without a user.
    pub fn user(&self) -> Result<i64> {
        self.id
            .ok_or_else(|| Error::Denied("sign in to use appraisal pages".into()))
    }
}
