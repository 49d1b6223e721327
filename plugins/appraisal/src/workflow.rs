//! The cycle's workflow: starting a cycle (appraisals, cascaded targets, carried improvement
//! items), target negotiation, manual actuals, 360° ratings, feedback with an improvement
//! plan, and the stage transitions — the close of the scores among them.

use crate::engine;
use crate::model::{self, Appraisal, Cycle, Person, Target};
use crate::score::round2;
use crate::who::Me;
use qingguan_plugin_sdk::date;
use qingguan_plugin_sdk::host::{self, Query};
use qingguan_plugin_sdk::{json, Decimal, Error, Record, Result, Value};
use std::collections::BTreeMap;
use std::str::FromStr;

/// The manager of a person: their `manager` field, else the team's manager.
fn manager_of(p: &Person, people: &BTreeMap<i64, Person>) -> Option<i64> {
    p.manager.or_else(|| {
        people
            .values()
            .find(|u| u.active && u.role == "manager" && u.team == p.team && u.id != p.id)
            .map(|u| u.id)
    })
}

/// Creates the appraisals of every active user whose role a job profile names, with targets
/// from the profile's KPIs cascaded from the company and team targets, and carries open
/// improvement items in. Idempotent: people who already have an appraisal are skipped.
pub fn start(me: &Me, cycle: &Cycle) -> Result<Value> {
    me.require_hr()?;
    if cycle.stage != "plan" {
        return Err(Error::Conflict(
            me.t(
                "appraisals are created in the plan stage",
                "只能在计划阶段生成考核表",
            )
            .into(),
        ));
    }
    let people = model::people()?;
    let profiles = host::query_all("job_profile", &Query::new().sort("id"))?;
    let existing: Vec<i64> = model::appraisals(cycle.rec.id)?
        .iter()
        .map(|a| a.person)
        .collect();
    let mut created = Vec::new();
    for p in people.values().filter(|p| p.active) {
        if existing.contains(&p.id) {
            continue;
        }
        let Some(profile) = profiles.iter().find(|pr| {
            pr.get("active").and_then(|v| v.as_bool()) != Some(false)
                && pr
                    .str("roles")
                    .unwrap_or_default()
                    .split([',', '，', ' '])
                    .any(|r| r.trim() == p.role)
        }) else {
            continue;
        };
        let a = host::create(
            "appraisal",
            &json!({
                "title": format!("{} · {}", cycle.name(), p.name),
                "cycle": cycle.rec.id, "person": p.id, "manager": manager_of(p, &people),
                "profile": profile.id, "team": p.team, "status": "draft", "owner": p.id,
            }),
        )?;
        created.push(a.id);
    }
    let all = model::appraisals(cycle.rec.id)?;
    // New appraisals, and any a failed earlier run left without targets.
    let targets = model::targets_of(&all)?;
    let cascade = Cascade::load(cycle, &all)?;
    for a in all.iter().filter(|a| {
        created.contains(&a.rec.id) || targets.get(&a.rec.id).is_none_or(|t| t.is_empty())
    }) {
        seed(a, &cascade)?;
    }
    Ok(json!({"created": created.len(), "appraisals": all.len()}))
}

/// What seeding appraisals needs from a cycle, read once: its company and team targets, each
/// profile's KPIs, and how many people share each cascaded target (appraisals, of a team or
/// of the company, whose profile has a personal KPI with that source).
pub struct Cascade {
    targets: Vec<Record>,
    kpis: BTreeMap<i64, Vec<Record>>,
    sharing: BTreeMap<(String, String), i64>,
}

impl Cascade {
    /// Reads the cascade of a cycle with these appraisals.
    pub fn load(cycle: &Cycle, all: &[Appraisal]) -> Result<Cascade> {
        let targets = host::query_all("cycle_target", &Query::new().eq("cycle", cycle.rec.id))?;
        let mut kpis: BTreeMap<i64, Vec<Record>> = BTreeMap::new();
        let mut sharing: BTreeMap<(String, String), i64> = BTreeMap::new();
        for a in all {
            if let std::collections::btree_map::Entry::Vacant(e) = kpis.entry(a.profile()) {
                e.insert(host::query_all(
                    "kpi",
                    &Query::new().eq("profile", a.profile()).sort("id"),
                )?);
            }
            let personal = kpis[&a.profile()]
                .iter()
                .filter(|k| k.str("scope").unwrap_or("person") == "person")
                .filter_map(|k| k.str("source"));
            for source in personal {
                *sharing
                    .entry((a.team.clone(), source.to_string()))
                    .or_default() += 1;
                *sharing
                    .entry((String::new(), source.to_string()))
                    .or_default() += 1;
            }
        }
        Ok(Cascade {
            targets,
            kpis,
            sharing,
        })
    }

    fn target_of(&self, team: &str, source: &str) -> Option<Decimal> {
        self.targets
            .iter()
            .find(|c| c.str("team").unwrap_or_default() == team && c.str("source") == Some(source))
            .and_then(|c| c.decimal("target"))
    }

    fn share(&self, team: &str, source: &str) -> Decimal {
        let n = self.sharing.get(&(team.to_string(), source.to_string()));
        Decimal::from(n.copied().unwrap_or(1).max(1))
    }
}

/// Gives a new appraisal its targets (from the profile, cascaded) and carries the person's
/// open improvement items into it.
pub fn seed(a: &Appraisal, cascade: &Cascade) -> Result<()> {
    let kpis = match cascade.kpis.get(&a.profile()) {
        Some(k) => k.clone(),
        None => host::query_all("kpi", &Query::new().eq("profile", a.profile()).sort("id"))?,
    };
    for k in kpis {
        let source = k.str("source").unwrap_or("manual").to_string();
        let scope = k.str("scope").unwrap_or("person").to_string();
        let target = if scope == "team" {
            cascade
                .target_of(&a.team, &source)
                .or_else(|| k.decimal("default_target"))
        } else if let Some(t) = cascade.target_of(&a.team, &source) {
            Some(round2(t / cascade.share(&a.team, &source)))
        } else if let Some(t) = cascade.target_of("", &source) {
            Some(round2(t / cascade.share("", &source)))
        } else {
            k.decimal("default_target")
        };
        host::create(
            "appraisal_target",
            &json!({
                "appraisal": a.rec.id, "kpi_name": k.str("name"), "source": source, "scope": scope,
                "weight": k.i64("weight"), "rule": k.str("rule").unwrap_or("linear"),
                "cap": k.i64("cap"), "bands": k.str("bands"), "rule_plugin": k.str("rule_plugin"),
                "lower_is_better": k.get("lower_is_better").cloned().unwrap_or(json!(false)),
                "target": target.map(|t| t.to_string()), "owner": a.person,
            }),
        )?;
    }
    // Open items of earlier cycles (also ones carried before and still open) move on.
    let open = host::query_all(
        "improvement",
        &Query::new().eq("person", a.person).eq("status", "open"),
    )?;
    for i in open {
        if i.i64("appraisal") != Some(a.rec.id) && i.i64("carried_to") != Some(a.rec.id) {
            host::update(
                "improvement",
                i.id,
                i.version,
                &json!({"carried_to": a.rec.id}),
            )?;
        }
    }
    Ok(())
}

fn now_line(me: &Me, people: &BTreeMap<i64, Person>, what: &str) -> String {
    format!(
        "{} {}: {what}",
        date::format(date::today()),
        model::name_of(people, me.id)
    )
}

fn append(log: Option<&str>, line: &str) -> String {
    // One line per step: a comment cannot forge further dated lines.
    let line = line.replace(['\n', '\r'], " ");
    let line = line.as_str();
    match log {
        Some(l) if !l.is_empty() => format!("{l}\n{line}"),
        _ => line.to_string(),
    }
}

/// Whether the caller manages this appraisal (its manager, or HR).
pub fn manages(me: &Me, a: &Appraisal) -> bool {
    if me.id.is_some() && me.id == Some(a.person) {
        return false; // nobody manages their own appraisal, HR included
    }
    me.hr || (me.id.is_some() && a.manager == me.id)
}

fn parse_amount(v: &str, field: &str, me: &Me) -> Result<Decimal> {
    Decimal::from_str(v.trim().replace([',', '，'], "").as_str())
        .ok()
        .filter(|d| !d.is_sign_negative())
        .ok_or_else(|| {
            Error::invalid(me.t("a value is not a number", "有数值格式不正确"))
                .field(field, me.t("must be a number ≥ 0", "必须是不小于0的数字"))
        })
}

/// The manager proposes (or revises) targets: `target_<id>` values and a comment.
pub fn propose(me: &Me, a: &Appraisal, form: &BTreeMap<String, String>) -> Result<()> {
    if !manages(me, a) {
        return Err(Error::Denied(
            me.t("only the manager proposes targets", "只有上级可以制定目标")
                .into(),
        ));
    }
    let cycle = Cycle::load(a.cycle())?;
    if cycle.stage != "plan" {
        return Err(Error::Conflict(
            me.t(
                "targets are set in the plan stage",
                "目标只能在计划阶段制定",
            )
            .into(),
        ));
    }
    let targets = a.targets()?;
    let mut changes = Vec::new();
    for t in &targets {
        let key = format!("target_{}", t.rec.id);
        let Some(v) = form.get(&key) else { continue };
        let d = parse_amount(v, &key, me)?;
        if d.is_zero() {
            return Err(
                Error::invalid(me.t("a target must be above zero", "目标值必须大于0"))
                    .field(key, me.t("must be above zero", "必须大于0")),
            );
        }
        changes.push((t, d));
    }
    if let Some(missing) = targets
        .iter()
        .find(|t| t.target.is_none() && !changes.iter().any(|(c, _)| c.rec.id == t.rec.id))
    {
        return Err(
            Error::invalid(me.t("every indicator needs a target", "每个指标都需要目标值"))
                .field(format!("target_{}", missing.rec.id), missing.name.clone()),
        );
    }
    let people = model::people()?;
    let mut parts = Vec::new();
    for (t, d) in &changes {
        if t.target != Some(*d) {
            host::update(
                "appraisal_target",
                t.rec.id,
                t.rec.version,
                &json!({"target": d.to_string()}),
            )?;
        }
        parts.push(format!("{} {}", t.name, d));
    }
    let comment = form.get("comment").map(|c| c.trim()).unwrap_or_default();
    let mut line = format!(
        "{} {}",
        me.t("proposed targets:", "提出目标："),
        parts.join(", ")
    );
    if !comment.is_empty() {
        line.push_str(&format!(" — {comment}"));
    }
    let a = Appraisal::load(a.rec.id)?;
    host::update(
        "appraisal",
        a.rec.id,
        a.rec.version,
        &json!({"status": "proposed", "negotiation": append(a.rec.str("negotiation"), &now_line(me, &people, &line))}),
    )?;
    Ok(())
}

/// The person accepts the proposed targets or objects (a comment and resources needed).
pub fn respond(me: &Me, a: &Appraisal, form: &BTreeMap<String, String>) -> Result<()> {
    if me.id != Some(a.person) {
        return Err(Error::Denied(
            me.t(
                "only the person appraised answers a proposal",
                "只有被考核人可以确认目标",
            )
            .into(),
        ));
    }
    if let Some(v) = form.get("version").and_then(|v| v.parse::<i64>().ok()) {
        if v != a.rec.version {
            return Err(Error::Conflict(
                me.t(
                    "the targets changed while you were reading them; look at them again",
                    "目标在您查看期间已被修改，请重新查看",
                )
                .into(),
            ));
        }
    }
    if a.status != "proposed" {
        return Err(Error::Conflict(
            me.t(
                "there is no proposal waiting for your answer",
                "没有待确认的目标",
            )
            .into(),
        ));
    }
    let people = model::people()?;
    let comment = form
        .get("comment")
        .map(|c| c.trim().to_string())
        .unwrap_or_default();
    let resources = form
        .get("resources")
        .map(|c| c.trim().to_string())
        .unwrap_or_default();
    let patch = match form.get("decision").map(String::as_str) {
        Some("accept") => {
            let line = if comment.is_empty() {
                me.t("accepted the targets", "确认目标").to_string()
            } else {
                format!("{} — {comment}", me.t("accepted the targets", "确认目标"))
            };
            json!({"status": "agreed", "negotiation": append(a.rec.str("negotiation"), &now_line(me, &people, &line))})
        }
        Some("object") => {
            if comment.is_empty() {
                return Err(Error::invalid(me.t("say what you object to", "请说明异议"))
                    .field("comment", me.t("required when objecting", "提出异议时必填")));
            }
            let mut line = format!("{} {comment}", me.t("objected:", "提出异议："));
            if !resources.is_empty() {
                line.push_str(&format!(
                    " | {} {resources}",
                    me.t("resources needed:", "需要资源：")
                ));
            }
            json!({"status": "objected", "objection": comment, "resources": resources,
                   "negotiation": append(a.rec.str("negotiation"), &now_line(me, &people, &line))})
        }
        _ => {
            return Err(
                Error::invalid(me.t("choose accept or object", "请选择确认或提出异议"))
                    .field("decision", "accept | object"),
            )
        }
    };
    host::update("appraisal", a.rec.id, a.rec.version, &patch)?;
    Ok(())
}

/// The manager enters actuals of manual indicators: `actual_<id>` values.
pub fn actuals(me: &Me, a: &Appraisal, form: &BTreeMap<String, String>) -> Result<()> {
    if !manages(me, a) {
        return Err(Error::Denied(
            me.t("only the manager enters actuals", "只有上级可以录入实际值")
                .into(),
        ));
    }
    let cycle = Cycle::load(a.cycle())?;
    if !matches!(cycle.stage.as_str(), "plan" | "appraise") {
        return Err(Error::Conflict(
            me.t("the scores of this cycle are closed", "本周期成绩已锁定")
                .into(),
        ));
    }
    for t in a.targets()? {
        let key = format!("actual_{}", t.rec.id);
        let Some(v) = form.get(&key).filter(|v| !v.trim().is_empty()) else {
            continue;
        };
        if t.source != "manual" || t.scope != "person" {
            return Err(Error::invalid(me.t(
                "this indicator comes from CRM data",
                "该指标来自CRM数据，不能手工录入",
            ))
            .field(key, t.name.clone()));
        }
        let d = parse_amount(v, &key, me)?;
        host::update(
            "appraisal_target",
            t.rec.id,
            t.rec.version,
            &json!({"actual": d.to_string()}),
        )?;
    }
    Ok(())
}

/// Which groups a user may rate an appraisal as.
pub fn rater_groups(
    uid: i64,
    a: &Appraisal,
    people: &BTreeMap<i64, Person>,
    appraised: &[i64],
) -> Vec<&'static str> {
    let mut g = Vec::new();
    if uid == a.person {
        g.push("self");
    }
    if a.manager == Some(uid) {
        g.push("manager");
    }
    let me = people.get(&uid);
    if uid != a.person
        && a.manager != Some(uid)
        && appraised.contains(&uid)
        && me.is_some_and(|m| m.team == a.team && m.manager != Some(a.person))
    {
        g.push("peer");
    }
    if me.is_some_and(|m| m.manager == Some(a.person)) && uid != a.person {
        g.push("subordinate");
    }
    g
}

/// A rater submits scores for every qualitative item (`score_<item>` = 1…scale) as one group.
pub fn rate(me: &Me, a: &Appraisal, form: &BTreeMap<String, String>) -> Result<usize> {
    let uid = me.user()?;
    let cycle = Cycle::load(a.cycle())?;
    if cycle.stage != "appraise" {
        return Err(Error::Conflict(
            me.t(
                "ratings are given in the appraise stage",
                "只能在考核阶段评分",
            )
            .into(),
        ));
    }
    let people = model::people()?;
    let appraised: Vec<i64> = model::appraisals(cycle.rec.id)?
        .iter()
        .map(|x| x.person)
        .collect();
    let group = form.get("group").cloned().unwrap_or_default();
    if !rater_groups(uid, a, &people, &appraised).contains(&group.as_str()) {
        return Err(Error::Denied(
            me.t(
                "you do not rate this person in that role",
                "您不能以该身份为此人评分",
            )
            .into(),
        ));
    }
    let profile = engine::Profile::load(a.profile())?;
    let scale = host::config()["rating_scale"].as_i64().unwrap_or(5).max(1);
    let mut scores = Vec::new();
    for (i, item) in profile.item_names().iter().enumerate() {
        let key = format!("score_{i}");
        // The form names the items it showed: if HR changed them meanwhile, nothing lands on
        // the wrong item.
        if form
            .get(&format!("item_{i}"))
            .is_some_and(|shown| shown != item)
        {
            return Err(Error::Conflict(
                me.t(
                    "the items to rate changed; open the form again",
                    "评价项已变更，请重新打开评分表",
                )
                .into(),
            ));
        }
        let v = form.get(&key).map(|s| s.trim()).unwrap_or_default();
        let n: i64 = v
            .parse()
            .ok()
            .filter(|n| (1..=scale).contains(n))
            .ok_or_else(|| {
                Error::invalid(me.t("rate every item", "请为每一项评分"))
                    .field(key.clone(), format!("{item}: 1–{scale}"))
            })?;
        scores.push((item.clone(), n));
    }
    let comment = form
        .get("comment")
        .map(|c| c.trim().to_string())
        .unwrap_or_default();
    let mine = host::query_all(
        "rating",
        &Query::new()
            .eq("appraisal", a.rec.id)
            .eq("rater", uid)
            .eq("rater_group", &group),
    )?;
    for (item, n) in &scores {
        let body = json!({"appraisal": a.rec.id, "rater": uid, "rater_group": group, "item": item,
                          "score": n, "comment": comment, "owner": uid});
        match mine.iter().find(|r| r.str("item") == Some(item.as_str())) {
            Some(r) => {
                host::update("rating", r.id, r.version, &body)?;
            }
            None => {
                host::create("rating", &body)?;
            }
        }
    }
    Ok(scores.len())
}

/// The manager records the feedback interview and the improvement plan
/// (`item_<n>`, `responsible_<n>`, `due_<n>`).
pub fn feedback(me: &Me, a: &Appraisal, form: &BTreeMap<String, String>) -> Result<usize> {
    if !manages(me, a) {
        return Err(Error::Denied(
            me.t("only the manager records feedback", "只有上级可以记录面谈")
                .into(),
        ));
    }
    let cycle = Cycle::load(a.cycle())?;
    if !matches!(cycle.stage.as_str(), "feedback" | "improve") {
        return Err(Error::Conflict(
            me.t(
                "feedback follows the close of the scores",
                "成绩锁定后才能面谈",
            )
            .into(),
        ));
    }
    let text = form
        .get("feedback")
        .map(|c| c.trim().to_string())
        .unwrap_or_default();
    if text.is_empty() {
        return Err(
            Error::invalid(me.t("write down the feedback", "请填写面谈记录"))
                .field("feedback", me.t("required", "必填")),
        );
    }
    let on = form
        .get("feedback_on")
        .filter(|d| !d.trim().is_empty())
        .cloned()
        .unwrap_or_else(|| date::format(date::today()));
    if date::parse(&on).is_none() {
        return Err(
            Error::invalid(me.t("the date is not valid", "日期格式不正确"))
                .field("feedback_on", "YYYY-MM-DD"),
        );
    }
    let mut items = Vec::new();
    for n in 1..=20 {
        let Some(item) = form
            .get(&format!("item_{n}"))
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
        else {
            continue;
        };
        let responsible = form
            .get(&format!("responsible_{n}"))
            .and_then(|s| s.trim().parse::<i64>().ok())
            .unwrap_or(a.person);
        let due = form
            .get(&format!("due_{n}"))
            .map(|s| s.trim())
            .filter(|s| !s.is_empty());
        if let Some(d) = due {
            if date::parse(d).is_none() {
                return Err(
                    Error::invalid(me.t("a due date is not valid", "截止日期格式不正确"))
                        .field(format!("due_{n}"), "YYYY-MM-DD"),
                );
            }
        }
        items.push((item.to_string(), responsible, due.map(str::to_string)));
    }
    // Recording the feedback again adds only items not already in the plan.
    let existing: Vec<String> =
        host::query_all("improvement", &Query::new().eq("appraisal", a.rec.id))?
            .iter()
            .filter_map(|i| i.str("item").map(str::to_string))
            .collect();
    items.retain(|(item, _, _)| !existing.contains(item));
    for (item, responsible, due) in &items {
        host::create(
            "improvement",
            &json!({"appraisal": a.rec.id, "person": a.person, "item": item, "responsible": responsible,
                    "due_on": due, "status": "open", "owner": a.person}),
        )?;
    }
    host::update(
        "appraisal",
        a.rec.id,
        a.rec.version,
        &json!({"feedback": text, "feedback_on": on, "status": "reviewed"}),
    )?;
    Ok(items.len())
}

/// Marks an improvement item done (the person, their manager or HR).
pub fn improvement_done(me: &Me, id: i64) -> Result<()> {
    let i = host::get("improvement", id)?;
    let a = Appraisal::load(i.i64("appraisal").unwrap_or(0))?;
    let carried = match i.i64("carried_to") {
        Some(c) => manages(me, &Appraisal::load(c)?),
        None => false,
    };
    let allowed =
        me.id == i.i64("person") || me.id == i.i64("responsible") || manages(me, &a) || carried;
    if !allowed {
        return Err(Error::Denied(
            me.t("not your improvement item", "不是您的改进项").into(),
        ));
    }
    host::update("improvement", i.id, i.version, &json!({"status": "done"}))?;
    Ok(())
}

fn names_of(list: &[&Appraisal], people: &BTreeMap<i64, Person>) -> String {
    list.iter()
        .map(|a| model::name_of(people, Some(a.person)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Moves a cycle to its next stage. Leaving *appraise* computes the final figures over the
/// whole period and freezes them (the snapshot); later CRM changes no longer move them.
///
/// `from`, when given, is the stage the caller saw: a second click on a page that has not
/// reloaded is refused instead of skipping a stage.
pub fn advance(me: &Me, cycle: &Cycle, from: Option<&str>) -> Result<Value> {
    me.require_hr()?;
    if from.is_some_and(|f| f != cycle.stage) {
        return Err(Error::Conflict(
            me.t(
                "the cycle has already moved on; reload the page",
                "周期阶段已变化，请刷新页面",
            )
            .into(),
        ));
    }
    let list = model::appraisals(cycle.rec.id)?;
    let people = model::people()?;
    let next = match cycle.stage.as_str() {
        "plan" => {
            if list.is_empty() {
                return Err(Error::Conflict(
                    me.t(
                        "start the cycle first: it has no appraisals",
                        "请先启动周期：尚无考核表",
                    )
                    .into(),
                ));
            }
            let open: Vec<&Appraisal> = list.iter().filter(|a| a.status != "agreed").collect();
            if !open.is_empty() {
                return Err(Error::Conflict(format!(
                    "{} {}",
                    me.t("targets are not agreed yet for:", "以下人员目标尚未确认："),
                    names_of(&open, &people)
                )));
            }
            "appraise"
        }
        "appraise" => {
            let targets = model::targets_of(&list)?;
            let missing: Vec<&Appraisal> = list
                .iter()
                .filter(|a| {
                    targets
                        .get(&a.rec.id)
                        .into_iter()
                        .flatten()
                        .any(|t: &Target| {
                            t.source == "manual"
                                && t.scope == "person"
                                && t.rec.decimal("actual").is_none()
                        })
                })
                .collect();
            if !missing.is_empty() {
                return Err(Error::Conflict(format!(
                    "{} {}",
                    me.t(
                        "manual actuals are missing for:",
                        "以下人员的手工指标尚未录入："
                    ),
                    names_of(&missing, &people)
                )));
            }
            let outcomes = engine::compute(cycle, &list, &targets, &cycle.to)?;
            engine::persist(cycle, &list, &outcomes, &cycle.to, true)?;
            "feedback"
        }
        "feedback" => {
            let open: Vec<&Appraisal> = list.iter().filter(|a| a.status != "reviewed").collect();
            if !open.is_empty() {
                return Err(Error::Conflict(format!(
                    "{} {}",
                    me.t(
                        "feedback is not recorded yet for:",
                        "以下人员尚未完成面谈："
                    ),
                    names_of(&open, &people)
                )));
            }
            "improve"
        }
        "improve" => "closed",
        _ => {
            return Err(Error::Conflict(
                me.t("the cycle is closed", "该周期已结束").into(),
            ));
        }
    };
    let mut patch = json!({"stage": next});
    if next == "feedback" {
        patch["closed_at"] = json!(date::format(date::today()));
    }
    // The version read at the start: a concurrent advance fails here instead of moving twice.
    host::update("appraisal_cycle", cycle.rec.id, cycle.rec.version, &patch)?;
    Ok(json!({"stage": next, "appraisals": list.len()}))
}

/// Updates a running cycle's actuals and scores from today's data (a closed cycle keeps its
/// snapshot). Returns every appraisal's figures.
pub fn compute(me: &Me, cycle: &Cycle) -> Result<Value> {
    me.require_hr()?;
    let list = model::appraisals(cycle.rec.id)?;
    if cycle.scores_closed() {
        return Ok(results(cycle, &list));
    }
    let targets = model::targets_of(&list)?;
    let to = cycle.live_to();
    let outcomes = engine::compute(cycle, &list, &targets, &to)?;
    engine::persist(cycle, &list, &outcomes, &to, false)?;
    Ok(json!({
        "cycle": cycle.rec.id, "stage": cycle.stage, "closed": false, "from": cycle.from, "to": to,
        "appraisals": outcomes.iter().map(|o| o.to_json(cycle, &to)).collect::<Vec<_>>(),
    }))
}

/// The figures of some appraisals of a cycle, in the results shape: the snapshots once the
/// scores closed, else computed now over the period so far (nothing is written).
pub fn standing(cycle: &Cycle, list: &[Appraisal]) -> Result<Value> {
    if cycle.scores_closed() {
        return Ok(results(cycle, list));
    }
    let targets = model::targets_of(list)?;
    let to = cycle.live_to();
    let out = engine::compute(cycle, list, &targets, &to)?;
    Ok(json!({
        "cycle": cycle.rec.id, "stage": cycle.stage, "closed": false, "from": cycle.from, "to": to,
        "appraisals": out.iter().map(|o| o.to_json(cycle, &to)).collect::<Vec<_>>(),
    }))
}

/// A closed cycle's results, from the snapshots.
pub fn results(cycle: &Cycle, list: &[Appraisal]) -> Value {
    json!({
        "cycle": cycle.rec.id, "stage": cycle.stage, "closed": true, "from": cycle.from, "to": cycle.to,
        "appraisals": list.iter().filter_map(|a| {
            let mut s = engine::snapshot(a)?;
            // The bonus base may be set after the close; the frozen coefficient applies.
            if let (Some(base), Some(coef)) = (a.rec.decimal("bonus_base"), s["coefficient"].as_str().and_then(|c| Decimal::from_str(c).ok())) {
                s["bonus_base"] = json!(base.normalize().to_string());
                s["bonus"] = json!(crate::score::bonus(Some(base), coef).to_string());
            }
            Some(s)
        }).collect::<Vec<_>>(),
    })
}

/// Reads a form into a map (the last value of a repeated key wins).
pub fn form_map(pairs: Vec<(String, String)>) -> BTreeMap<String, String> {
    pairs.into_iter().collect()
}

/// The record of an improvement item, checked to exist.
pub fn improvement(id: i64) -> Result<Record> {
    host::get("improvement", id)
}
