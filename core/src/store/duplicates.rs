//! Likely duplicates of a record about to be written: one with the same name once company
//! suffixes (有限公司, 股份有限公司, Co., Ltd., Inc. …), spaces and punctuation are set aside, or
//! the same phone or e-mail — among the records the caller may read.

use super::Store;
use crate::schema::FieldType;
use crate::{Access, ListQuery, Result};
use serde::Serialize;
use serde_json::{Map, Value as Json};

/// One likely duplicate.
#[derive(Debug, Clone, Serialize)]
pub struct LikelyDuplicate {
    pub id: i64,
    pub title: String,
    /// The field it shares (the title field, a phone or an e-mail field).
    pub field: String,
}

/// Company-form words a name is compared without.
const SUFFIXES: &[&str] = &[
    "股份有限公司",
    "有限责任公司",
    "有限公司",
    "集团公司",
    "集团",
    "公司",
    "co., ltd.",
    "co.,ltd.",
    "co. ltd.",
    "co ltd",
    "company limited",
    "limited",
    "ltd.",
    "ltd",
    "inc.",
    "inc",
    "llc",
    "gmbh",
    "corp.",
    "corp",
    "co.",
];

/// A name as it is compared: lower case, without company-form words, spaces or punctuation.
pub fn comparable_name(name: &str) -> String {
    without_suffixes(name)
        .chars()
        .filter(|c| c.is_alphanumeric())
        .collect()
}

/// A name in lower case without its company-form words (kept in words, for searching).
fn without_suffixes(name: &str) -> String {
    let mut s = name.trim().to_lowercase();
    loop {
        let before = s.clone();
        for suffix in SUFFIXES {
            if let Some(rest) = s.trim_end().strip_suffix(suffix) {
                s = rest
                    .trim_end_matches([' ', ',', '.', '，', '（', '('])
                    .to_string();
            }
        }
        if s == before {
            break;
        }
    }
    s
}

impl Store {
    /// The records of `entity` the caller may read that the input most likely duplicates (at
    /// most 10).
    pub fn likely_duplicates(
        &self,
        access: &Access,
        entity: &str,
        input: &Map<String, Json>,
        except: Option<i64>,
    ) -> Result<Vec<LikelyDuplicate>> {
        let schema = self.schema();
        let Some(e) = schema.entity(entity) else {
            return Ok(vec![]);
        };
        let mut out: Vec<LikelyDuplicate> = Vec::new();
        let push = |out: &mut Vec<LikelyDuplicate>, id: i64, title: String, field: &str| {
            if Some(id) != except && !out.iter().any(|d| d.id == id) && out.len() < 10 {
                out.push(LikelyDuplicate {
                    id,
                    title,
                    field: field.to_string(),
                });
            }
        };
        if let Some(title) = e.title_field.clone() {
            let name = input.get(&title).and_then(Json::as_str).unwrap_or_default();
            let wanted = comparable_name(name);
            if wanted.chars().count() >= 2 {
                let q = ListQuery {
                    q: Some(without_suffixes(name)),
                    limit: 50,
                    ..ListQuery::default()
                };
                if let Ok(page) = self.list(access, entity, &q) {
                    for r in page.items {
                        if comparable_name(&r.get(&title).to_text()) == wanted {
                            push(&mut out, r.id, r.title(e), &title);
                        }
                    }
                }
            }
        }
        for f in e
            .fields
            .iter()
            .filter(|f| matches!(f.def.kind, FieldType::Phone | FieldType::Email) && !f.retired)
        {
            let Some(value) = input.get(&f.def.name).and_then(Json::as_str) else {
                continue;
            };
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            let q = ListQuery::from_pairs([(f.def.name.as_str(), value), ("limit", "5")])?;
            if let Ok(page) = self.list(access, entity, &q) {
                for r in page.items {
                    push(&mut out, r.id, r.title(e), &f.def.name);
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::comparable_name;

    #[test]
    fn company_forms_are_set_aside() {
        assert_eq!(comparable_name("杭州恒信科技有限公司"), "杭州恒信科技");
        assert_eq!(comparable_name("杭州恒信科技 股份有限公司"), "杭州恒信科技");
        assert_eq!(
            comparable_name("Northwind Traders Co., Ltd."),
            "northwindtraders"
        );
        assert_eq!(comparable_name("NORTHWIND traders"), "northwindtraders");
        assert_eq!(comparable_name("Acme Inc."), "acme");
        assert_ne!(comparable_name("杭州恒信"), comparable_name("杭州恒信科技"));
    }
}
