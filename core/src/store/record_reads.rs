//! Reading one record as its caller sees it: from the database, or kept from a read before
//! while it has not been written since (`kept_records.rs`).

use super::kept_by_state::{Holds, Stamp, State};
use super::kept_records::{self, KeptRecord};
use super::records::{entity_for, entity_seen, from_row, load, select_list};
use super::scope::{in_scope, in_scope_known};
use super::Store;
use crate::db::record_writes::{self, Written};
use crate::db::{ddl, Conn, OptionalExtension};
use crate::record::Record;
use crate::schema::{Entity, SharedEntity};
use crate::{Access, Error, Result};
use std::sync::Arc;

/// A record as the API writes it (`Record::as_api`), with its version (the `ETag`).
#[derive(Debug, Clone)]
pub struct RecordJson {
    /// The record's version.
    pub version: i64,
    /// Its JSON.
    pub json: bytes::Bytes,
}

/// A record looked up: kept (read lately, or now and kept) or read without keeping it.
enum Looked {
    Kept(Arc<KeptRecord>),
    Read(Record, SharedEntity),
}

impl Store {
    /// Reads one record. Outside the caller's scope it does not exist (`NotFound`); fields
    /// the caller's role hides are left out.
    pub fn get(&self, access: &Access, entity: &str, id: i64) -> Result<Record> {
        Ok(match self.look_up(access, entity, id)? {
            Looked::Kept(kept) => Record::clone(&kept.record),
            Looked::Read(r, _) => r,
        })
    }

    /// Reads one record as the API writes it, with its version; as [`Store::get`].
    pub fn get_json(&self, access: &Access, entity: &str, id: i64) -> Result<RecordJson> {
        Ok(match self.look_up(access, entity, id)? {
            Looked::Kept(kept) => RecordJson {
                version: kept.record.version,
                json: kept.json(),
            },
            Looked::Read(r, e) => RecordJson {
                version: r.version,
                json: kept_records::render(&r, &e),
            },
        })
    }

    /// One record in the caller's scope, as they see it. A record read lately is given out
    /// again while it has not been written since, without reading it
    /// (`kept_records.rs`); never inside a transaction, whose reads see its own writes.
    fn look_up(&self, access: &Access, entity: &str, id: i64) -> Result<Looked> {
        let (e, perm) = entity_seen(self, access, entity)?;
        let not_found = || Error::NotFound(format!("no {entity} with id {id}"));
        let state = match self.in_batch_here() {
            true => None,
            false => self.kept.state(),
        };
        if let Some(kept) = state.and_then(|state| self.kept_record(&e, id, state).transpose()) {
            let kept = kept?;
            let seen = match in_scope_known(access, &perm, &kept.record) {
                Some(seen) => seen,
                None => self.read(|c| in_scope(c, access, &perm, &kept.record))?,
            };
            return if seen {
                Ok(Looked::Kept(kept))
            } else {
                Err(not_found())
            };
        }
        self.read(|c| {
            // A read in a transaction left open would see an older snapshot than the state
            // says: kept only when the read is a statement of its own.
            let state = state.filter(|_| c.is_autocommit());
            let loaded = match state {
                Some(_) => self.load_stamped(c, &e, id)?,
                None => load(c, &e, id)?.map(|r| (r, None)),
            };
            let Some((r, written)) = loaded else {
                return Err(not_found());
            };
            if !in_scope(c, access, &perm, &r).unwrap_or(false) {
                return Err(not_found());
            }
            Ok(match state {
                Some(state) => {
                    let stamp = Stamp { state, written };
                    Looked::Kept(self.kept.keep(&e, stamp, r, self.schema()))
                }
                None => Looked::Read(r, e.clone()),
            })
        })
    }

    /// The record `id` of `view` kept, if it is the record in `state` (see
    /// [`Store::still_holds`]: it was not written since); one kept in an earlier state is
    /// stamped anew.
    fn kept_record(
        &self,
        view: &SharedEntity,
        id: i64,
        state: State,
    ) -> Result<Option<Arc<KeptRecord>>> {
        let Some(kept) = self.kept.get(view, id) else {
            return Ok(None);
        };
        let types = || (vec![view.name.as_str()], None);
        match self.still_holds(&kept.stamp, &state, Some(id), types)? {
            Holds::InItsState => {}
            Holds::Again(stamp) => self.kept.keep_again(&kept, stamp, self.schema()),
            Holds::No => return Ok(None),
        }
        Ok(Some(kept))
    }

    /// Loads a record with what its type was written in, read in the same statement (one
    /// snapshot, one read where the record and the tokens took two); where the tokens can't
    /// be read (their table gone), the record alone, kept in its state only.
    fn load_stamped(
        &self,
        c: &Conn,
        e: &Entity,
        id: i64,
    ) -> Result<Option<(Record, Option<Written>)>> {
        let columns = 7 + e.fields.len();
        let sql = format!(
            "SELECT {}, {} FROM {} WHERE id = ?1",
            select_list(e),
            record_writes::written_columns(2),
            ddl::table(&e.name)
        );
        let watched = &self.kept.watched;
        let read = c.prepare_cached(&sql).and_then(|mut stmt| {
            stmt.query_row((id, e.name.as_str()), |row| {
                let written = record_writes::written_with(c, row, columns, &e.name, watched)?;
                Ok((from_row(e, row)?, written))
            })
            .optional()
        });
        match read {
            Ok(loaded) => Ok(loaded),
            Err(error) => {
                tracing::debug!(%error, "the write tokens could not be read with the record");
                Ok(load(c, e, id)?.map(|r| (r, None)))
            }
        }
    }

    /// Reads one record in the caller's scope with every field, for the store's own
    /// decisions (a workflow's conditions) that must not depend on what the caller sees.
    pub(crate) fn get_whole(&self, access: &Access, entity: &str, id: i64) -> Result<Record> {
        let schema = self.schema();
        let (e, perm) = entity_for(&schema, access, entity, "read", |p| p.read)?;
        self.read(|c| {
            let r = load(c, &e, id)?.filter(|r| in_scope(c, access, &perm, r).unwrap_or(false));
            r.ok_or_else(|| Error::NotFound(format!("no {entity} with id {id}")))
        })
    }
}
