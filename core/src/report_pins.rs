//! Reports a person pins to their own dashboard: at most six, in their order, each run for
//! them; a pin of a report they may no longer read is skipped, counts for nothing, and can
//! always be taken off.

use crate::db::OptionalExtension;
use crate::reports::Report;
use crate::store::Store;
use crate::{Access, Error, Reason, Result};

/// Most reports one person pins to their dashboard.
pub const MAX_PINS: usize = 6;

impl Store {
    /// The reports the caller pinned to their dashboard and may still read, in their order.
    pub fn pinned_reports(&self, access: &Access) -> Result<Vec<Report>> {
        let Some(me) = access.user_id else {
            return Ok(vec![]);
        };
        let ids: Vec<i64> = self.read(|c| {
            Ok(c.prepare_cached(
                "SELECT report_id FROM report_pins WHERE user_id = ?1 ORDER BY position, report_id",
            )?
            .query_map([me], |r| r.get(0))?
            .collect::<crate::db::DbResult<_>>()?)
        })?;
        Ok(ids
            .into_iter()
            .filter_map(|id| self.report(access, id).ok())
            .collect())
    }

    /// Pins a report the caller may read to their dashboard (at the end), or unpins it.
    pub fn pin_report(&self, access: &Access, id: i64, pinned: bool) -> Result<()> {
        let me = access
            .user_id
            .ok_or_else(|| Error::Forbidden("only a person has a dashboard".into()))?;
        if !pinned {
            // Unpinning needs no reading: a report no longer shared still leaves.
            return self.write(|c| {
                c.execute(
                    "DELETE FROM report_pins WHERE user_id = ?1 AND report_id = ?2",
                    (me, id),
                )?;
                Ok(())
            });
        }
        self.report(access, id)?;
        // Pins of reports the person may no longer read do not count (and go).
        let readable: Vec<String> = self
            .pinned_reports(access)?
            .iter()
            .map(|r| r.id.to_string())
            .collect();
        self.write(|c| {
            c.execute(
                &format!(
                    "DELETE FROM report_pins WHERE user_id = ?1 AND report_id NOT IN ({})",
                    if readable.is_empty() {
                        "0".to_string()
                    } else {
                        readable.join(",")
                    }
                ),
                [me],
            )?;
            let (n, last): (i64, i64) = c.query_row(
                "SELECT COUNT(*), COALESCE(MAX(position), 0) FROM report_pins WHERE user_id = ?1",
                [me],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            let already: bool = c
                .query_row(
                    "SELECT 1 FROM report_pins WHERE user_id = ?1 AND report_id = ?2",
                    (me, id),
                    |_| Ok(true),
                )
                .optional()?
                .unwrap_or(false);
            if already {
                return Ok(());
            }
            if n as usize >= MAX_PINS {
                return Err(Error::conflict_on(
                    "pinned",
                    Reason::TooMany { max: MAX_PINS },
                ));
            }
            c.execute(
                "INSERT INTO report_pins (user_id, report_id, position) VALUES (?1, ?2, ?3)",
                (me, id, last + 1),
            )?;
            Ok(())
        })
    }

    /// Moves a pinned report one place earlier on the caller's dashboard.
    pub fn move_pin_up(&self, access: &Access, id: i64) -> Result<()> {
        let me = access
            .user_id
            .ok_or_else(|| Error::Forbidden("only a person has a dashboard".into()))?;
        self.write(|c| {
            let order: Vec<i64> = c
                .prepare(
                    "SELECT report_id FROM report_pins WHERE user_id = ?1 ORDER BY position, report_id",
                )?
                .query_map([me], |r| r.get(0))?
                .collect::<crate::db::DbResult<_>>()?;
            let Some(at) = order.iter().position(|r| *r == id) else {
                return Err(Error::NotFound(format!("report {id} is not pinned")));
            };
            let mut order = order;
            if at > 0 {
                order.swap(at, at - 1);
            }
            for (position, report) in order.iter().enumerate() {
                c.execute(
                    "UPDATE report_pins SET position = ?3 WHERE user_id = ?1 AND report_id = ?2",
                    (me, report, position as i64 + 1),
                )?;
            }
            Ok(())
        })
    }
}
