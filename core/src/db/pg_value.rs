//! Values as PostgreSQL binds and reads them: a parameter converted to whatever type
//! PostgreSQL inferred for it (SQL written for SQLite's loose typing binds unchanged), and a
//! column read back as one of the five storage classes.

use super::value::Value;
use tokio_postgres::types::{to_sql_checked, FromSql, IsNull, ToSql, Type};

/// A parameter, converted to the type PostgreSQL inferred for it.
#[derive(Debug)]
pub(super) struct Bind(pub(super) Value);

type BoxError = Box<dyn std::error::Error + Sync + Send>;

impl ToSql for Bind {
    fn to_sql(&self, ty: &Type, out: &mut bytes::BytesMut) -> Result<IsNull, BoxError> {
        let v = &self.0;
        if matches!(v, Value::Null) {
            return Ok(IsNull::Yes);
        }
        let text = || -> String {
            match v {
                Value::Integer(i) => i.to_string(),
                Value::Real(r) => r.to_string(),
                Value::Text(s) => s.clone(),
                Value::Blob(b) => String::from_utf8_lossy(b).into_owned(),
                Value::Null => String::new(),
            }
        };
        let integer = || -> Result<i64, BoxError> {
            match v {
                Value::Integer(i) => Ok(*i),
                Value::Real(r) if r.fract() == 0.0 => Ok(*r as i64),
                Value::Text(s) => Ok(s.trim().parse()?),
                _ => Err(format!("{v:?} is not an integer").into()),
            }
        };
        match *ty {
            Type::INT8 => integer()?.to_sql(ty, out),
            Type::INT4 => i32::try_from(integer()?)?.to_sql(ty, out),
            Type::INT2 => i16::try_from(integer()?)?.to_sql(ty, out),
            Type::BOOL => (integer()? != 0).to_sql(ty, out),
            Type::FLOAT8 | Type::FLOAT4 => {
                let f = match v {
                    Value::Integer(i) => *i as f64,
                    Value::Real(r) => *r,
                    _ => text().trim().parse()?,
                };
                if *ty == Type::FLOAT8 {
                    f.to_sql(ty, out)
                } else {
                    (f as f32).to_sql(ty, out)
                }
            }
            Type::NUMERIC => {
                super::numeric::encode(&text(), out)?;
                Ok(IsNull::No)
            }
            Type::BYTEA => match v {
                Value::Blob(b) => b.as_slice().to_sql(ty, out),
                _ => text().as_bytes().to_sql(ty, out),
            },
            Type::JSONB => {
                out.extend_from_slice(&[1]);
                out.extend_from_slice(text().as_bytes());
                Ok(IsNull::No)
            }
            _ => {
                // PostgreSQL keeps no NUL in text. None should reach here (values and
                // filters refuse them); one that does becomes a character no stored text
                // holds, rather than an error.
                out.extend_from_slice(text().replace('\0', "\u{FFFF}").as_bytes());
                Ok(IsNull::No)
            }
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// A column read as one of the five storage classes.
pub(super) struct Cell(pub(super) Value);

impl<'a> FromSql<'a> for Cell {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        Ok(Cell(match *ty {
            Type::INT8 => Value::Integer(i64::from_sql(ty, raw)?),
            Type::INT4 => Value::Integer(i32::from_sql(ty, raw)?.into()),
            Type::INT2 => Value::Integer(i16::from_sql(ty, raw)?.into()),
            Type::OID => Value::Integer(u32::from_sql(ty, raw)?.into()),
            Type::BOOL => Value::Integer(bool::from_sql(ty, raw)?.into()),
            Type::FLOAT8 => Value::Real(f64::from_sql(ty, raw)?),
            Type::FLOAT4 => Value::Real(f32::from_sql(ty, raw)?.into()),
            Type::NUMERIC => super::numeric::decode(raw)?,
            Type::BYTEA => Value::Blob(raw.to_vec()),
            Type::JSONB => Value::Text(String::from_utf8(raw.get(1..).unwrap_or(&[]).to_vec())?),
            _ => Value::Text(String::from_utf8(raw.to_vec())?),
        }))
    }

    fn from_sql_null(_: &Type) -> Result<Self, BoxError> {
        Ok(Cell(Value::Null))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}
