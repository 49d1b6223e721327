//! Unit tests of reasons: codes, parameters, English and Chinese.

use super::*;
use crate::schema::Locale;
use crate::FieldErrors;
use std::collections::HashSet;

#[test]
fn every_variant_has_one_example_and_a_distinct_code() {
    let all = Reason::examples();
    let codes: HashSet<&str> = all.iter().map(Reason::code).collect();
    assert_eq!(codes.len(), all.len(), "two examples share a code");
    for r in &all {
        let code = r.code();
        assert!(
            !code.is_empty()
                && code
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
            "{code}"
        );
        assert!(!r.to_string().is_empty(), "{code}");
    }
}

#[test]
fn english_is_unchanged() {
    let cases = [
        (Reason::Required, "is required"),
        (
            Reason::NotOption {
                value: "c".into(),
                options: vec!["a".into(), "b".into()],
            },
            "'c' is not one of: a, b",
        ),
        (
            Reason::WrongType {
                expected: FieldType::Decimal,
            },
            "must be a decimal number (string such as \"12.50\")",
        ),
        (
            Reason::WrongType {
                expected: FieldType::Integer,
            },
            "must be a whole number",
        ),
        (
            Reason::TooShort { min: "8".into() },
            "must be at least 8 characters",
        ),
        (
            Reason::AtMost {
                max: 10.5f64.to_string(),
            },
            "must be at most 10.5",
        ),
        (
            Reason::NotDatetime,
            "must be a date-time such as 2026-01-31T09:30:00Z",
        ),
        (
            Reason::UnknownOperator,
            "unknown operator; use one of eq, ne, lt, lte, gt, gte, in, contains, null",
        ),
        (
            Reason::IncompatibleChange {
                entity: "c".into(),
                field: "f".into(),
                from: "text".into(),
                to: "integer".into(),
            },
            "'c.f' would change from text to integer; refusing, stored values would be lost",
        ),
        (
            Reason::Unique {
                entity: "customer".into(),
                id: 4,
            },
            "already used by customer #4",
        ),
        (
            Reason::BoundsNotAllowed {
                kind: FieldType::MultiSelect,
            },
            "a multi_select field takes no min/max",
        ),
        (
            Reason::LengthBetween { min: 8, max: 1024 },
            "must be 8-1024 characters",
        ),
        (
            Reason::NumberBetween { min: 1, max: 200 },
            "must be a number from 1 to 200",
        ),
        (
            Reason::InListSize { max: 1000 },
            "needs 1 to 1000 comma-separated values",
        ),
        (Reason::MetricCount { max: 20 }, "needs 1 to 20 metrics"),
        (Reason::TooManyGroupFields { max: 3 }, "at most 3 fields"),
        (Reason::ScaleTooLarge { max: 6 }, "at most 6"),
        (
            Reason::NoRecord {
                entity: "user".into(),
                id: 5,
            },
            "no user with id 5",
        ),
        (
            Reason::BytesBetween { min: 1, max: 256 },
            "must be 1-256 bytes",
        ),
        (
            Reason::TooLarge {
                limit: 1_000_000_000_000,
            },
            "must be less than 1000000000000 in magnitude",
        ),
        (Reason::text("自定义"), "自定义"),
    ];
    for (r, en) in cases {
        assert_eq!(r.to_string(), en, "{}", r.code());
    }
}

#[test]
fn params_name_the_values_shown() {
    let r = Reason::NoRecord {
        entity: "customer".into(),
        id: 9,
    };
    assert_eq!(r.code(), "no_record");
    assert_eq!(r.params()["entity"], "customer");
    assert_eq!(r.params()["id"], "9");
    assert!(Reason::Required.params().is_empty());
    // Every parameter an English sentence shows is among its params.
    for r in Reason::examples() {
        let en = r.to_string();
        for (k, v) in r.params() {
            // These quote a list in English words ("eq, ne or null"), or show no number.
            let listed = matches!(
                r,
                Reason::QueryTooLong { .. }
                    | Reason::WrongType { .. }
                    | Reason::MultiSelectOps
                    | Reason::BooleanOps
                    | Reason::BadMetric { .. }
            );
            assert!(
                (listed && k != "metric") || en.contains(&v),
                "{}: param {k}={v} not in '{en}'",
                r.code()
            );
        }
    }
}

#[test]
fn serialises_as_english() {
    let r = Reason::AtLeast { min: "3".into() };
    assert_eq!(
        serde_json::to_value(&r).unwrap(),
        serde_json::json!("must be at least 3")
    );
}

// --- rendering per locale ---

#[test]
fn every_reason_renders_in_both_locales() {
    for r in Reason::examples() {
        for locale in [Locale::En, Locale::ZhCn] {
            assert!(
                !r.render(locale).trim().is_empty(),
                "{} in {locale:?}",
                r.code()
            );
        }
        assert_eq!(r.render(Locale::En), r.to_string(), "{}", r.code());
    }
}

#[test]
fn chinese_has_no_english_words_outside_parameters() {
    for r in Reason::examples() {
        if matches!(r, Reason::Text(_)) {
            continue;
        }
        let zh = r.render(Locale::ZhCn);
        assert_ne!(zh, r.to_string(), "{} is not translated", r.code());
        // Longest values first, so that a value inside another is not removed half-way.
        let mut values: Vec<String> = r.params().into_values().collect();
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        let mut rest = zh.clone();
        for v in values.iter().filter(|v| !v.is_empty()) {
            rest = rest.replace(v.as_str(), "");
        }
        assert!(
            !rest.chars().any(|c| c.is_ascii_alphabetic()),
            "{}: '{zh}' has English outside its parameters ('{rest}')",
            r.code()
        );
    }
}

#[test]
fn chinese_keeps_the_ui_wording() {
    let cases = [
        (Reason::Required, "必填"),
        (Reason::NotInteger, "必须是整数"),
        (Reason::NotEmail, "必须是有效的邮箱地址"),
        (Reason::NotDate, "必须是日期（年-月-日）"),
        (Reason::NotUrl, "必须是 http:// 或 https:// 开头的网址"),
        (Reason::NotPhone, "必须是电话号码（数字、空格、+ - ( )）"),
        (Reason::NotDecimal, "必须是数字，例如 1234.50"),
        (Reason::NotBoolean, "必须是“是”或“否”"),
        (Reason::NotRecordId, "请选择一条记录"),
        (Reason::AtLeast { min: "3".into() }, "不能小于 3"),
        (
            Reason::NotOption {
                value: "robot".into(),
                options: vec!["lead".into(), "customer".into()],
            },
            "“robot”不是可选的值（可选：lead, customer）",
        ),
    ];
    for (r, zh) in cases {
        assert_eq!(r.render(Locale::ZhCn), zh, "{}", r.code());
    }
}

#[test]
fn field_maps_render_each_reason() {
    let errors = FieldErrors::from([
        ("name".to_string(), Reason::Required),
        ("amount".to_string(), Reason::AtMost { max: "10".into() }),
    ]);
    let zh = render_fields(&errors, Locale::ZhCn);
    assert_eq!(zh["name"], "必填");
    assert_eq!(zh["amount"], "不能大于 10");
    assert_eq!(
        render_fields(&errors, Locale::En)["amount"],
        "must be at most 10"
    );
}

#[test]
fn free_text_passes_through() {
    let r = Reason::text("客户已锁定，不能修改");
    assert_eq!(r.render(Locale::ZhCn), "客户已锁定，不能修改");
    assert_eq!(r.render(Locale::En), "客户已锁定，不能修改");
}
