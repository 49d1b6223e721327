//! A pass over an import's rows on its own thread: chunks of rows, each one transaction with
//! the pass's progress recorded in it (so the log never counts what was not committed); a dry
//! run goes through the same writes and rolls each chunk back. Every row is written through
//! the ordinary create and update as the person who started the pass — validation,
//! permissions, hooks and workflows as for any write.

use super::convert::{Converter, RowInput};
use super::options::{ImportOptions, Mode, OWNER};
use super::sheet::Sheet;
use qingguan_core::imports::{describe, ImportCounts, ImportPass, RowAction, RowError};
use qingguan_core::{Access, Entity, Error, ListQuery, Locale, Reason, Store};
use serde_json::{Map, Value as Json};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// A row of a user import as a new user, invited rather than given a password.
fn new_user(values: &Map<String, Json>) -> qingguan_core::NewUser {
    let text = |k: &str| values.get(k).and_then(Json::as_str).map(str::to_string);
    qingguan_core::NewUser {
        username: text("username").unwrap_or_default(),
        display_name: text("display_name"),
        password: String::new(),
        invite: true,
        role: text("role").unwrap_or_default(),
        team: text("team"),
        manager: values.get("manager").and_then(Json::as_i64),
        email: text("email"),
        locale: text("locale"),
    }
}

/// Rows per transaction: long enough to make a large file quick, short enough that other
/// writers wait a few hundred milliseconds at most.
pub const CHUNK_ROWS: usize = 500;

/// Runs a pass in the background. The import must have been moved into the pass (see
/// `Store::begin_import_pass`); the pass ends it, whatever happens.
pub fn start(
    store: Arc<Store>,
    access: Access,
    id: i64,
    pass: ImportPass,
    options: ImportOptions,
    sheet: Sheet,
    entity: Entity,
) {
    spawn(
        store,
        access,
        id,
        pass,
        options,
        sheet,
        entity,
        ImportCounts::default(),
    );
}

/// Runs the rest of an interrupted import in the background, after the rows it committed
/// (the import must have been moved back into its pass: `Store::resume_import_pass`).
pub fn resume(
    store: Arc<Store>,
    access: Access,
    log: &qingguan_core::imports::ImportLog,
    options: ImportOptions,
    sheet: Sheet,
    entity: Entity,
) {
    spawn(
        store,
        access,
        log.id,
        ImportPass::Import,
        options,
        sheet,
        entity,
        log.counts,
    );
}

#[allow(clippy::too_many_arguments)]
fn spawn(
    store: Arc<Store>,
    access: Access,
    id: i64,
    pass: ImportPass,
    options: ImportOptions,
    sheet: Sheet,
    entity: Entity,
    done: ImportCounts,
) {
    let kept = store.clone();
    in_background(
        format!("import-{id}"),
        move || {
            let mut p = Pass::new(&store, &access, id, pass, &options, &entity);
            p.counts = done;
            p.run(&sheet)
        },
        move || {
            let _ = kept.abandon_import_pass(id, pass);
        },
    );
}

/// Runs `work` on a thread of its own named `name`. When it fails — an error, a panic, or no
/// thread to be had — the failure is logged and `give_up` puts things back. Returns whether
/// the thread started.
pub(super) fn in_background<T>(
    name: String,
    work: impl FnOnce() -> Result<T, Error> + Send + 'static,
    give_up: impl Fn() + Send + Sync + 'static,
) -> bool {
    let give_up = Arc::new(give_up);
    let on_failure = give_up.clone();
    let label = name.clone();
    let spawned = std::thread::Builder::new().name(name).spawn(move || {
        let failed = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)) {
            Ok(Ok(_)) => None,
            Ok(Err(e)) => Some(e.to_string()),
            Err(_) => Some("its thread panicked".to_string()),
        };
        if let Some(why) = failed {
            tracing::warn!(work = %label, error = %why, "background work failed");
            on_failure();
        }
    });
    if spawned.is_err() {
        give_up();
    }
    spawned.is_ok()
}

struct Pass<'a> {
    store: &'a Store,
    access: &'a Access,
    id: i64,
    pass: ImportPass,
    options: &'a ImportOptions,
    entity: &'a Entity,
    counts: ImportCounts,
    /// Values of unique fields seen so far in a dry run (which rolls back each chunk, so the
    /// database alone would not see two rows of the file sharing one).
    seen: HashMap<String, HashSet<String>>,
}

impl<'a> Pass<'a> {
    fn new(
        store: &'a Store,
        access: &'a Access,
        id: i64,
        pass: ImportPass,
        options: &'a ImportOptions,
        entity: &'a Entity,
    ) -> Self {
        Pass {
            store,
            access,
            id,
            pass,
            options,
            entity,
            counts: ImportCounts::default(),
            seen: HashMap::new(),
        }
    }

    fn run(mut self, sheet: &Sheet) -> Result<(), Error> {
        let mut converter = Converter::new(
            self.store,
            self.access,
            self.entity,
            self.options,
            &sheet.headers,
        );
        // Rows a resumed import committed before it stopped are not written again (progress
        // is recorded in each chunk's transaction, so it counts exactly the committed rows).
        let skip = self.counts.rows_done.min(sheet.rows.len());
        for chunk in sheet.rows[skip..].chunks(CHUNK_ROWS) {
            let scope = self.store.begin_call_alone()?;
            let mut refused = Vec::new();
            for row in chunk {
                self.counts.rows_done += 1;
                // A lookup the database failed stops the pass: the chunk is rolled back with
                // `scope`, no row is judged by it, and the import can be resumed. (A write the
                // database fails refuses its row, saying so: a failure that comes back with
                // the same row would otherwise stop every resumed pass there.)
                let outcome = match converter.convert(row)? {
                    Ok(input) => self.write_row(row.number, input),
                    Err(errors) => Err(errors),
                };
                match outcome {
                    Ok(RowAction::Insert) => self.counts.inserted += 1,
                    Ok(RowAction::Update) => self.counts.updated += 1,
                    Err(errors) => {
                        self.counts.failed += 1;
                        refused.extend(errors);
                    }
                }
            }
            match self.pass {
                ImportPass::Import => {
                    self.store
                        .record_import_progress(self.id, self.counts, &refused)?;
                    scope.finish(true)?;
                }
                ImportPass::Check => {
                    scope.finish(false)?;
                    self.store
                        .record_import_progress(self.id, self.counts, &refused)?;
                }
            }
        }
        self.store.finish_import_pass(self.id, self.pass)
    }

    /// Writes one row (with the note of what it did, in the same savepoint).
    fn write_row(&mut self, number: usize, input: RowInput) -> Result<RowAction, Vec<RowError>> {
        if self.pass == ImportPass::Check && self.options.mode == Mode::Insert {
            self.note_unique_values(number, &input)?;
        }
        let scope = self
            .store
            .begin_call()
            .map_err(|e| self.errors(number, &e))?;
        let outcome = self.write(&input);
        let committed = scope.finish(outcome.is_ok());
        match (outcome, committed) {
            (Ok(action), Ok(())) => Ok(action),
            (Err(e), _) | (Ok(_), Err(e)) => Err(self.errors(number, &e)),
        }
    }

    fn write(&self, input: &RowInput) -> Result<RowAction, Error> {
        let entity = &self.entity.name;
        let existing = match self.options.mode {
            Mode::Insert => None,
            Mode::Upsert => self.find_by_key(&input.values)?,
        };
        let (action, record, before) = match existing {
            None if entity == "user" => {
                let r = self
                    .store
                    .create_user(self.access, &new_user(&input.values), false)?;
                (RowAction::Insert, r, None)
            }
            None => {
                let r = self.store.create_imported(
                    self.access,
                    entity,
                    &input.values,
                    input.created_at,
                )?;
                (RowAction::Insert, r, None)
            }
            Some(current) => {
                let mut before = Map::new();
                for k in input.values.keys() {
                    let was = if k == OWNER {
                        current.owner.map(Json::from).unwrap_or(Json::Null)
                    } else {
                        current.get(k).to_json()
                    };
                    before.insert(k.clone(), was);
                }
                let r = self.store.update_imported(
                    self.access,
                    entity,
                    current.id,
                    current.version,
                    &input.values,
                )?;
                if r.version == current.version {
                    // Nothing changed: nothing to undo.
                    return Ok(RowAction::Update);
                }
                (RowAction::Update, r, Some(before))
            }
        };
        self.store.note_imported_row(
            self.id,
            record.id,
            action,
            record.version,
            before.as_ref(),
        )?;
        Ok(action)
    }

    /// The record whose key field holds the row's key, if any.
    fn find_by_key(
        &self,
        values: &Map<String, Json>,
    ) -> Result<Option<qingguan_core::Record>, Error> {
        let key = self.options.key.as_deref().unwrap_or_default();
        let text = match values.get(key) {
            None | Some(Json::Null) => return Err(Error::field(key, Reason::KeyEmpty)),
            Some(Json::String(s)) => s.trim().to_string(),
            Some(other) => other.to_string(),
        };
        let query = ListQuery::from_pairs([(key, text.as_str()), ("limit", "2")])?;
        let mut page = self.store.list(self.access, &self.entity.name, &query)?;
        Ok(match page.items.len() {
            1 => page.items.pop(),
            _ => None,
        })
    }

    /// Refuses a row of a dry run whose unique value an earlier row of the file has.
    fn note_unique_values(&mut self, number: usize, input: &RowInput) -> Result<(), Vec<RowError>> {
        let mut errors = Vec::new();
        for (field, value) in &input.values {
            if !self.entity.field(field).is_some_and(|f| f.def.unique) {
                continue;
            }
            let text = match value {
                Json::String(s) => s.clone(),
                other => other.to_string(),
            };
            if !self
                .seen
                .entry(field.clone())
                .or_default()
                .insert(text.clone())
            {
                let column = self.options.column_of(field).unwrap_or_default();
                errors.push(RowError::cell(
                    number,
                    column,
                    field,
                    &Reason::Duplicate { name: text },
                ));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// A write's refusal as row errors: one per field it names (with its column), or one for
    /// the whole row.
    fn errors(&self, number: usize, err: &Error) -> Vec<RowError> {
        match err {
            Error::Validation { fields, .. }
            | Error::BadRequest { fields, .. }
            | Error::Conflict { fields, .. }
                if !fields.is_empty() =>
            {
                fields
                    .iter()
                    .map(|(f, why)| {
                        RowError::cell(
                            number,
                            self.options.column_of(f).unwrap_or_default(),
                            f,
                            why,
                        )
                    })
                    .collect()
            }
            other => vec![RowError {
                row: number,
                column: String::new(),
                field: String::new(),
                en: describe(other, Locale::En),
                zh: describe(other, Locale::ZhCn),
            }],
        }
    }
}
