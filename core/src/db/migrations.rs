//! Embedded, numbered migrations, tracked with `PRAGMA user_version`.

use crate::{Error, Result};
use rusqlite::Connection;

/// `(version, sql)` in order. Never edit a released entry; append a new one.
const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../../migrations/0001_init.sql")),
    (2, include_str!("../../migrations/0002_plugins.sql")),
    (3, include_str!("../../migrations/0003_overlay_options.sql")),
    (4, include_str!("../../migrations/0004_saved_views.sql")),
    (5, include_str!("../../migrations/0005_plugin_kv_usage.sql")),
    (6, include_str!("../../migrations/0006_plugin_jobs.sql")),
    (7, include_str!("../../migrations/0007_field_defaults.sql")),
    (8, include_str!("../../migrations/0008_workflows.sql")),
    (9, include_str!("../../migrations/0009_notifications.sql")),
    (10, include_str!("../../migrations/0010_imports.sql")),
    (11, include_str!("../../migrations/0011_api_tokens.sql")),
    (12, include_str!("../../migrations/0012_webhooks.sql")),
    (13, include_str!("../../migrations/0013_invitations.sql")),
    (14, include_str!("../../migrations/0014_attachments.sql")),
    (
        15,
        include_str!("../../migrations/0015_notification_links.sql"),
    ),
    (16, include_str!("../../migrations/0016_audit_log.sql")),
    (17, include_str!("../../migrations/0017_sequences.sql")),
    (18, include_str!("../../migrations/0018_reports.sql")),
    (19, include_str!("../../migrations/0019_report_pins.sql")),
    (20, include_str!("../../migrations/0020_merges.sql")),
    (
        21,
        include_str!("../../migrations/0021_undo_in_background.sql"),
    ),
    (
        22,
        include_str!("../../migrations/0022_attachment_fields.sql"),
    ),
];

/// Applies every migration newer than the database, each in its own transaction.
pub(crate) fn run(conn: &mut Connection) -> Result<()> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let newest = MIGRATIONS.last().map(|m| m.0).unwrap_or(0);
    if current > newest {
        return Err(Error::Database(format!(
            "database schema version {current} is newer than this build supports ({newest}); \
             upgrade qingguan"
        )));
    }
    for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > current) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
        tracing::info!(version, "applied database migration");
    }
    Ok(())
}
