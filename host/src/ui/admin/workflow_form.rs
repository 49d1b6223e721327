//! The workflow editor as a form, for administrators who do not write JSON: the state field and
//! initial state; per state, the fields it requires and locks; per transition, its name and
//! labels, from and to, who may make it, up to three conditions (all or any) and up to three
//! approval steps. What the form cannot show (nested conditions, named users) is left to the
//! JSON editor beside it. Fields are posted flat (`t0.name`, `t0.c1.op`, `t0.s0.who`, …) and
//! read back into the same definition the API takes, so one check guards both.

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
];

/// Conditions and approval steps the form shows per transition.
const CONDITIONS: usize = 3;
const STEPS: usize = 3;
/// Comparisons in the order the form offers them.
const OPS: &[&str] = &["eq", "ne", "gt", "gte", "lt", "lte", "in", "set", "not_set"];

/// `who` as the form writes it: `owner`, `owner_manager`, `role:<name>`, `field:<name>`.
fn who_key(w: &Who) -> Option<String> {
    match w {
        Who::Owner => Some("owner".into()),
        Who::OwnerManager => Some("owner_manager".into()),
        Who::Role(r) => Some(format!("role:{r}")),
        Who::UserField(f) => Some(format!("field:{f}")),
        Who::User(_) => None,
    }
}

fn who_json(key: &str) -> Option<Json> {
    match key {
        "owner" => Some(json!("owner")),
        "owner_manager" => Some(json!("owner_manager")),
        k => {
            if let Some(r) = k.strip_prefix("role:") {
                Some(json!({"role": r}))
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

/// A condition as the form's rows: (all or any, rows), when it is flat.
fn condition_rows(c: &Option<Condition>) -> Option<(&'static str, Vec<Row>)> {
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
    match c {
        None => Some(("all", vec![])),
        // "none of nothing" never holds; the form would read it back as no condition.
        Some(Condition::All { all: l } | Condition::Any { any: l }) if l.is_empty() => None,
        Some(Condition::All { all }) => Some(("all", all.iter().map(row).collect::<Option<_>>()?)),
        Some(Condition::Any { any }) => Some(("any", any.iter().map(row).collect::<Option<_>>()?)),
        Some(single) => Some(("all", vec![row(single)?])),
    }
}

/// The form's model of a workflow for the template, or `None` when the form cannot show it
/// (the JSON editor then stands alone).
pub(super) fn model(e: &Entity, wf: &Workflow, roles: &[String], locale: Locale) -> Option<Json> {
    let state_field = e.field(&wf.state_field)?;
    if !shows_everything(e, wf, roles) {
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
        let who: Vec<String> = tr.who.iter().map(who_key).collect::<Option<_>>()?;
        let (mode, rows) = condition_rows(&tr.when)?;
        if rows.len() > CONDITIONS || tr.approval.len() > STEPS {
            return None;
        }
        let mut steps = Vec::new();
        for s in &tr.approval {
            let who: Vec<String> = s.approvers.iter().map(who_key).collect::<Option<_>>()?;
            steps.push(json!({"who": who, "all": matches!(s.mode, qingguan_core::workflow::ApprovalMode::All),
                              "allow_self": s.allow_self}));
        }
        transitions.push(json!({
            "name": tr.name, "label_en": tr.label.en, "label_zh": tr.label.zh_cn,
            "from": tr.from, "to": tr.to, "who": who, "match": mode,
            "conditions": rows.iter().map(|(f, o, v)| json!({"field": f, "op": o, "value": v})).collect::<Vec<_>>(),
            "steps": steps,
        }));
    }
    // One empty transition to add a new one with.
    transitions.push(
        json!({"blank": true, "name": "", "label_en": "", "label_zh": "", "from": [],
                            "to": "", "who": [], "match": "all", "conditions": [], "steps": []}),
    );
    for tr in &mut transitions {
        for (key, n, empty) in [
            (
                "conditions",
                CONDITIONS,
                json!({"field": "", "op": "eq", "value": ""}),
            ),
            (
                "steps",
                STEPS,
                json!({"who": [], "all": false, "allow_self": false}),
            ),
        ] {
            if let Some(list) = tr[key].as_array_mut() {
                while list.len() < n {
                    list.push(empty.clone());
                }
            }
        }
    }
    Some(json!({
        "state_field": wf.state_field,
        "initial": wf.initial,
        "states": states,
        "transitions": transitions,
        "choices": choices(e, roles, locale),
    }))
}

/// Whether every field, role and state the workflow names is one the form offers — otherwise
/// saving the form unchanged would drop it (a condition on a hidden field, a step whose
/// approvers are a removed role: a guard or an approval lost).
fn shows_everything(e: &Entity, wf: &Workflow, roles: &[String]) -> bool {
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
        Who::Role(r) => roles.contains(r),
        Who::UserField(f) => user_field(f),
        Who::User(_) => false,
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
fn choices(e: &Entity, roles: &[String], locale: Locale) -> Json {
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
    who.extend(roles.iter().map(|r| {
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
    json!({"state_fields": state_fields, "fields": fields, "who": who, "ops": ops,
           "conditions": CONDITIONS, "steps": STEPS})
}

/// An empty model for a type's first workflow on `state_field`.
pub(super) fn blank(
    e: &Entity,
    state_field: &str,
    roles: &[String],
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
    model(e, &wf, roles, locale)
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
        let conditions: Vec<Json> = (0..CONDITIONS)
            .filter_map(|c| {
                let field = one(&p(&format!("c{c}.field")));
                let op = one(&p(&format!("c{c}.op")));
                (!field.is_empty()).then(|| {
                    let op = if op.is_empty() { "eq".to_string() } else { op };
                    let value = value_of(&field, &op, &one(&p(&format!("c{c}.value"))));
                    json!({"field": field, "op": op, "value": value})
                })
            })
            .collect();
        let when = match (conditions.len(), one(&p("match")).as_str()) {
            (0, _) => Json::Null,
            (_, "any") => json!({ "any": conditions }),
            _ => json!({ "all": conditions }),
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
