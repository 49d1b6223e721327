//! Saved reports: an entity type, a filter (a list query string), up to two fields to group
//! by, one figure (count, sum or average of a number field) and a chart kind — saved by a
//! person, shared with roles, and always run as whoever reads it (their scope, their field
//! rules), so sharing a report never shares data.

use crate::store::aggregate::{AggregateQuery, AggregateRow, Metric};
use crate::store::Store;
use crate::{Access, Error, FieldErrors, ListQuery, Reason, Result};
use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize};

/// Longest report name, in characters.
const MAX_NAME_CHARS: usize = 80;
/// Longest filter (a list query string), in bytes.
const MAX_FILTER_BYTES: usize = 2000;
/// Most fields a report groups by.
const MAX_GROUP_FIELDS: usize = 2;
/// Most reports one person keeps.
const MAX_REPORTS_PER_OWNER: i64 = 200;

/// How a report is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Chart {
    /// Horizontal bars, one per group.
    #[default]
    Bar,
    /// A line through the groups in order (dates, months).
    Line,
    /// Slices of a whole.
    Pie,
    /// The table alone.
    Table,
}

/// What a report computes and how it is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportDef {
    /// What people call it.
    pub name: String,
    /// The entity type it counts.
    pub entity: String,
    /// Which records: a list query string (`status=won&amount[gt]=1000`), empty for all.
    #[serde(default)]
    pub filter: String,
    /// Up to two fields (or `owner`) to group by; none for one figure.
    #[serde(default)]
    pub group_by: Vec<String>,
    /// `count`, `sum:field` or `avg:field`.
    pub metric: String,
    /// How it is drawn.
    #[serde(default)]
    pub chart: Chart,
    /// Roles whose people may read it (each reads it within their own reach).
    #[serde(default)]
    pub shared_with: Vec<String>,
}

/// A saved report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Id.
    pub id: i64,
    /// Who made it (who may change it, beside administrators).
    pub owner: i64,
    /// Its definition.
    #[serde(flatten)]
    pub def: ReportDef,
    /// Last saved.
    pub updated_at: String,
}

impl ReportDef {
    /// The aggregate it runs.
    fn query(&self) -> Result<AggregateQuery> {
        let list = ListQuery::from_pairs(form_urlencoded::parse(self.filter.as_bytes()))?;
        let metric = Metric::parse(&self.metric).map_err(|_| {
            Error::field(
                "metric",
                Reason::BadMetric {
                    metric: self.metric.clone(),
                },
            )
        })?;
        if matches!(metric, Metric::Min(_) | Metric::Max(_)) {
            return Err(Error::field(
                "metric",
                Reason::BadMetric {
                    metric: self.metric.clone(),
                },
            ));
        }
        Ok(AggregateQuery {
            filters: list.filters,
            q: list.q,
            group_by: self.group_by.clone(),
            metrics: vec![metric],
        })
    }
}

fn read_report(r: &rusqlite::Row<'_>) -> rusqlite::Result<Option<Report>> {
    let def: String = r.get(2)?;
    Ok(serde_json::from_str(&def).ok().map(|def| Report {
        id: r.get(0).unwrap_or_default(),
        owner: r.get(1).unwrap_or_default(),
        def,
        updated_at: r.get(3).unwrap_or_default(),
    }))
}

impl Store {
    /// Whether the caller may read a report: its owner, an administrator, or someone whose
    /// role it is shared with.
    fn may_read_report(access: &Access, r: &Report) -> bool {
        access.is_admin()
            || access.user_id == Some(r.owner)
            || r.def
                .shared_with
                .iter()
                .any(|role| *role == access.role.name)
    }

    /// The reports the caller may read, by name.
    pub fn reports(&self, access: &Access) -> Result<Vec<Report>> {
        let all: Vec<Report> = self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, owner, def, updated_at FROM reports ORDER BY name, id",
            )?;
            let rows = stmt
                .query_map([], read_report)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows.into_iter().flatten().collect())
        })?;
        Ok(all
            .into_iter()
            .filter(|r| Self::may_read_report(access, r))
            .collect())
    }

    /// One report the caller may read (`NotFound` otherwise: others' reports are private).
    pub fn report(&self, access: &Access, id: i64) -> Result<Report> {
        self.read(|c| {
            Ok(
                c.prepare_cached("SELECT id, owner, def, updated_at FROM reports WHERE id = ?1")?
                    .query_row([id], read_report)
                    .optional()?
                    .flatten(),
            )
        })?
        .filter(|r| Self::may_read_report(access, r))
        .ok_or_else(|| Error::NotFound(format!("no report {id}")))
    }

    /// Runs a report as the caller: their scope and field rules decide what it counts.
    pub fn run_report(&self, access: &Access, id: i64) -> Result<(Report, Vec<AggregateRow>)> {
        let r = self.report(access, id)?;
        let rows = self.aggregate(access, &r.def.entity, &r.def.query()?)?;
        Ok((r, rows))
    }

    /// Checks a definition as the person saving it would run it.
    fn check_report(&self, access: &Access, def: &ReportDef) -> Result<()> {
        let mut errors = FieldErrors::new();
        let name = def.name.trim();
        if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
            errors.insert(
                "name".into(),
                Reason::LengthBetween {
                    min: 1,
                    max: MAX_NAME_CHARS,
                },
            );
        }
        if def.filter.len() > MAX_FILTER_BYTES {
            errors.insert(
                "filter".into(),
                Reason::TooManyBytes {
                    max: MAX_FILTER_BYTES,
                },
            );
        }
        if def.group_by.len() > MAX_GROUP_FIELDS {
            errors.insert(
                "group_by".into(),
                Reason::TooManyGroupFields {
                    max: MAX_GROUP_FIELDS,
                },
            );
        }
        let roles = self.roles_map();
        for role in &def.shared_with {
            if !roles.contains_key(role) {
                errors.insert("shared_with".into(), Reason::NoRole { role: role.clone() });
            }
        }
        if !errors.is_empty() {
            return Err(Error::validation(errors));
        }
        // What it names must exist and be the saver's to count: run it once.
        let query = def.query()?;
        self.aggregate(access, &def.entity, &query)
            .map(|_| ())
            .map_err(|e| match e {
                Error::BadRequest { fields, .. } => Error::validation(
                    fields
                        .into_iter()
                        .map(|(k, why)| {
                            let k = match k.as_str() {
                                "metrics" => "metric".to_string(),
                                "group_by" => k,
                                _ => "filter".to_string(),
                            };
                            (k, why)
                        })
                        .collect(),
                ),
                other => other,
            })
    }

    /// Saves a new report owned by the caller.
    pub fn create_report(&self, access: &Access, def: &ReportDef) -> Result<Report> {
        let me = access
            .user_id
            .ok_or_else(|| Error::Forbidden("only a person keeps reports".into()))?;
        self.check_report(access, def)?;
        let id = self.write(|c| {
            let n: i64 =
                c.query_row("SELECT COUNT(*) FROM reports WHERE owner = ?1", [me], |r| {
                    r.get(0)
                })?;
            if n >= MAX_REPORTS_PER_OWNER {
                return Err(Error::conflict_on(
                    "name",
                    Reason::TooMany {
                        max: MAX_REPORTS_PER_OWNER as usize,
                    },
                ));
            }
            c.execute(
                "INSERT INTO reports (owner, name, def, updated_at) VALUES (?1, ?2, ?3, ?4)",
                (
                    me,
                    def.name.trim(),
                    serde_json::to_string(def).unwrap_or_default(),
                    crate::db::now_text(),
                ),
            )?;
            Ok(c.last_insert_rowid())
        })?;
        self.report(access, id)
    }

    /// Replaces a report's definition (its owner or an administrator).
    pub fn update_report(&self, access: &Access, id: i64, def: &ReportDef) -> Result<Report> {
        let r = self.report(access, id)?;
        if access.user_id != Some(r.owner) && !access.is_admin() {
            return Err(Error::Forbidden("only its owner changes a report".into()));
        }
        self.check_report(access, def)?;
        self.write(|c| {
            c.execute(
                "UPDATE reports SET name = ?2, def = ?3, updated_at = ?4 WHERE id = ?1",
                (
                    id,
                    def.name.trim(),
                    serde_json::to_string(def).unwrap_or_default(),
                    crate::db::now_text(),
                ),
            )?;
            Ok(())
        })?;
        self.report(access, id)
    }

    /// Deletes a report (its owner or an administrator).
    pub fn delete_report(&self, access: &Access, id: i64) -> Result<()> {
        let r = self.report(access, id)?;
        if access.user_id != Some(r.owner) && !access.is_admin() {
            return Err(Error::Forbidden("only its owner deletes a report".into()));
        }
        self.write(|c| {
            c.execute("DELETE FROM reports WHERE id = ?1", [id])?;
            Ok(())
        })
    }
}
