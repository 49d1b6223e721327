//! Who may do what: roles with per-entity permissions and record scopes, and the [`Access`]
//! every store operation is called with.

use crate::schema::{Label, Locale};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Which records of an entity type a permission covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Records the user owns.
    #[default]
    Own,
    /// Records owned by anyone in the user's team.
    Team,
    /// All records.
    All,
}

/// What a role may do with one entity type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct EntityPermission {
    /// May create records.
    #[serde(default)]
    pub create: bool,
    /// May read records in scope.
    #[serde(default)]
    pub read: bool,
    /// May update records in scope.
    #[serde(default)]
    pub update: bool,
    /// May delete records in scope.
    #[serde(default)]
    pub delete: bool,
    /// Which records read, update and delete reach.
    #[serde(default)]
    pub scope: Scope,
}

impl EntityPermission {
    /// Everything, on all records.
    pub const ALL: EntityPermission = EntityPermission {
        create: true,
        read: true,
        update: true,
        delete: true,
        scope: Scope::All,
    };
    /// Nothing.
    pub const NONE: EntityPermission = EntityPermission {
        create: false,
        read: false,
        update: false,
        delete: false,
        scope: Scope::Own,
    };

    /// Read-only on all records.
    pub const READ_ALL: EntityPermission = EntityPermission {
        create: false,
        read: true,
        update: false,
        delete: false,
        scope: Scope::All,
    };
}

/// How a role may use one field of an entity type it may read: fields without a rule are read
/// and written as the entity permission allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldRule {
    /// Never shown to the role and never taken from it: not in records, lists, filters, sorts,
    /// sums, search, history, exports or forms — for the role the field does not exist.
    Hidden,
    /// Shown, but a write by the role may not change it.
    ReadOnly,
}

/// A named set of permissions. `permissions["*"]` applies to entity types not listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Role {
    /// Machine name (`admin`, `manager`, `sales`, …).
    pub name: String,
    /// Display label.
    pub label: Label,
    /// Administrators manage users, roles, the schema and plugins.
    #[serde(default)]
    pub admin: bool,
    /// Entity type (or `*`) → permission.
    #[serde(default)]
    pub permissions: BTreeMap<String, EntityPermission>,
    /// Entity type → field → how the role may use it (salary, cost price: hidden or
    /// read-only). Administrators' roles ignore it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, BTreeMap<String, FieldRule>>,
}

impl Role {
    /// The permission this role has on an entity type. Exchange rates are read by everyone and
    /// kept only by roles given the type by name: a role's `*` does not let a rep change what
    /// every total is converted at (and the roles page, which shows and saves this, keeps it so).
    pub fn permission(&self, entity: &str) -> EntityPermission {
        if self.admin {
            return EntityPermission::ALL;
        }
        if entity == crate::schema::EXCHANGE_RATE && !self.permissions.contains_key(entity) {
            return EntityPermission::READ_ALL;
        }
        self.permissions
            .get(entity)
            .or_else(|| self.permissions.get("*"))
            .copied()
            .unwrap_or(EntityPermission::NONE)
    }

    /// The role's rule for one field, if it has one (administrators have none).
    pub fn field_rule(&self, entity: &str, field: &str) -> Option<FieldRule> {
        if self.admin {
            return None;
        }
        self.fields.get(entity)?.get(field).copied()
    }

    /// The role's field rules on an entity type (none for administrators).
    pub fn field_rules(&self, entity: &str) -> Option<&BTreeMap<String, FieldRule>> {
        if self.admin {
            return None;
        }
        self.fields.get(entity).filter(|rules| !rules.is_empty())
    }

    /// Whether the role limits any field of any entity type.
    pub fn limits_fields(&self) -> bool {
        !self.admin && self.fields.values().any(|rules| !rules.is_empty())
    }

    /// The roles a new install starts with.
    pub fn defaults() -> Vec<Role> {
        let p = |c, r, u, d, scope| EntityPermission {
            create: c,
            read: r,
            update: u,
            delete: d,
            scope,
        };
        let role = |name: &str, en: &str, zh: &str, perms: Vec<(&str, EntityPermission)>| Role {
            name: name.into(),
            label: Label::new(en, zh),
            admin: false,
            permissions: perms.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
            fields: BTreeMap::new(),
        };
        let mut admin = role("admin", "Administrator", "管理员", vec![]);
        admin.admin = true;
        vec![
            admin,
            role(
                "manager",
                "Sales manager",
                "销售经理",
                vec![
                    ("*", p(true, true, true, true, Scope::Team)),
                    ("user", EntityPermission::READ_ALL),
                ],
            ),
            role(
                "sales",
                "Sales representative",
                "销售代表",
                vec![
                    ("*", p(true, true, true, false, Scope::Own)),
                    ("user", EntityPermission::READ_ALL),
                ],
            ),
            role(
                "hr",
                "HR",
                "人事",
                vec![
                    ("*", EntityPermission::NONE),
                    ("user", p(false, true, true, false, Scope::All)),
                ],
            ),
            role(
                "finance",
                "Finance",
                "财务",
                vec![
                    ("*", EntityPermission::READ_ALL),
                    ("user", EntityPermission::READ_ALL),
                    (
                        crate::schema::EXCHANGE_RATE,
                        p(true, true, true, true, Scope::All),
                    ),
                ],
            ),
        ]
    }
}

/// Who is asking: the store scopes and checks every operation against it.
#[derive(Debug, Clone)]
pub struct Access {
    /// The user, or `None` for the system itself (migrations, demo seeding, CLI).
    pub user_id: Option<i64>,
    /// The user's team (for `team` scope).
    pub team: Option<String>,
    /// The user's role.
    pub role: Arc<Role>,
    /// The user's preferred locale.
    pub locale: Locale,
}

impl Access {
    /// Full access, acting as nobody in particular.
    pub fn system() -> Access {
        let mut role = Role::defaults().remove(0);
        role.name = "system".into();
        Access {
            user_id: None,
            team: None,
            role: Arc::new(role),
            locale: Locale::En,
        }
    }

    /// The plugin acting, when this is a plugin's access (its role is named `plugin:<id>`).
    pub fn plugin(&self) -> Option<&str> {
        self.role.name.strip_prefix("plugin:")
    }

    /// Whether the caller administers the install.
    pub fn is_admin(&self) -> bool {
        self.role.admin
    }

    /// The permission on an entity type. Activities are a person's own whatever the role
    /// says: others read them only through the record they are about (its timeline), so a note
    /// on a record never reaches someone who may not read that record. (Exchange rates: see
    /// [`Role::permission`].)
    pub fn permission(&self, entity: &str) -> EntityPermission {
        let mut p = self.role.permission(entity);
        if entity == "activity" && !self.role.admin {
            p.scope = Scope::Own;
        }
        p
    }

    /// The caller's rule for one field (see [`Role::field_rule`]).
    pub fn field_rule(&self, entity: &str, field: &str) -> Option<FieldRule> {
        self.role.field_rule(entity, field)
    }

    /// Whether the field is hidden from the caller.
    pub fn hides(&self, entity: &str, field: &str) -> bool {
        self.field_rule(entity, field) == Some(FieldRule::Hidden)
    }

    /// Fails with [`Error::Forbidden`] unless the caller is an administrator.
    pub fn require_admin(&self) -> Result<()> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(Error::Forbidden("administrators only".into()))
        }
    }

    /// Fails with [`Error::Forbidden`] unless `check` holds for the caller's permission.
    pub fn require(
        &self,
        entity: &str,
        what: &str,
        check: fn(&EntityPermission) -> bool,
    ) -> Result<EntityPermission> {
        let p = self.permission(entity);
        if check(&p) {
            Ok(p)
        } else {
            Err(Error::Forbidden(format!(
                "role '{}' may not {what} '{entity}' records",
                self.role.name
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_and_admin() {
        let roles = Role::defaults();
        let sales = roles.iter().find(|r| r.name == "sales").unwrap();
        assert_eq!(sales.permission("customer").scope, Scope::Own);
        assert!(!sales.permission("customer").delete);
        assert!(!sales.permission("user").update);
        let hr = roles.iter().find(|r| r.name == "hr").unwrap();
        assert!(!hr.permission("customer").read);
        assert_eq!(roles[0].permission("anything"), EntityPermission::ALL);
    }
}
