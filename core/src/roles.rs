//! Roles: saving one with its permissions and field rules (checked against the schema), and
//! the permission defaults plugins give the roles that have none of their own yet.

use crate::access::{EntityPermission, Role};
use crate::db::OptionalExtension;
use crate::store::Store;
use crate::{Access, Error, Reason, Result};
use std::collections::BTreeMap;
use std::sync::Arc;

impl Store {
    /// All roles, by name.
    pub fn roles(&self) -> Vec<Arc<Role>> {
        let mut v: Vec<Arc<Role>> = self.roles_map().values().cloned().collect();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        v
    }

    /// Creates or replaces a role (administrators only). The built-in `admin` role keeps its
    /// administrator flag so an install cannot lock itself out.
    pub fn put_role(&self, access: &Access, role: &Role) -> Result<()> {
        access.require_admin()?;
        crate::schema::check_name(&role.name).map_err(|e| Error::field("name", e))?;
        if role.name == "admin" && !role.admin {
            return Err(Error::field("admin", Reason::AdminRoleStaysAdmin));
        }
        let schema = self.schema();
        for k in role.permissions.keys() {
            if k != "*" && !schema.contains(k) {
                return Err(Error::field(
                    "permissions",
                    Reason::NoEntity { name: k.clone() },
                ));
            }
        }
        let mut role = role.clone();
        check_field_rules(&schema, &self.workflows(), &mut role)?;
        let role = &role;
        let def = serde_json::to_string(role).unwrap_or_default();
        self.write(|tx| {
            crate::audit::by(
                tx,
                access,
                "role_saved",
                &role.name,
                &serde_json::to_value(role).unwrap_or_default(),
            )?;
            tx.execute(
                "INSERT INTO roles (name, def) VALUES (?1, ?2)
                 ON CONFLICT (name) DO UPDATE SET def = ?2",
                (&role.name, &def),
            )?;
            Ok(())
        })?;
        self.read(|c| self.reload_roles(c))
    }
}

/// Checks a role's field rules against the schema and drops empty ones (an administrator's
/// role keeps none: it sees everything): each names a field that exists, the field naming a
/// record stays visible, and a required field without a default stays writable for a role
/// that creates such records.
fn check_field_rules(
    schema: &crate::schema::Schema,
    workflows: &BTreeMap<String, Arc<crate::workflow::Workflow>>,
    role: &mut Role,
) -> Result<()> {
    use crate::access::FieldRule;
    if role.admin {
        role.fields.clear();
        return Ok(());
    }
    role.fields.retain(|_, rules| !rules.is_empty());
    for (entity, rules) in &role.fields {
        let e = schema.entity(entity).ok_or_else(|| {
            Error::field(
                "fields",
                Reason::NoEntity {
                    name: entity.clone(),
                },
            )
        })?;
        for (name, rule) in rules {
            let key = format!("fields.{entity}.{name}");
            let f = e.field(name).ok_or_else(|| {
                Error::field(
                    key.clone(),
                    Reason::NoField {
                        entity: entity.clone(),
                        field: name.clone(),
                    },
                )
            })?;
            if *rule == FieldRule::Hidden && e.title_field.as_deref() == Some(name.as_str()) {
                return Err(Error::field(
                    key,
                    Reason::TitleStaysVisible {
                        field: name.clone(),
                    },
                ));
            }
            // A workflow's initial state fills its state field as a default would.
            let filled = workflows
                .get(entity)
                .is_some_and(|wf| wf.state_field == *name && wf.initial.is_some());
            if f.def.required
                && f.def.default.is_none()
                && !filled
                && role.permission(entity).create
            {
                return Err(Error::field(
                    key,
                    Reason::RequiredStaysWritable {
                        field: name.clone(),
                    },
                ));
            }
        }
    }
    Ok(())
}

impl Store {
    /// Gives roles default permissions on entity types that a plugin declares, where the role
    /// has no permission of its own for that type yet: an administrator's choice is never
    /// overwritten, and roles that do not exist are skipped. Runs inside the caller's
    /// transaction when there is one.
    pub fn seed_permissions(
        &self,
        defaults: &BTreeMap<String, BTreeMap<String, EntityPermission>>,
    ) -> Result<()> {
        if defaults.is_empty() {
            return Ok(());
        }
        self.write(|tx| {
            for (name, perms) in defaults {
                let def: Option<String> = tx
                    .query_row("SELECT def FROM roles WHERE name = ?1", [name], |r| {
                        r.get(0)
                    })
                    .optional()?;
                let Some(def) = def else { continue };
                let mut role: Role = serde_json::from_str(&def)
                    .map_err(|e| Error::Database(format!("stored role is unreadable: {e}")))?;
                let mut changed = false;
                for (entity, p) in perms {
                    if !role.permissions.contains_key(entity) {
                        role.permissions.insert(entity.clone(), *p);
                        changed = true;
                    }
                }
                if changed {
                    let def = serde_json::to_string(&role).unwrap_or_default();
                    tx.execute("UPDATE roles SET def = ?2 WHERE name = ?1", (name, &def))?;
                }
            }
            self.reload_roles(tx)
        })
    }
}
