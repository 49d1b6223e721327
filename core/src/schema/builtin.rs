//! The entity types every install has: customers, contacts, users, activities and exchange
//! rates.

use super::{EntityDef, FieldDef, FieldType as T, Label, Layout, Section};

/// The core's base definitions, in menu order.
pub fn builtin_entities() -> Vec<EntityDef> {
    vec![customer(), contact(), user(), activity(), exchange_rate()]
}

fn section(en: &str, zh: &str, fields: &[&str]) -> Section {
    Section {
        title: Label::new(en, zh),
        fields: fields.iter().map(|f| f.to_string()).collect(),
    }
}

fn columns(fields: &[&str]) -> Vec<String> {
    fields.iter().map(|f| f.to_string()).collect()
}

fn customer() -> EntityDef {
    EntityDef {
        name: "customer".into(),
        label: Label::new("Customer", "客户"),
        fields: vec![
            FieldDef::new("name", T::Text, "Name", "名称").required(),
            // Required, with defaults: a customer made with only a name (a quick create, an
            // import of names, an integration) is a company lead.
            FieldDef::new("kind", T::Select, "Kind", "类型")
                .required()
                .default_value(serde_json::json!("company"))
                .options(&[("company", "Company", "企业"), ("person", "Person", "个人")]),
            FieldDef::new("status", T::Select, "Status", "状态")
                .required()
                .default_value(serde_json::json!("lead"))
                .options(&[
                    ("lead", "Lead", "潜在客户"),
                    ("customer", "Customer", "成交客户"),
                    ("inactive", "Inactive", "休眠客户"),
                ]),
            FieldDef::new("phone", T::Phone, "Phone", "电话"),
            FieldDef::new("email", T::Email, "Email", "邮箱"),
            FieldDef::new("address", T::Text, "Address", "地址"),
            FieldDef::new("industry", T::Select, "Industry", "行业").options(&[
                ("manufacturing", "Manufacturing", "制造业"),
                ("retail", "Retail", "零售"),
                ("wholesale", "Wholesale", "批发"),
                ("services", "Services", "服务业"),
                ("technology", "Technology", "科技"),
                ("construction", "Construction", "建筑"),
                ("food", "Food & beverage", "餐饮食品"),
                ("other", "Other", "其他"),
            ]),
            FieldDef::new("source", T::Select, "Source", "来源").options(&[
                ("referral", "Referral", "转介绍"),
                ("website", "Website", "官网"),
                ("exhibition", "Trade show", "展会"),
                ("cold_call", "Cold call", "电话开发"),
                ("advertising", "Advertising", "广告"),
                ("other", "Other", "其他"),
            ]),
            FieldDef::new("tags", T::MultiSelect, "Tags", "标签").options(&[
                ("vip", "VIP", "重要客户"),
                ("key_account", "Key account", "大客户"),
                ("new", "New", "新客户"),
                ("at_risk", "At risk", "流失风险"),
            ]),
            FieldDef::new("website", T::Url, "Website", "网站"),
            FieldDef::new("notes", T::LongText, "Notes", "备注"),
        ],
        title_field: Some("name".into()),
        kanban_field: Some("status".into()),
        layout: Some(Layout {
            sections: vec![
                section(
                    "Basics",
                    "基本信息",
                    &["name", "kind", "status", "industry", "source", "tags"],
                ),
                section(
                    "Contact",
                    "联系方式",
                    &["phone", "email", "address", "website"],
                ),
                section("Notes", "备注", &["notes"]),
            ],
            list_columns: columns(&["name", "status", "industry", "phone", "owner", "updated_at"]),
        }),
        indexes: Vec::new(),
        searchable: true,
    }
}

fn contact() -> EntityDef {
    EntityDef {
        name: "contact".into(),
        label: Label::new("Contact", "联系人"),
        fields: vec![
            FieldDef::new("name", T::Text, "Name", "姓名").required(),
            FieldDef::new("customer", T::Reference, "Customer", "所属客户")
                .required()
                .target("customer"),
            FieldDef::new("title", T::Text, "Title", "职务"),
            FieldDef::new("phone", T::Phone, "Phone", "电话"),
            FieldDef::new("email", T::Email, "Email", "邮箱"),
            FieldDef::new("notes", T::LongText, "Notes", "备注"),
        ],
        title_field: Some("name".into()),
        kanban_field: None,
        layout: Some(Layout {
            sections: vec![
                section("Basics", "基本信息", &["name", "customer", "title"]),
                section("Contact", "联系方式", &["phone", "email"]),
                section("Notes", "备注", &["notes"]),
            ],
            list_columns: columns(&["name", "customer", "title", "phone", "email"]),
        }),
        indexes: Vec::new(),
        searchable: true,
    }
}

/// Notes, calls, visits, meetings and to-dos about any record (`about_entity` + `about_id`),
/// the record's timeline with its history; `@username` in the text notifies that person.
fn activity() -> EntityDef {
    EntityDef {
        name: "activity".into(),
        label: Label::new("Activity", "活动记录"),
        fields: vec![
            FieldDef::new("kind", T::Select, "Kind", "类型")
                .required()
                .options(&[
                    ("note", "Note", "备注"),
                    ("call", "Call", "电话"),
                    ("visit", "Visit", "拜访"),
                    ("meeting", "Meeting", "会议"),
                    ("todo", "To-do", "待办"),
                ]),
            FieldDef::new("subject", T::Text, "Subject", "主题").required(),
            FieldDef::new("body", T::LongText, "Details", "内容"),
            FieldDef::new("due_on", T::Date, "Due", "计划日期"),
            FieldDef::new("done", T::Boolean, "Done", "已完成"),
            FieldDef::new("about_entity", T::Text, "About (type)", "关联类型"),
            FieldDef::new("about_id", T::Integer, "About (record)", "关联记录"),
        ],
        title_field: Some("subject".into()),
        kanban_field: None,
        layout: Some(Layout {
            sections: vec![
                section("Activity", "活动", &["kind", "subject", "body"]),
                section("Plan", "计划", &["due_on", "done"]),
                section("About", "关联", &["about_entity", "about_id"]),
            ],
            list_columns: columns(&["subject", "kind", "due_on", "done", "owner"]),
        }),
        indexes: vec![columns(&["about_entity", "about_id"])],
        searchable: true,
    }
}

fn user() -> EntityDef {
    EntityDef {
        name: "user".into(),
        label: Label::new("User", "用户"),
        fields: vec![
            FieldDef::new("username", T::Text, "Username", "用户名")
                .required()
                .unique(),
            FieldDef::new("display_name", T::Text, "Display name", "姓名").required(),
            FieldDef::new("role", T::Text, "Role", "角色").required(),
            FieldDef::new("team", T::Text, "Team", "团队"),
            FieldDef::new("manager", T::User, "Manager", "上级"),
            FieldDef::new("email", T::Email, "Email", "邮箱"),
            FieldDef::new("phone", T::Phone, "Phone", "电话"),
            FieldDef::new("locale", T::Select, "Language", "语言")
                .options(&[("en", "English", "English"), ("zh-CN", "中文", "中文")]),
            FieldDef::new("active", T::Boolean, "Active", "启用"),
            FieldDef::new(
                "mail_notifications",
                T::Boolean,
                "E-mail notifications",
                "邮件通知",
            ),
        ],
        title_field: Some("display_name".into()),
        kanban_field: None,
        layout: Some(Layout {
            sections: vec![
                section(
                    "Account",
                    "账号",
                    &[
                        "username",
                        "display_name",
                        "role",
                        "team",
                        "manager",
                        "active",
                    ],
                ),
                section("Contact", "联系方式", &["email", "phone", "locale"]),
            ],
            list_columns: columns(&["display_name", "username", "role", "team", "email"]),
        }),
        indexes: Vec::new(),
        searchable: true,
    }
}

/// What one unit of a currency is worth in the company currency, one record per currency:
/// totals of amounts in several currencies are converted at these rates, and an amount may be
/// in another currency only once it has one. Everyone reads them; administrators (and roles
/// given the type explicitly, finance by default) keep them; the history says what each was.
fn exchange_rate() -> EntityDef {
    let mut currency = FieldDef::new("currency", T::Select, "Currency", "币种")
        .required()
        .unique();
    currency.options = crate::currency::CURRENCIES
        .iter()
        .map(|c| super::SelectOption {
            value: c.code.to_string(),
            label: Label::new(
                format!("{} · {}", c.code, c.name.0),
                format!("{} · {}", c.code, c.name.1),
            ),
            color: None,
        })
        .collect();
    let mut rate = FieldDef::new(
        "rate",
        T::Decimal,
        "Rate (company currency per unit)",
        "汇率（每单位折合本位币）",
    )
    .required();
    rate.scale = Some(6);
    rate.min = Some(0.000001);
    EntityDef {
        name: EXCHANGE_RATE.into(),
        label: Label::new("Exchange rate", "汇率"),
        fields: vec![currency, rate],
        title_field: None,
        kanban_field: None,
        layout: Some(Layout {
            sections: vec![section("Rate", "汇率", &["currency", "rate"])],
            list_columns: columns(&["currency", "rate", "updated_at"]),
        }),
        indexes: Vec::new(),
        searchable: false,
    }
}

/// The entity type of exchange rates.
pub const EXCHANGE_RATE: &str = "exchange_rate";
