//! Keys generated from labels, so that nobody has to invent a machine name: English words
//! become `snake_case`; a label without ASCII words (Chinese only) gets `{prefix}_{n}`.

/// The longest key derived from words (the core allows 40 characters; room for `_NN`).
const MAX_WORDS: usize = 32;

/// A key for `label_en`, free according to `taken`.
pub(super) fn derive(label_en: &str, prefix: &str, taken: impl Fn(&str) -> bool) -> String {
    let mut key = String::new();
    for word in label_en
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if key.len() + word.len() + 1 > MAX_WORDS {
            break;
        }
        if !key.is_empty() {
            key.push('_');
        }
        key.push_str(&word.to_ascii_lowercase());
    }
    if key.is_empty() {
        return (1..)
            .map(|n| format!("{prefix}_{n}"))
            .find(|k| !taken(k))
            .unwrap_or_default();
    }
    if !key.starts_with(|c: char| c.is_ascii_lowercase()) {
        key = format!("{prefix}_{key}");
    }
    if !taken(&key) {
        return key;
    }
    (2..)
        .map(|n| format!("{key}_{n}"))
        .find(|k| !taken(k))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::derive;

    #[test]
    fn keys_from_labels() {
        let none = |_: &str| false;
        assert_eq!(derive("VIP level", "f", none), "vip_level");
        assert_eq!(
            derive("  Customer-Grade (A/B) ", "f", none),
            "customer_grade_a_b"
        );
        assert_eq!(derive("2nd phone", "f", none), "f_2nd_phone");
        assert_eq!(derive("", "f", none), "f_1");
        assert_eq!(derive("客户等级", "f", |k| k == "f_1"), "f_2");
        assert_eq!(derive("Level", "f", |k| k == "level"), "level_2");
    }
}
