//! Currencies: the ISO 4217 codes a currency field may name, how an amount is written in
//! each (`¥1,234.50`, `US$99.00`), how a typed amount is read back (`¥1,234.50`,
//! `1,234.50 元`, `USD 99`). The company currency — what a currency field without its own code
//! is in — is an install setting (`settings.rs`).

use rust_decimal::Decimal;

/// One currency: its code, the sign written before amounts, and its names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Currency {
    /// ISO 4217 code (`CNY`).
    pub code: &'static str,
    /// Written before an amount (`¥`).
    pub symbol: &'static str,
    /// Its name in English and in Chinese.
    pub name: (&'static str, &'static str),
}

/// The company currency when none is set.
pub const DEFAULT_CURRENCY: &str = "CNY";

/// The currencies Qingguan knows, the usual ones for Chinese companies first.
pub const CURRENCIES: &[Currency] = &[
    Currency {
        code: "CNY",
        symbol: "¥",
        name: ("Chinese yuan", "人民币"),
    },
    Currency {
        code: "USD",
        symbol: "US$",
        name: ("US dollar", "美元"),
    },
    Currency {
        code: "EUR",
        symbol: "€",
        name: ("Euro", "欧元"),
    },
    Currency {
        code: "HKD",
        symbol: "HK$",
        name: ("Hong Kong dollar", "港元"),
    },
    Currency {
        code: "JPY",
        symbol: "JP¥",
        name: ("Japanese yen", "日元"),
    },
    Currency {
        code: "GBP",
        symbol: "£",
        name: ("Pound sterling", "英镑"),
    },
    Currency {
        code: "TWD",
        symbol: "NT$",
        name: ("New Taiwan dollar", "新台币"),
    },
    Currency {
        code: "MOP",
        symbol: "MOP$",
        name: ("Macanese pataca", "澳门元"),
    },
    Currency {
        code: "SGD",
        symbol: "S$",
        name: ("Singapore dollar", "新加坡元"),
    },
    Currency {
        code: "KRW",
        symbol: "₩",
        name: ("South Korean won", "韩元"),
    },
    Currency {
        code: "AUD",
        symbol: "A$",
        name: ("Australian dollar", "澳元"),
    },
    Currency {
        code: "CAD",
        symbol: "C$",
        name: ("Canadian dollar", "加元"),
    },
    Currency {
        code: "CHF",
        symbol: "CHF ",
        name: ("Swiss franc", "瑞士法郎"),
    },
    Currency {
        code: "RUB",
        symbol: "₽",
        name: ("Russian ruble", "卢布"),
    },
    Currency {
        code: "INR",
        symbol: "₹",
        name: ("Indian rupee", "印度卢比"),
    },
    Currency {
        code: "THB",
        symbol: "฿",
        name: ("Thai baht", "泰铢"),
    },
    Currency {
        code: "MYR",
        symbol: "RM",
        name: ("Malaysian ringgit", "马来西亚林吉特"),
    },
    Currency {
        code: "VND",
        symbol: "₫",
        name: ("Vietnamese dong", "越南盾"),
    },
];

/// The currency with this code (exactly, upper case).
pub fn currency(code: &str) -> Option<&'static Currency> {
    CURRENCIES.iter().find(|c| c.code == code)
}

/// An amount as people read it: the currency's sign, thousands grouped, the field's places
/// kept (`¥1,234.50`, `-US$3.00`).
pub fn format_amount(amount: &Decimal, code: &str) -> String {
    let symbol = currency(code).map_or(code, |c| c.symbol);
    let text = amount.abs().to_string();
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let mut grouped = String::with_capacity(whole.len() + whole.len() / 3);
    for (i, ch) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    let sign = if amount.is_sign_negative() && !amount.is_zero() {
        "-"
    } else {
        ""
    };
    if fraction.is_empty() {
        format!("{sign}{symbol}{grouped}")
    } else {
        format!("{sign}{symbol}{grouped}.{fraction}")
    }
}

/// The signs an amount in `code` may be typed with: its code and symbol, and the usual
/// signs of yuan and dollars for CNY and USD.
fn signs(code: &str) -> Vec<&'static str> {
    let Some(c) = currency(code) else {
        return vec![];
    };
    let mut out = vec![c.code, c.symbol.trim_end()];
    match c.code {
        "CNY" => out.extend(["¥", "￥", "RMB", "元"]),
        "USD" => out.push("$"),
        _ => {}
    }
    // Longest first: `US$` before `$`.
    out.sort_by_key(|s| std::cmp::Reverse(s.len()));
    out
}

/// A typed amount in currency `code` as plain decimal text for the decimal parser, without
/// the currency's sign or code and without thousands separators: `¥1,234.50` → `1234.50`,
/// `-US$3` → `-3`, `1,234.5 元` → `1234.5`, `USD 99` → `99`. Only `code`'s own signs are set
/// aside (`US$99` is not an amount in yuan), and commas only between groups of three digits
/// (`1,5` is not fifteen): anything else is left for the parser to refuse. Without a code,
/// only plain numbers.
pub fn plain_amount(typed: &str, code: Option<&str>) -> String {
    let signs = code.map(signs).unwrap_or_default();
    let mut s = typed.trim();
    let mut negative = false;
    if let Some(rest) = s.strip_prefix('-') {
        negative = true;
        s = rest.trim_start();
    }
    if let Some(rest) = signs.iter().find_map(|sign| s.strip_prefix(sign)) {
        s = rest.trim_start();
    }
    if let Some(rest) = signs.iter().find_map(|sign| s.strip_suffix(sign)) {
        s = rest.trim_end();
    }
    if !negative {
        if let Some(rest) = s.strip_prefix('-') {
            negative = true;
            s = rest;
        }
    }
    let (whole, fraction) = match s.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (s, None),
    };
    let groups: Vec<&str> = whole.split([',', '，']).collect();
    let grouped = groups.len() > 1
        && (1..=3).contains(&groups[0].len())
        && groups[1..].iter().all(|g| g.len() == 3)
        && groups.iter().all(|g| g.bytes().all(|b| b.is_ascii_digit()));
    let whole = if grouped {
        groups.concat()
    } else {
        whole.to_string()
    };
    let digits = match fraction {
        Some(f) => format!("{whole}.{f}"),
        None => whole,
    };
    if negative {
        format!("-{digits}")
    } else {
        digits
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn amounts_are_written_with_sign_and_groups() {
        let d = |s: &str| Decimal::from_str(s).unwrap();
        assert_eq!(format_amount(&d("1234.50"), "CNY"), "¥1,234.50");
        assert_eq!(format_amount(&d("1234567.5"), "USD"), "US$1,234,567.5");
        assert_eq!(format_amount(&d("-3.00"), "USD"), "-US$3.00");
        assert_eq!(format_amount(&d("999"), "JPY"), "JP¥999");
        assert_eq!(format_amount(&d("0.00"), "EUR"), "€0.00");
        assert_eq!(format_amount(&d("100"), "XTS"), "XTS100");
    }

    #[test]
    fn typed_amounts_lose_their_own_signs_and_separators() {
        let cny = Some("CNY");
        assert_eq!(plain_amount("¥1,234.50", cny), "1234.50");
        assert_eq!(plain_amount("￥1，234.50", cny), "1234.50");
        assert_eq!(plain_amount("1,234.5 元", cny), "1234.5");
        assert_eq!(plain_amount("RMB 1,234,567", cny), "1234567");
        assert_eq!(plain_amount("-US$3", Some("USD")), "-3");
        assert_eq!(plain_amount("US$-3", Some("USD")), "-3");
        assert_eq!(plain_amount("USD 99", Some("USD")), "99");
        assert_eq!(plain_amount("€1.50", Some("EUR")), "1.50");
        assert_eq!(plain_amount("12.5", None), "12.5");
        // Not an amount in that currency, or not grouped in threes: left to be refused.
        for (typed, code) in [
            ("US$99", cny),
            ("€5", cny),
            ("¥100", Some("EUR")),
            ("¥5", None),
            ("1,5", cny),
            ("€1,50", Some("EUR")),
            ("1,2,3", cny),
            (",,,5,,,", cny),
            ("-,5", cny),
            ("1234,567", cny),
        ] {
            let plain = plain_amount(typed, code);
            assert!(
                plain.parse::<Decimal>().is_err(),
                "{typed} in {code:?} read as {plain}"
            );
        }
    }

    #[test]
    fn every_code_is_iso_shaped_and_once() {
        for (i, c) in CURRENCIES.iter().enumerate() {
            assert!(c.code.len() == 3 && c.code.bytes().all(|b| b.is_ascii_uppercase()));
            assert!(CURRENCIES[..i].iter().all(|o| o.code != c.code));
        }
        assert_eq!(currency(DEFAULT_CURRENCY).unwrap().symbol, "¥");
    }
}
