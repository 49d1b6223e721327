//! The workflow editor as a form, for administrators who do not write JSON: the state field and
//! initial state; per state, the fields it requires and locks; per transition, its name and
//! labels, from and to, who may make it (roles, the owner, their manager, a user field, named
//! people), its condition — up to three groups of up to three comparisons, each group all or
//! any, the groups joined by and or or (`amount > 5000 and (discount ≥ 10 or region = east)`) —
//! and up to three approval steps. What the form cannot show (deeper nesting, more rows) is left
//! to the JSON editor beside it. Fields are posted flat (`t0.name`, `t0.c1.op`, `t0.g1.c0.field`,
//! `t0.s0.who`, …) and read back into the same definition the API takes, so one check guards
//! both.

use crate::ui::render::t;
use qingguan_core::schema::{Entity, FieldType};
use qingguan_core::workflow::{Compare, Condition, Who, Workflow};
use qingguan_core::Locale;
use serde_json::{json, Map, Value as Json};

/// The form's words.
pub(super) const WORDS: &[&str] = &[
    "wf_form",
    "wf_json",
    "wf_json_help",
    "wf_json_only",
    "wf_state_field",
    "wf_choose",
    "wf_initial",
    "wf_states",
    "wf_state",
    "wf_required",
    "wf_locked",
    "wf_transitions",
    "wf_transition",
    "wf_new_transition",
    "wf_name",
    "wf_label_en",
    "wf_label_zh",
    "wf_from",
    "wf_from_any",
    "wf_to",
    "wf_who",
    "wf_who_anyone",
    "wf_when",
    "wf_match_all",
    "wf_match_any",
    "wf_field",
    "wf_op",
    "wf_value",
    "wf_steps",
    "wf_step",
    "wf_approvers",
    "wf_mode_any",
    "wf_mode_all",
    "wf_allow_self",
    "wf_remove",
    "wf_none",
    "wf_named",
    "wf_join_all",
    "wf_join_any",
    "wf_group",
];

/// Condition groups, conditions per group and approval steps the form shows per transition.
const GROUPS: usize = 3;
const CONDITIONS: usize = 3;
const STEPS: usize = 3;
/// Comparisons in the order the form offers them.
const OPS: &[&str] = &["eq", "ne", "gt", "gte", "lt", "lte", "in", "set", "not_set"];

/// Who the form offers: the roles, and the people an approver or a transition may name.
pub(super) struct People {
    /// Role names.
    pub roles: Vec<String>,
    /// Users as (id, how the form names them), in the order shown.
    pub users: Vec<(i64, String)>,
}

/// `who` as the form writes it: `owner`, `owner_manager`, `role:<name>`, `field:<name>`,
/// `user:<id>`.
fn who_key(w: &Who) -> String {
    match w {
        Who::Owner => "owner".into(),
        Who::OwnerManager => "owner_manager".into(),
        Who::Role(r) => format!("role:{r}"),
        Who::UserField(f) => format!("field:{f}"),
        Who::User(u) => format!("user:{u}"),
    }
}

fn who_json(key: &str) -> Option<Json> {
    match key {
        "owner" => Some(json!("owner")),
        "owner_manager" => Some(json!("owner_manager")),
        k => {
            if let Some(r) = k.strip_prefix("role:") {
                Some(json!({"role": r}))
            } else if let Some(u) = k.strip_prefix("user:") {
                u.parse::<i64>().ok().map(|u| json!({ "user": u }))
            } else {
                k.strip_prefix("field:").map(|f| json!({"user_field": f}))
            }
        }
    }
}

fn op_name(op: Compare) -> &'static str {
    match op {
        Compare::Eq => "eq",
        Compare::Ne => "ne",
        Compare::Gt => "gt",
        Compare::Gte => "gte",
        Compare::Lt => "lt",
        Compare::Lte => "lte",
        Compare::In => "in",
        Compare::Set => "set",
        Compare::NotSet => "not_set",
    }
}

/// One condition row of the form: field, comparison, value as text.
type Row = (String, String, String);

/// One group of rows: all or any of them.
type Group = (&'static str, Vec<Row>);

/// A condition as the form's groups: (how the groups join, the groups), when it is at most a
/// list of flat lists. A flat list is one group; in a list of comparisons and lists, the
/// comparisons form the first group (joined as the list is) and each list one more.
fn condition_groups(c: &Option<Condition>) -> Option<(&'static str, Vec<Group>)> {
    let text = |v: &Json| match v {
        Json::Array(l) => l
            .iter()
            .map(|x| {
                x.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| x.to_string())
            })
            .collect::<Vec<_>>()
            .join(", "),
        Json::String(s) => s.clone(),
        Json::Null => String::new(),
        other => other.to_string(),
    };
    let row = |c: &Condition| match c {
        // A list item with a comma would come back as two items.
        Condition::Field {
            value: Json::Array(l),
            ..
        } if l
            .iter()
            .any(|x| x.as_str().is_some_and(|s| s.contains([',', '，']))) =>
        {
            None
        }
        Condition::Field { field, op, value } => {
            Some((field.clone(), op_name(*op).to_string(), text(value)))
        }
        _ => None,
    };
    // "all/any of nothing" would read back as no condition.
    let list = |c: &Condition| -> Option<(&'static str, Vec<Condition>)> {
        match c {
            Condition::All { all: l } if !l.is_empty() => Some(("all", l.clone())),
            Condition::Any { any: l } if !l.is_empty() => Some(("any", l.clone())),
            _ => None,
        }
    };
    let Some(c) = c else {
        return Some(("all", vec![]));
    };
    if let Condition::Field { .. } = c {
        return Some(("all", vec![("all", vec![row(c)?])]));
    }
    let (join, items) = list(c)?;
    let mut first: Vec<Row> = Vec::new();
    let mut groups: Vec<Group> = Vec::new();
    for item in &items {
        match item {
            Condition::Field { .. } => first.push(row(item)?),
            nested => {
                let (mode, inner) = list(nested)?;
                groups.push((mode, inner.iter().map(row).collect::<Option<_>>()?));
            }
        }
    }
    if !first.is_empty() {
        groups.insert(0, (join, first));
    }
    Some((join, groups))
}

/// The form's model of a workflow for the template, or `None` when the form cannot show it
/// (the JSON editor then stands alone).
pub(super) fn model(e: &Entity, wf: &Workflow, people: &People, locale: Locale) -> Option<Json> {
    let state_field = e.field(&wf.state_field)?;
    if !shows_everything(e, wf, people) {
        return None;
    }
    let states: Vec<Json> = state_field
        .def
        .options
        .iter()
        .map(|o| {
            let rules = wf.states.get(&o.value).cloned().unwrap_or_default();
            json!({"value": o.value, "label": o.label.get(locale), "required": rules.required,
                   "locked": rules.locked})
        })
        .collect();
    let mut transitions = Vec::new();
    for tr in &wf.transitions {
        let who: Vec<String> = tr.who.iter().map(who_key).collect();
        let (join, groups) = condition_groups(&tr.when)?;
        if groups.len() > GROUPS
            || groups.iter().any(|(_, rows)| rows.len() > CONDITIONS)
            || tr.approval.len() > STEPS
        {
            return None;
        }
        let mut steps = Vec::new();
        for s in &tr.approval {
            let who: Vec<String> = s.approvers.iter().map(who_key).collect();
            steps.push(json!({"who": who, "all": matches!(s.mode, qingguan_core::workflow::ApprovalMode::All),
                              "allow_self": s.allow_self}));
        }
        transitions.push(json!({
            "name": tr.name, "label_en": tr.label.en, "label_zh": tr.label.zh_cn,
            "from": tr.from, "to": tr.to, "who": who, "join": join,
            "groups": groups.iter().map(|(mode, rows)| json!({"match": mode,
                "conditions": rows.iter().map(|(f, o, v)| json!({"field": f, "op": o, "value": v})).collect::<Vec<_>>()}))
                .collect::<Vec<_>>(),
            "steps": steps,
        }));
    }
    // One empty transition to add a new one with.
    transitions.push(
        json!({"blank": true, "name": "", "label_en": "", "label_zh": "", "from": [],
                            "to": "", "who": [], "join": "all", "groups": [], "steps": []}),
    );
    let pad = |list: Option<&mut Vec<Json>>, n: usize, empty: &Json| {
        if let Some(list) = list {
            while list.len() < n {
                list.push(empty.clone());
            }
        }
    };
    for (i, tr) in transitions.iter_mut().enumerate() {
        pad(
            tr["groups"].as_array_mut(),
            GROUPS,
            &json!({"match": "all", "conditions": []}),
        );
        pad(
            tr["steps"].as_array_mut(),
            STEPS,
            &json!({"who": [], "all": false, "allow_self": false}),
        );
        for (g, group) in tr["groups"]
            .as_array_mut()
            .into_iter()
            .flatten()
            .enumerate()
        {
            // The first group keeps the names the form has always posted (`t0.c0.field`).
            group["prefix"] = json!(if g == 0 {
                format!("t{i}.")
            } else {
                format!("t{i}.g{g}.")
            });
            pad(
                group["conditions"].as_array_mut(),
                CONDITIONS,
                &json!({"field": "", "op": "eq", "value": ""}),
            );
        }
    }
    Some(json!({
        "state_field": wf.state_field,
        "initial": wf.initial,
        "states": states,
        "transitions": transitions,
        "choices": choices(e, people, locale),
    }))
}

/// Whether every field, role and state the workflow names is one the form offers — otherwise
/// saving the form unchanged would drop it (a condition on a hidden field, a step whose
/// approvers are a removed role: a guard or an approval lost).
fn shows_everything(e: &Entity, wf: &Workflow, people: &People) -> bool {
    let offered = |name: &str| e.field(name).is_some_and(|f| !f.retired && !f.hidden);
    let user_field = |name: &str| {
        e.field(name)
            .is_some_and(|f| !f.retired && !f.hidden && f.def.kind == FieldType::User)
    };
    let states: Vec<&str> = e
        .field(&wf.state_field)
        .map(|f| f.def.options.iter().map(|o| o.value.as_str()).collect())
        .unwrap_or_default();
    let who_ok = |w: &Who| match w {
        Who::Owner | Who::OwnerManager => true,
        Who::Role(r) => people.roles.contains(r),
        Who::UserField(f) => user_field(f),
        Who::User(u) => people.users.iter().any(|(id, _)| id == u),
    };
    fn fields_of(c: &Condition, out: &mut Vec<String>) {
        match c {
            Condition::All { all: l } | Condition::Any { any: l } => {
                l.iter().for_each(|c| fields_of(c, out))
            }
            Condition::Field { field, .. } => out.push(field.clone()),
        }
    }
    let state_ok = |s: &str| states.contains(&s);
    let names_ok = wf.transitions.iter().all(|t| {
        !t.name.is_empty()
            && t.name.starts_with(|c: char| c.is_ascii_lowercase())
            && t.name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    });
    let mut names: Vec<&str> = wf.transitions.iter().map(|t| t.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    names_ok
        && names.len() == wf.transitions.len()
        && wf.initial.as_deref().is_none_or(state_ok)
        && wf
            .states
            .iter()
            .all(|(s, r)| state_ok(s) && r.required.iter().chain(&r.locked).all(|f| offered(f)))
        && wf.transitions.iter().all(|t| {
            let mut cond_fields = Vec::new();
            if let Some(c) = &t.when {
                fields_of(c, &mut cond_fields);
            }
            t.from.iter().all(|s| state_ok(s))
                // Empty only in a refused form shown again (a stored one has passed the check).
                && (t.to.is_empty() || state_ok(&t.to))
                && t.who.iter().all(who_ok)
                && cond_fields.iter().all(|f| offered(f))
                && t.approval.iter().all(|s| s.approvers.iter().all(who_ok))
        })
}

/// What the form's selects and checkboxes offer.
fn choices(e: &Entity, people: &People, locale: Locale) -> Json {
    let live = || e.fields.iter().filter(|f| !f.retired && !f.hidden);
    let state_fields: Vec<Json> = live()
        .filter(|f| f.def.kind == FieldType::Select)
        .map(|f| json!({"name": f.def.name, "label": f.def.label.get(locale)}))
        .collect();
    let fields: Vec<Json> = live()
        .map(|f| json!({"name": f.def.name, "label": f.def.label.get(locale)}))
        .collect();
    let mut who = vec![
        json!({"key": "owner", "label": t(locale, "wf_who_owner")}),
        json!({"key": "owner_manager", "label": t(locale, "wf_who_owner_manager")}),
    ];
    who.extend(people.roles.iter().map(|r| {
        json!({"key": format!("role:{r}"), "label": t(locale, "wf_who_role").replace("{name}", r)})
    }));
    who.extend(live().filter(|f| f.def.kind == FieldType::User).map(|f| {
        json!({"key": format!("field:{}", f.def.name),
               "label": t(locale, "wf_who_field").replace("{name}", f.def.label.get(locale))})
    }));
    let ops: Vec<Json> = OPS
        .iter()
        .map(|o| json!({"value": o, "label": t(locale, &format!("wf_op_{o}"))}))
        .collect();
    let users: Vec<Json> = people
        .users
        .iter()
        .map(|(id, label)| json!({"key": format!("user:{id}"), "label": label}))
        .collect();
    json!({"state_fields": state_fields, "fields": fields, "who": who, "users": users,
           "ops": ops, "conditions": CONDITIONS, "steps": STEPS})
}

/// An empty model for a type's first workflow on `state_field`.
pub(super) fn blank(
    e: &Entity,
    state_field: &str,
    people: &People,
    locale: Locale,
) -> Option<Json> {
    let wf = Workflow {
        state_field: state_field.to_string(),
        initial: e
            .field(state_field)?
            .def
            .options
            .first()
            .map(|o| o.value.clone()),
        states: Default::default(),
        transitions: vec![],
    };
    model(e, &wf, people, locale)
}

/// Reads the posted form into a workflow definition (JSON, as the API takes it). Rows left
/// empty are skipped; a transition ticked for removal is left out.
pub(super) fn parse(e: &Entity, form: &[(String, String)]) -> Json {
    let one = |k: &str| {
        form.iter()
            .rev()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    let many = |k: &str| -> Vec<String> {
        form.iter()
            .filter(|(n, v)| n == k && !v.trim().is_empty())
            .map(|(_, v)| v.trim().to_string())
            .collect()
    };
    let state_field = one("state_field");
    let options: Vec<String> = e
        .field(&state_field)
        .map(|f| f.def.options.iter().map(|o| o.value.clone()).collect())
        .unwrap_or_default();
    let mut states = Map::new();
    for v in &options {
        let (required, locked) = (many(&format!("req.{v}")), many(&format!("lock.{v}")));
        if !required.is_empty() || !locked.is_empty() {
            states.insert(v.clone(), json!({"required": required, "locked": locked}));
        }
    }
    let value_of = |field: &str, op: &str, text: &str| -> Json {
        let kind = e.field(field).map(|f| f.def.kind);
        let typed = |s: &str| -> Json {
            match (kind, s) {
                (Some(FieldType::Boolean), "true" | "yes" | "是") => json!(true),
                (Some(FieldType::Boolean), "false" | "no" | "否") => json!(false),
                _ => json!(s),
            }
        };
        match op {
            "set" | "not_set" => Json::Null,
            "in" => Json::Array(
                text.split([',', '，'])
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(typed)
                    .collect(),
            ),
            _ => typed(text),
        }
    };
    let mut transitions = Vec::new();
    for i in 0.. {
        let p = |k: &str| format!("t{i}.{k}");
        if !form.iter().any(|(n, _)| n.starts_with(&format!("t{i}."))) {
            break;
        }
        let name = one(&p("name"));
        if name.is_empty() || one(&p("remove")) == "on" {
            continue;
        }
        // Each group's rows, as one comparison (a group of one) or all/any of them.
        let groups: Vec<Json> = (0..GROUPS)
            .filter_map(|g| {
                let q = |k: &str| {
                    if g == 0 {
                        p(k)
                    } else {
                        p(&format!("g{g}.{k}"))
                    }
                };
                let rows: Vec<Json> = (0..CONDITIONS)
                    .filter_map(|c| {
                        let field = one(&q(&format!("c{c}.field")));
                        let op = one(&q(&format!("c{c}.op")));
                        (!field.is_empty()).then(|| {
                            let op = if op.is_empty() { "eq".to_string() } else { op };
                            let value = value_of(&field, &op, &one(&q(&format!("c{c}.value"))));
                            json!({"field": field, "op": op, "value": value})
                        })
                    })
                    .collect();
                let mode = if one(&q("match")) == "any" {
                    "any"
                } else {
                    "all"
                };
                Some(match rows.len() {
                    0 => return None,
                    1 if g > 0 => rows[0].clone(),
                    _ => json!({ mode: rows }),
                })
            })
            .collect();
        let join = if one(&p("join")) == "any" {
            "any"
        } else {
            "all"
        };
        let when = match groups.len() {
            0 => Json::Null,
            // One group alone keeps its own all/any (a single comparison included).
            1 if groups[0].get("field").is_none() => groups[0].clone(),
            1 => json!({ "all": groups }),
            _ => json!({ join: groups }),
        };
        let approval: Vec<Json> = (0..STEPS)
            .filter_map(|s| {
                let who: Vec<Json> = many(&p(&format!("s{s}.who")))
                    .iter()
                    .filter_map(|k| who_json(k))
                    .collect();
                (!who.is_empty()).then(|| {
                    json!({"approvers": who,
                           "mode": if one(&p(&format!("s{s}.mode"))) == "all" { "all" } else { "any" },
                           "allow_self": one(&p(&format!("s{s}.allow_self"))) == "on"})
                })
            })
            .collect();
        let who: Vec<Json> = many(&p("who")).iter().filter_map(|k| who_json(k)).collect();
        let mut tr = json!({
            "name": name,
            "label": {"en": one(&p("label_en")), "zh-CN": one(&p("label_zh"))},
            "from": many(&p("from")),
            "to": one(&p("to")),
            "who": who,
        });
        if !when.is_null() {
            tr["when"] = when;
        }
        if !approval.is_empty() {
            tr["approval"] = json!(approval);
        }
        transitions.push(tr);
    }
    let initial = one("initial");
    let mut def = json!({
        "state_field": state_field,
        "states": states,
        "transitions": transitions,
    });
    if !initial.is_empty() {
        def["initial"] = json!(initial);
    }
    def
}
