//! PostgreSQL's binary `numeric` (what `SUM` and `AVG` of integers return) to and from the
//! storage classes: a whole number is an integer (one past 64 bits is an overflow, as SQLite
//! says of such a sum), anything else a real.

use super::value::Value;

type BoxError = Box<dyn std::error::Error + Sync + Send>;

const NEGATIVE: u16 = 0x4000;
const NAN: u16 = 0xC000;

/// Reads a binary `numeric`.
pub(crate) fn decode(raw: &[u8]) -> Result<Value, BoxError> {
    let word = |i: usize| -> Result<u16, BoxError> {
        raw.get(i..i + 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
            .ok_or_else(|| "a numeric value is cut short".into())
    };
    let ndigits = word(0)? as usize;
    let weight = word(2)? as i16 as i32;
    let sign = word(4)?;
    let dscale = word(6)? as usize;
    if sign == NAN {
        return Ok(Value::Real(f64::NAN));
    }
    let digits = (0..ndigits)
        .map(|k| word(8 + 2 * k))
        .collect::<Result<Vec<u16>, _>>()?;
    // The base-10000 digit for 10000^e.
    let digit = |e: i32| -> u16 {
        let i = weight - e;
        if i < 0 {
            0
        } else {
            digits.get(i as usize).copied().unwrap_or(0)
        }
    };
    let mut text = String::new();
    if sign == NEGATIVE {
        text.push('-');
    }
    if weight < 0 {
        text.push('0');
    } else {
        for e in (0..=weight).rev() {
            if e == weight {
                text.push_str(&digit(e).to_string());
            } else {
                text.push_str(&format!("{:04}", digit(e)));
            }
        }
    }
    if dscale > 0 {
        let mut frac = String::new();
        let groups = dscale.div_ceil(4) as i32;
        for e in 1..=groups {
            frac.push_str(&format!("{:04}", digit(-e)));
        }
        frac.truncate(dscale);
        text.push('.');
        text.push_str(&frac);
        return Ok(Value::Real(text.parse()?));
    }
    // A whole number past 64 bits is a SUM of integers that SQLite refuses as an overflow:
    // refused the same way here, not read as an approximate real.
    text.parse::<i64>()
        .map(Value::Integer)
        .map_err(|_| format!("integer overflow: {text} does not fit in 64 bits").into())
}

/// Writes a decimal text (`-12.5`, `3`) as a binary `numeric`.
pub(crate) fn encode(text: &str, out: &mut bytes::BytesMut) -> Result<(), BoxError> {
    let text = text.trim();
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (int, frac) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    if int.is_empty() && frac.is_empty()
        || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
    {
        return Err(format!("{text:?} is not a number").into());
    }
    // Whole part in groups of four from the point, then the fraction's.
    let int = int.trim_start_matches('0');
    let lead = (4 - int.len() % 4) % 4;
    let int_padded = format!("{}{int}", "0".repeat(lead));
    let frac_padded = format!("{frac}{}", "0".repeat((4 - frac.len() % 4) % 4));
    let group = |s: &str| -> Vec<u16> {
        s.as_bytes()
            .chunks(4)
            .map(|c| std::str::from_utf8(c).unwrap_or("0").parse().unwrap_or(0))
            .collect()
    };
    let mut digits = group(&int_padded);
    let mut weight = digits.len() as i32 - 1;
    digits.extend(group(&frac_padded));
    while digits.first() == Some(&0) {
        digits.remove(0);
        weight -= 1;
    }
    while digits.last() == Some(&0) {
        digits.pop();
    }
    if digits.is_empty() {
        weight = 0;
    }
    let sign = if negative && !digits.is_empty() {
        NEGATIVE
    } else {
        0
    };
    for w in [
        digits.len() as u16,
        weight as i16 as u16,
        sign,
        frac.len() as u16,
    ] {
        out.extend_from_slice(&w.to_be_bytes());
    }
    for d in digits {
        out.extend_from_slice(&d.to_be_bytes());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round(text: &str) -> Value {
        let mut out = bytes::BytesMut::new();
        encode(text, &mut out).unwrap();
        decode(&out).unwrap()
    }

    #[test]
    fn whole_numbers_read_as_integers_and_fractions_as_reals() {
        assert_eq!(round("0"), Value::Integer(0));
        assert_eq!(round("12345678"), Value::Integer(12_345_678));
        assert_eq!(round("-70000"), Value::Integer(-70_000));
        assert_eq!(round("9223372036854775807"), Value::Integer(i64::MAX));
        assert_eq!(round("12.5"), Value::Real(12.5));
        assert_eq!(round("-0.0625"), Value::Real(-0.0625));
        assert_eq!(round("100000.00010"), Value::Real(100_000.000_1));
        assert!(encode("12a", &mut bytes::BytesMut::new()).is_err());
        let mut past = bytes::BytesMut::new();
        encode("9223372036854775808", &mut past).unwrap();
        let e = decode(&past).unwrap_err().to_string();
        assert!(e.contains("integer overflow"), "{e}");
    }

    #[test]
    fn postgres_own_encoding_of_an_average_reads() {
        // AVG(1, 2) = 1.5000000000000000: weight 0, dscale 16, digits [1, 5000].
        let raw = [0, 2, 0, 0, 0, 0, 0, 16, 0, 1, 0x13, 0x88];
        assert_eq!(decode(&raw).unwrap(), Value::Real(1.5));
        // 20000 = [2] at weight 1: trailing zero groups are left out.
        let raw = [0, 1, 0, 1, 0, 0, 0, 0, 0, 2];
        assert_eq!(decode(&raw).unwrap(), Value::Integer(20_000));
    }
}
