//! What changed in the database that a host keeps in memory. Triggers bump a generation per
//! topic with every write to the tables behind it, whoever wrote (this host, another host on
//! the same database, the command line); a host reads the generations a few times a second
//! and reloads what moved (`Store::pick_up_changes`).

use super::Store;
use crate::db::Conn;
use crate::Result;
use std::collections::HashMap;

/// A kind of state hosts keep in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Topic {
    /// Entity types and fields (base and overlay).
    Schema,
    /// Roles with their permissions and field rules.
    Roles,
    /// Workflow definitions.
    Workflows,
    /// Webhook subscriptions.
    Webhooks,
    /// Install settings (time zone, currency, default language).
    Settings,
    /// Installed plugins and their kept versions.
    Plugins,
    /// Users, sessions, credentials and API tokens: what a signed-in caller is.
    People,
}

impl Topic {
    /// Every topic.
    pub const ALL: [Topic; 7] = [
        Topic::Schema,
        Topic::Roles,
        Topic::Workflows,
        Topic::Webhooks,
        Topic::Settings,
        Topic::Plugins,
        Topic::People,
    ];

    /// Its name in the table `changes`.
    pub fn name(self) -> &'static str {
        match self {
            Topic::Schema => "schema",
            Topic::Roles => "roles",
            Topic::Workflows => "workflows",
            Topic::Webhooks => "webhooks",
            Topic::Settings => "settings",
            Topic::Plugins => "plugins",
            Topic::People => "people",
        }
    }

    fn parse(name: &str) -> Option<Topic> {
        Topic::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The tables whose writes change it.
    fn tables(self) -> &'static [&'static str] {
        match self {
            Topic::Schema => &["schema_entities", "schema_fields"],
            Topic::Roles => &["roles"],
            Topic::Workflows => &["workflows"],
            Topic::Webhooks => &["webhooks"],
            Topic::Settings => &["settings"],
            Topic::Plugins => &["plugins", "plugin_versions"],
            Topic::People => &["sessions", "credentials", "api_tokens", "r_user"],
        }
    }

    /// The writes that change it. A new user, session or token changes no caller a host
    /// keeps, so people move only with updates and deletions.
    fn writes(self) -> &'static [&'static str] {
        match self {
            Topic::People => &["UPDATE", "DELETE"],
            _ => &["INSERT", "UPDATE", "DELETE"],
        }
    }
}

/// A column whose updates change nothing a host keeps, with the table's other columns (SQLite
/// compares those one by one): when an API token was last used, written about once a minute
/// per token in use.
fn unwatched(table: &str) -> Option<(&'static str, &'static [&'static str])> {
    (table == "api_tokens").then_some((
        "last_used_at",
        &[
            "id",
            "user_id",
            "name",
            "token_hash",
            "prefix",
            "scopes",
            "created_by",
            "created_at",
            "expires_at",
            "revoked_at",
        ],
    ))
}

/// Every (table, topic) pair a trigger watches.
fn watched() -> impl Iterator<Item = (&'static str, Topic)> {
    Topic::ALL
        .into_iter()
        .flat_map(|t| t.tables().iter().map(move |table| (*table, t)))
}

/// PostgreSQL's function behind every trigger: the topic is the trigger's argument.
const POSTGRES_FUNCTION: &str = "
CREATE OR REPLACE FUNCTION qg_changed() RETURNS trigger AS $fn$
BEGIN
    UPDATE changes SET generation = generation + 1 WHERE topic = TG_ARGV[0];
    RETURN NULL;
END
$fn$ LANGUAGE plpgsql;";

/// Makes the triggers that are missing. On PostgreSQL an update that changes nothing bumps
/// nothing; SQLite cannot compare whole rows, so there every update bumps (one host: at most
/// a reload of its own).
pub(crate) fn install_triggers(conn: &Conn) -> Result<()> {
    if conn.is_postgres() {
        let present: i64 = conn.query_row(
            "SELECT COUNT(*) FROM pg_trigger WHERE tgname IN ('qg_changed_w', 'qg_changed_u')",
            [],
            |r| r.get(0),
        )?;
        if present == 2 * watched().count() as i64 {
            return Ok(()); // made by an earlier start: remaking them would lock the tables
        }
        let mut sql = POSTGRES_FUNCTION.to_string();
        for (table, topic) in watched() {
            let events = match topic.writes().contains(&"INSERT") {
                true => "INSERT OR DELETE",
                false => "DELETE",
            };
            let changed = match unwatched(table) {
                Some((column, _)) => format!(
                    "(to_jsonb(OLD) - '{column}') IS DISTINCT FROM (to_jsonb(NEW) - '{column}')"
                ),
                None => "OLD.* IS DISTINCT FROM NEW.*".to_string(),
            };
            let topic = topic.name();
            // Dropped and made again, not replaced: PostgreSQL 13 has no CREATE OR REPLACE
            // TRIGGER.
            sql.push_str(&format!(
                "\nDROP TRIGGER IF EXISTS qg_changed_w ON {table};
                 CREATE TRIGGER qg_changed_w AFTER {events} ON {table}
                     FOR EACH ROW EXECUTE FUNCTION qg_changed('{topic}');
                 DROP TRIGGER IF EXISTS qg_changed_u ON {table};
                 CREATE TRIGGER qg_changed_u AFTER UPDATE ON {table}
                     FOR EACH ROW WHEN ({changed})
                     EXECUTE FUNCTION qg_changed('{topic}');"
            ));
        }
        conn.execute_batch_native(&sql)?;
        return Ok(());
    }
    let mut sql = String::new();
    for (table, topic) in watched() {
        for op in topic.writes() {
            let topic = topic.name();
            let when = match (unwatched(table), *op) {
                (Some((_, others)), "UPDATE") => format!(
                    "WHEN {}",
                    others
                        .iter()
                        .map(|c| format!("OLD.{c} IS NOT NEW.{c}"))
                        .collect::<Vec<_>>()
                        .join(" OR ")
                ),
                _ => String::new(),
            };
            sql.push_str(&format!(
                "CREATE TRIGGER IF NOT EXISTS qg_changed_{table}_{op} AFTER {op} ON {table} {when}
                 BEGIN UPDATE changes SET generation = generation + 1 WHERE topic = '{topic}'; END;\n",
                op = op.to_ascii_lowercase()
            ));
        }
    }
    conn.execute_batch(&sql)?;
    Ok(())
}

/// The generation of each topic as last picked up.
pub(crate) type Seen = HashMap<Topic, i64>;

impl Store {
    /// The generation of each topic now.
    fn generations(&self) -> Result<Vec<(Topic, i64)>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached("SELECT topic, generation FROM changes")?;
            let rows = stmt
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?
                .collect::<crate::db::DbResult<Vec<_>>>()?;
            Ok(rows
                .into_iter()
                .filter_map(|(name, g)| Topic::parse(&name).map(|t| (t, g)))
                .collect())
        })
    }

    /// The topics whose generation differs from the one last handled, with the new one.
    fn moved(&self) -> Result<Vec<(Topic, i64)>> {
        let now = self.generations()?;
        let seen = self.changes_seen.lock().unwrap_or_else(|e| e.into_inner());
        Ok(now
            .into_iter()
            .filter(|(t, g)| seen.get(t) != Some(g))
            .collect())
    }

    /// Reloads what changed in the database since changes were last handled (the first
    /// call: every topic) and says what it was. The store reloads its own caches — schema,
    /// roles, workflows, webhooks, settings —; plugins and people are the caller's to act on
    /// (the plugin runtime syncs, the host forgets its sessions), after which it calls
    /// [`Store::changes_handled`]: until then the same changes come again.
    ///
    /// The reload waits for this host's open transaction, if any, to end: a transaction that
    /// changed the schema keeps its own view of it until it commits.
    pub fn pick_up_changes(&self) -> Result<Changes> {
        let moved = self.moved()?;
        if !moved.is_empty() {
            let _writer = self.writer.lock();
            let has = |t: Topic| moved.iter().any(|(m, _)| *m == t);
            if has(Topic::Settings) {
                self.settings_cache
                    .write()
                    .unwrap_or_else(|e| e.into_inner())
                    .forget();
            }
            // The effective schema names the company currency in currency fields: once for
            // either.
            if has(Topic::Schema) || has(Topic::Settings) {
                self.refresh_schema()?;
            }
            if has(Topic::Roles) {
                self.read(|c| self.reload_roles(c))?;
            }
            if has(Topic::Workflows) {
                self.load_workflows()?;
            }
            if has(Topic::Webhooks) {
                self.load_webhooks()?;
            }
        }
        Ok(Changes { generations: moved })
    }

    /// Records that what [`Store::pick_up_changes`] returned has been acted on.
    pub fn changes_handled(&self, changes: &Changes) {
        let mut seen = self.changes_seen.lock().unwrap_or_else(|e| e.into_inner());
        for (topic, generation) in &changes.generations {
            seen.insert(*topic, *generation);
        }
    }
}

/// Changes picked up: the topics that moved, and how far.
#[derive(Debug, Default)]
pub struct Changes {
    generations: Vec<(Topic, i64)>,
}

impl Changes {
    /// The topics that moved.
    pub fn topics(&self) -> Vec<Topic> {
        self.generations.iter().map(|(t, _)| *t).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::Topic;
    use crate::store::tests::store;
    use crate::Store;

    /// The topics moved and not handled yet.
    fn pending(store: &Store) -> Vec<Topic> {
        store.moved().unwrap().into_iter().map(|(t, _)| t).collect()
    }

    /// Picks changes up and handles them at once.
    fn picked(store: &Store) -> Vec<Topic> {
        let changes = store.pick_up_changes().unwrap();
        store.changes_handled(&changes);
        changes.topics()
    }

    #[test]
    fn a_write_to_a_watched_table_moves_its_topic_and_no_other() {
        let (_place, store) = store();
        let first = picked(&store);
        assert_eq!(
            first.len(),
            Topic::ALL.len(),
            "the first call reloads everything"
        );
        assert!(picked(&store).is_empty());
        store.set_time_zone(480).unwrap();
        assert_eq!(pending(&store), vec![Topic::Settings]);
        let unhandled = store.pick_up_changes().unwrap();
        assert_eq!(unhandled.topics(), vec![Topic::Settings]);
        assert_eq!(
            pending(&store),
            vec![Topic::Settings],
            "not in sync until handled"
        );
        assert_eq!(picked(&store), vec![Topic::Settings]);
        assert!(picked(&store).is_empty());
    }

    #[test]
    fn a_token_used_moves_nothing_and_a_token_revoked_moves_people() {
        let (_place, store) = store();
        picked(&store);
        let sql = |s: &'static str| {
            store
                .write(|c| {
                    c.execute(s, [])?;
                    Ok(())
                })
                .unwrap()
        };
        sql(
            "INSERT INTO api_tokens (id, user_id, name, token_hash, prefix, scopes, created_at,
             expires_at) VALUES (1, 1, 't', 'h', 'p', '[]', 'a', 'b')",
        );
        assert!(picked(&store).is_empty(), "a new token changes no caller");
        sql("UPDATE api_tokens SET last_used_at = 'now' WHERE id = 1");
        assert!(picked(&store).is_empty(), "a token used changes no caller");
        sql("UPDATE api_tokens SET revoked_at = 'now' WHERE id = 1");
        assert_eq!(picked(&store), vec![Topic::People]);
    }

    #[test]
    fn a_change_another_host_made_reaches_this_one() {
        let (place, here) = store();
        let there = place.open_again();
        picked(&here);
        assert_eq!(here.time_zone().unwrap(), None);
        there.set_time_zone(480).unwrap();
        // Kept in memory here until picked up.
        assert_eq!(here.time_zone().unwrap(), None);
        assert_eq!(picked(&here), vec![Topic::Settings]);
        assert_eq!(here.time_zone().unwrap(), Some(480));
    }
}
