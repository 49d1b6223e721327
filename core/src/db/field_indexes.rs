//! The plain indexes of a record table: one for each system column a list may walk and each
//! indexed field, holding after its key the record id and the table's *filter columns* — the
//! owner and up to four indexed few-valued fields (the types that say they are few-valued:
//! single selects and booleans). A list that walks one of them in its sort's order tests those
//! filters, and a rep's scope, from the index and looks up only the rows that pass; a count of
//! such filters reads an index alone.

use super::ddl::{column, index_name, index_names, table, SYSTEM_INDEXED};
use crate::db::Conn;
use crate::schema::FieldDef;
use crate::Result;

/// How many few-valued fields an index carries at most (each makes every index wider).
const MOST_FILTER_FIELDS: usize = 4;
/// The longest index name PostgreSQL keeps (it cuts longer ones).
const LONGEST_NAME: usize = 63;

/// The filter columns of a table whose fields are `fields`, in the fields' order.
pub(crate) fn filter_columns(fields: &[FieldDef]) -> Vec<String> {
    let few_valued = fields
        .iter()
        .filter(|f| f.kind.info().few_valued && f.is_indexed() && !f.is_unique())
        .take(MOST_FILTER_FIELDS)
        .map(|f| column(&f.name));
    std::iter::once("owner".to_string())
        .chain(few_valued)
        .collect()
}

/// The plain indexes a table with `fields` should have: (name, unquoted; columns).
fn wanted(entity: &str, fields: &[FieldDef]) -> Vec<(String, Vec<String>)> {
    let filters = filter_columns(fields);
    let keys = SYSTEM_INDEXED.iter().map(|c| c.to_string()).chain(
        fields
            .iter()
            .filter(|f| f.is_indexed() && !f.is_unique())
            .map(|f| f.name.clone()),
    );
    keys.map(|key| {
        let key_column = column(&key);
        let carried: Vec<String> = filters
            .iter()
            .filter(|c| **c != key_column)
            .cloned()
            .collect();
        let mut columns = vec![key_column, "id".to_string()];
        columns.extend(carried);
        (name(entity, &key, &columns), columns)
    })
    .collect()
}

/// An index's name: `ix_{entity}:{key}`, then `:+` and a digest of all its columns (so a change
/// of them is a change of name, and no index made before they were carried keeps its place);
/// one too long for PostgreSQL keeps its first characters and a digest of the whole.
fn name(entity: &str, key: &str, columns: &[String]) -> String {
    let plain = index_name("ix", entity, &[key]);
    let plain = plain.trim_matches('"');
    let full = format!("{plain}:+{:08x}", digest(&columns.join(",")) as u32);
    if full.len() <= LONGEST_NAME {
        return full;
    }
    let kept = LONGEST_NAME - 17;
    format!("{}~{:016x}", &full[..kept], digest(&full))
}

/// FNV-1a (64 bits): stable across builds, unlike the standard library's hasher.
fn digest(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Makes a record table's plain indexes what its fields (every one stored, retired ones too:
/// they keep their values and may come back) ask for: makes the missing ones, then drops the
/// ones no longer wanted or wanted with other columns (in that order, so that lists keep an
/// index to walk while the new ones are built). Nothing is done when they are already right,
/// which is every call but the first after a change. Whether anything changed.
pub(crate) fn keep_field_indexes(conn: &Conn, entity: &str, fields: &[FieldDef]) -> Result<bool> {
    let t = table(entity);
    let wanted = wanted(entity, fields);
    let prefix = format!("ix_{entity}:");
    let existing = index_names(conn, &t)?;
    let mut changed = false;
    for (name, columns) in &wanted {
        if !existing.contains(name) {
            conn.execute_batch(&format!(
                "CREATE INDEX IF NOT EXISTS \"{name}\" ON {t} ({})",
                columns.join(", ")
            ))?;
            changed = true;
        }
    }
    for name in &existing {
        if name.starts_with(&prefix) && !wanted.iter().any(|(w, _)| w == name) {
            conn.execute_batch(&format!("DROP INDEX IF EXISTS \"{name}\""))?;
            changed = true;
        }
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::FieldType;

    fn field(name: &str, kind: FieldType, indexed: Option<bool>) -> FieldDef {
        let mut f = FieldDef::new(name, kind, name, name);
        f.indexed = indexed;
        f
    }

    #[test]
    fn every_plain_index_carries_the_owner_and_the_first_few_valued_fields() {
        let fields = [
            field("name", FieldType::Text, Some(true)),
            field("status", FieldType::Select, None),
            field("vip", FieldType::Boolean, Some(true)),
            field("note", FieldType::LongText, None),
            field("a", FieldType::Select, None),
            field("b", FieldType::Select, None),
            field("c", FieldType::Select, None),
        ];
        assert_eq!(
            filter_columns(&fields),
            ["owner", "c_status", "c_vip", "c_a", "c_b"],
            "at most four few-valued fields, in order"
        );
        let w = wanted("customer", &fields);
        let columns = |key: &str| {
            w.iter()
                .find(|(n, _)| n.starts_with(&format!("ix_customer:{key}:+")))
                .map(|(_, c)| c.join(","))
        };
        assert_eq!(
            columns("name").unwrap(),
            "c_name,id,owner,c_status,c_vip,c_a,c_b"
        );
        assert_eq!(
            columns("status").unwrap(),
            "c_status,id,owner,c_vip,c_a,c_b"
        );
        assert_eq!(columns("owner").unwrap(), "owner,id,c_status,c_vip,c_a,c_b");
        assert_eq!(
            columns("created_at").unwrap(),
            "created_at,id,owner,c_status,c_vip,c_a,c_b"
        );
        assert!(columns("note").is_none(), "an unindexed field has none");
        // Another set of filter columns is another name: the index is made again.
        let fewer = wanted("customer", &fields[..2]);
        assert!(fewer.iter().all(|(n, _)| !w.iter().any(|(m, _)| m == n)));
    }

    #[test]
    fn a_long_name_is_cut_to_what_postgresql_keeps_and_stays_distinct() {
        let entity = "e".repeat(40);
        let one = name(&entity, &"f".repeat(40), &["owner".into()]);
        let two = name(&entity, &format!("{}g", "f".repeat(39)), &["owner".into()]);
        // Nothing carried is still a name of its own, never the single-column index's.
        assert!(name("contact", "owner", &["owner".into(), "id".into()])
            .starts_with("ix_contact:owner:+"));
        assert!(one.len() <= LONGEST_NAME && two.len() <= LONGEST_NAME);
        assert_ne!(one, two);
        assert!(one.starts_with(&format!("ix_{entity}:")));
    }
}
