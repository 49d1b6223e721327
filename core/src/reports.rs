//! Saved reports: an entity type, a filter (a list query string), up to two fields to group
//! by, one figure (count, sum or average of a number field) and a chart kind — saved by a
//! person, shared with roles, and always run as whoever reads it (their scope, their field
//! rules), so sharing a report never shares data. A report that groups and sums keeps an index
//! of its groupings and the summed field, so it reads that index rather than every record.

use crate::db::OptionalExtension;
use crate::store::aggregate::{AggregateQuery, AggregateRow, Metric};
use crate::store::Store;
use crate::{Access, Error, FieldErrors, ListQuery, Reason, Result};
use serde::{Deserialize, Serialize};

/// Longest report name, in characters.
const MAX_NAME_CHARS: usize = 80;
/// Longest filter (a list query string), in bytes.
const MAX_FILTER_BYTES: usize = 2000;
/// Most fields a report groups by.
const MAX_GROUP_FIELDS: usize = 2;
/// Most reports one person keeps.
const MAX_REPORTS_PER_OWNER: i64 = 200;
/// Most groups a report shows (its chart and table stay readable; more is refused on save
/// and cut on reading).
pub const MAX_REPORT_GROUPS: usize = 500;
/// Most covering indexes reports keep on one entity type (each costs every write of it).
const MAX_REPORT_INDEXES: usize = 8;
/// The list parameters a report's filter may hold: filters and `q` only.
const NOT_FILTERS: &[&str] = &["sort", "limit", "cursor", "waiting", "count"];
/// System columns a report may group by (people); the others (ids, versions, instants) make a
/// group per record.
const GROUPABLE_SYSTEM: &[&str] = &["owner", "created_by", "updated_by"];

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
    /// Up to two fields (or `owner`) to group by, a date or time by a period
    /// (`closed_on:month`, `created_at:quarter`, `:year`); none for one figure.
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
    /// The definition as stored: the name trimmed, each role once.
    fn normalized(&self) -> ReportDef {
        let mut d = self.clone();
        d.name = d.name.trim().to_string();
        d.shared_with.sort();
        d.shared_with.dedup();
        d
    }

    /// The roles it is shared with as stored for selection: `,hr,manager,`.
    fn shared_column(&self) -> String {
        if self.shared_with.is_empty() {
            String::new()
        } else {
            format!(",{},", self.shared_with.join(","))
        }
    }

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

fn read_report(r: &crate::db::Row<'_>) -> crate::db::DbResult<Option<Report>> {
    let def: String = r.get(2)?;
    Ok(serde_json::from_str(&def).ok().map(|def| Report {
        id: r.get(0).unwrap_or_default(),
        owner: r.get(1).unwrap_or_default(),
        def,
        updated_at: r.get(3).unwrap_or_default(),
    }))
}

/// The index that lets a report read one index instead of every row: its groupings, then the
/// field it sums or averages (`None` for a count, which the groupings' own indexes serve, or
/// a single figure).
fn covering(def: &ReportDef) -> Option<Vec<String>> {
    let (_, field) = def.metric.split_once(':')?;
    if def.group_by.is_empty() {
        return None;
    }
    // A period groups by an expression over its field: the field's index still serves it.
    let mut cols: Vec<String> = def
        .group_by
        .iter()
        .map(|g| crate::store::aggregate::split_group(g).0.to_string())
        .collect();
    cols.dedup();
    cols.push(field.to_string());
    Some(cols)
}

impl Store {
    /// Brings an entity type's report indexes in line with the reports administrators saved
    /// (at most eight per type, the oldest reports first; inside the write that changed them).
    /// Other people's reports run without one: an index costs every write of the type, and is
    /// built while the writer waits.
    fn index_reports(&self, conn: &crate::db::Conn, entity: &str) -> Result<()> {
        let mut stmt =
            conn.prepare("SELECT def FROM reports WHERE entity = ?1 AND indexed = 1 ORDER BY id")?;
        let defs = stmt
            .query_map([entity], |r| r.get::<_, String>(0))?
            .collect::<crate::db::DbResult<Vec<_>>>()?;
        let mut unique: Vec<Vec<String>> = Vec::new();
        for w in defs
            .iter()
            .filter_map(|d| serde_json::from_str::<ReportDef>(d).ok())
            .filter_map(|d| covering(&d))
        {
            if !unique.contains(&w) && unique.len() < MAX_REPORT_INDEXES {
                unique.push(w);
            }
        }
        crate::db::ddl::keep_report_indexes(conn, entity, &unique)
    }

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

    /// The reports the caller may read, by name (chosen in SQL: their own, those shared with
    /// their role; every one for administrators).
    pub fn reports(&self, access: &Access) -> Result<Vec<Report>> {
        let role = format!(",{},", access.role.name);
        let all: Vec<Report> = self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, owner, def, updated_at FROM reports
                 WHERE ?1 OR owner = ?2 OR instr(shared, ?3) > 0 ORDER BY name, id",
            )?;
            let rows = stmt
                .query_map((access.is_admin(), access.user_id, &role), read_report)?
                .collect::<crate::db::DbResult<Vec<_>>>()?;
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
        let mine = access.user_id == Some(r.owner) || access.is_admin();
        let mut rows = self
            .aggregate(access, &r.def.entity, &r.def.query()?)
            .map_err(|e| match e {
                // Which field it names is its author's business: others hear only that it
                // does not run for them.
                Error::BadRequest { .. } | Error::Forbidden(_) if !mine => {
                    Error::Forbidden("this report reads what your role does not see".into())
                }
                other => other,
            })?;
        rows.truncate(MAX_REPORT_GROUPS);
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
        let pairs: Vec<(String, String)> = form_urlencoded::parse(def.filter.as_bytes())
            .into_owned()
            .collect();
        if let Some((k, _)) = pairs
            .iter()
            .find(|(k, _)| NOT_FILTERS.contains(&k.as_str()))
        {
            errors.insert(
                "filter".into(),
                Reason::NotOption {
                    value: k.clone(),
                    options: vec!["field=value".into(), "field[op]=value".into(), "q".into()],
                },
            );
        }
        for g in &def.group_by {
            if crate::schema::validate_system_column(g) && !GROUPABLE_SYSTEM.contains(&g.as_str()) {
                errors.insert(
                    "group_by".into(),
                    Reason::NotGroupable {
                        kind: crate::schema::FieldType::Datetime,
                    },
                );
            }
        }
        if let Some((_, f)) = def.metric.split_once(':') {
            if crate::schema::validate_system_column(f) {
                errors.insert(
                    "metric".into(),
                    Reason::BadMetric {
                        metric: def.metric.clone(),
                    },
                );
            }
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
        let rows = self
            .aggregate(access, &def.entity, &query)
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
            })?;
        if rows.len() > MAX_REPORT_GROUPS {
            return Err(Error::field(
                "group_by",
                Reason::TooManyGroups {
                    max: MAX_REPORT_GROUPS,
                },
            ));
        }
        Ok(())
    }

    /// Saves a new report owned by the caller.
    pub fn create_report(&self, access: &Access, def: &ReportDef) -> Result<Report> {
        let me = access
            .user_id
            .ok_or_else(|| Error::Forbidden("only a person keeps reports".into()))?;
        let def = &def.normalized();
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
                "INSERT INTO reports (owner, name, entity, shared, def, indexed, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                (
                    me,
                    &def.name,
                    &def.entity,
                    def.shared_column(),
                    serde_json::to_string(def).unwrap_or_default(),
                    access.is_admin(),
                    crate::db::now_text(),
                ),
            )?;
            let id = c.last_insert_rowid();
            self.index_reports(c, &def.entity)?;
            Ok(id)
        })?;
        self.report(access, id)
    }

    /// Replaces a report's definition (its owner or an administrator).
    pub fn update_report(&self, access: &Access, id: i64, def: &ReportDef) -> Result<Report> {
        let r = self.report(access, id)?;
        let def = &def.normalized();
        if access.user_id != Some(r.owner) && !access.is_admin() {
            return Err(Error::Forbidden("only its owner changes a report".into()));
        }
        self.check_report(access, def)?;
        self.write(|c| {
            c.execute(
                "UPDATE reports SET name = ?2, entity = ?3, shared = ?4, def = ?5, indexed = ?6,
                   updated_at = ?7 WHERE id = ?1",
                (
                    id,
                    &def.name,
                    &def.entity,
                    def.shared_column(),
                    serde_json::to_string(def).unwrap_or_default(),
                    access.is_admin(),
                    crate::db::now_text(),
                ),
            )?;
            self.index_reports(c, &def.entity)?;
            if r.def.entity != def.entity {
                self.index_reports(c, &r.def.entity)?;
            }
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
            c.execute("DELETE FROM report_pins WHERE report_id = ?1", [id])?;
            self.index_reports(c, &r.def.entity)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{FieldDef, FieldType};

    /// The plan of the report's query (after reading the schema afresh: a pooled connection
    /// explains with the schema it last read).
    fn plan(s: &Store) -> String {
        s.read(|c| {
            c.query_row("SELECT COUNT(*) FROM sqlite_master", [], |r| {
                r.get::<_, i64>(0)
            })?;
            let rows: Vec<String> = c
                .prepare(
                    "EXPLAIN QUERY PLAN SELECT c_status, SUM(c_revenue) FROM r_customer
                     GROUP BY c_status ORDER BY c_status",
                )?
                .query_map([], |r| r.get::<_, String>(3))?
                .collect::<crate::db::DbResult<_>>()?;
            Ok(rows.join("; "))
        })
        .unwrap()
    }

    fn revenue_by_status() -> ReportDef {
        ReportDef {
            name: "by status".into(),
            entity: "customer".into(),
            filter: String::new(),
            group_by: vec!["status".into()],
            metric: "sum:revenue".into(),
            chart: Chart::Bar,
            shared_with: vec![],
        }
    }

    #[test]
    fn a_report_that_sums_reads_one_index() {
        let (_dir, s) = crate::store::tests::store();
        let sys = Access::system();
        s.add_field(
            &sys,
            "customer",
            &FieldDef::new("revenue", FieldType::Decimal, "Revenue", "营收"),
        )
        .unwrap();
        let admin = crate::store::tests::user(&s, "boss", "admin", "hq");
        if s.is_postgres() {
            return; // the plan read here is SQLite's
        }
        assert!(!plan(&s).contains("COVERING INDEX"), "{}", plan(&s));
        let r = s.create_report(&admin, &revenue_by_status()).unwrap();
        assert!(plan(&s).contains("COVERING INDEX"), "{}", plan(&s));
        s.delete_report(&admin, r.id).unwrap();
        assert!(
            !plan(&s).contains("COVERING INDEX"),
            "dropped: {}",
            plan(&s)
        );
        // Anyone else's report runs without one: an index costs every write.
        let rep = crate::store::tests::user(&s, "amy", "sales", "east");
        s.create_report(&rep, &revenue_by_status()).unwrap();
        assert!(!plan(&s).contains("COVERING INDEX"), "{}", plan(&s));
    }
}
