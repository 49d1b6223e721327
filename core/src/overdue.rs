//! Follow-ups past their date: an activity (a call, a visit, a to-do…) that is not done and
//! whose due date has passed tells its owner once — kind `activity_overdue`, linked to the
//! activity — and again only if its date is moved and passes again, or it changes hands.
//! Only dates of the last [`LOOK_BACK_DAYS`] days count: the first run on an old install does
//! not flood everyone with years of forgotten to-dos (the dashboard lists them anyway).

use crate::store::Store;
use crate::{Locale, Result};
use chrono::NaiveDate;

/// Most notices written per pass (the next pass continues).
const BATCH: i64 = 500;
/// How far back a due date still tells its owner.
pub const LOOK_BACK_DAYS: i64 = 30;

impl Store {
    /// The install's today: in its time zone, else UTC+8 when its language is Chinese, else UTC.
    pub fn install_today(&self) -> Result<NaiveDate> {
        let minutes = match self.time_zone()? {
            Some(m) => m,
            None if self.default_locale()? == Locale::ZhCn => 8 * 60,
            None => 0,
        };
        let offset = chrono::FixedOffset::east_opt(minutes * 60)
            .unwrap_or(chrono::FixedOffset::east_opt(0).expect("UTC"));
        Ok(chrono::Utc::now().with_timezone(&offset).date_naive())
    }

    /// Tells owners of open activities due before `today` that they are overdue (each due date
    /// once, active owners only); returns how many were told.
    pub fn notify_overdue_activities(&self, today: NaiveDate) -> Result<usize> {
        let since = (today - chrono::Duration::days(LOOK_BACK_DAYS))
            .format("%Y-%m-%d")
            .to_string();
        let today = today.format("%Y-%m-%d").to_string();
        self.write(|c| {
            let due: Vec<(i64, i64, String)> = c
                .prepare_cached(
                    "SELECT a.id, a.owner, a.c_due_on FROM r_activity a
                     JOIN r_user u ON u.id = a.owner AND (u.c_active IS NULL OR u.c_active <> 0)
                     WHERE a.c_due_on < ?1 AND a.c_due_on >= ?3
                       AND (a.c_done IS NULL OR a.c_done = 0)
                       AND NOT EXISTS (
                         SELECT 1 FROM notifications n
                         WHERE n.kind = 'activity_overdue' AND n.link = '/e/activity/' || a.id
                           AND n.user_id = a.owner
                           AND json_extract(n.params, '$.due_on') = a.c_due_on)
                       AND NOT EXISTS (
                         SELECT 1 FROM settings s
                         WHERE s.key = 'notify_user:' || a.owner
                           AND json_extract(s.value, '$.overdue') = 'off')
                     ORDER BY a.id LIMIT ?2",
                )?
                .query_map((&today, BATCH, &since), |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })?
                .collect::<crate::db::DbResult<_>>()?;
            for (id, owner, due_on) in &due {
                let params = serde_json::json!({"entity": "activity", "id": id, "due_on": due_on});
                crate::notifications::notify(
                    c,
                    *owner,
                    "activity_overdue",
                    &params,
                    &format!("/e/activity/{id}"),
                )?;
            }
            Ok(due.len())
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::{Access, NewUser, Store, StoreOptions};
    use serde_json::json;

    #[test]
    fn each_due_date_once_and_only_to_active_owners() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(StoreOptions::new(dir.path().join("q.db"))).unwrap();
        let amy = s
            .create_user(
                &Access::system(),
                &NewUser {
                    username: "amy".into(),
                    display_name: None,
                    password: "password1".into(),
                    invite: false,
                    role: "sales".into(),
                    team: Some("east".into()),
                    manager: None,
                    email: None,
                    locale: None,
                },
                false,
            )
            .unwrap();
        let access = s.access_for(amy.id).unwrap().0;
        let todo = |due: &str| {
            let fields = json!({"kind": "todo", "subject": "call back", "due_on": due});
            s.create(&access, "activity", fields.as_object().unwrap())
                .unwrap()
        };
        let late = todo("2026-03-01");
        todo("2026-01-10"); // more than 30 days ago: the dashboard's business, not a notice
        todo("2026-03-02"); // due on "today": not yet overdue
        let today = chrono::NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
        assert_eq!(s.notify_overdue_activities(today).unwrap(), 1);
        assert_eq!(s.notify_overdue_activities(today).unwrap(), 0, "once");
        let tomorrow = today.succ_opt().unwrap();
        assert_eq!(
            s.notify_overdue_activities(tomorrow).unwrap(),
            1,
            "the second"
        );
        // Moved to another past date: told again; its owner gone: nobody is.
        let moved = json!({"due_on": "2026-02-01"});
        s.update(
            &access,
            "activity",
            late.id,
            late.version,
            moved.as_object().unwrap(),
        )
        .unwrap();
        let set_active = |on: bool| {
            let user = s.get(&Access::system(), "user", amy.id).unwrap();
            let patch = json!({ "active": on });
            s.update(
                &Access::system(),
                "user",
                amy.id,
                user.version,
                patch.as_object().unwrap(),
            )
            .unwrap();
        };
        set_active(false);
        assert_eq!(
            s.notify_overdue_activities(tomorrow).unwrap(),
            0,
            "inactive"
        );
        set_active(true);
        assert_eq!(s.notify_overdue_activities(tomorrow).unwrap(), 1, "moved");
        assert_eq!(s.notify_overdue_activities(tomorrow).unwrap(), 0);
    }
}
