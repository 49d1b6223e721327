//! The values the store binds to statements and reads from rows, whatever database runs
//! underneath: five storage classes (null, integer, real, text, blob), owned ([`Value`]) or
//! borrowed from a row ([`ValueRef`]), and the conversions of Rust values to and from them.

use super::error::DbError;

/// A value as stored: what a parameter binds or a column holds.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

/// A stored value borrowed from a row or a parameter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum ValueRef<'a> {
    Null,
    Integer(i64),
    Real(f64),
    Text(&'a [u8]),
    Blob(&'a [u8]),
}

impl<'a> From<&'a Value> for ValueRef<'a> {
    fn from(v: &'a Value) -> Self {
        match v {
            Value::Null => ValueRef::Null,
            Value::Integer(i) => ValueRef::Integer(*i),
            Value::Real(r) => ValueRef::Real(*r),
            Value::Text(s) => ValueRef::Text(s.as_bytes()),
            Value::Blob(b) => ValueRef::Blob(b),
        }
    }
}

impl ValueRef<'_> {
    /// The owned value.
    pub(crate) fn to_owned(self) -> Value {
        match self {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(i) => Value::Integer(i),
            ValueRef::Real(r) => Value::Real(r),
            ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
            ValueRef::Blob(b) => Value::Blob(b.to_vec()),
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            ValueRef::Null => "null",
            ValueRef::Integer(_) => "integer",
            ValueRef::Real(_) => "real",
            ValueRef::Text(_) => "text",
            ValueRef::Blob(_) => "blob",
        }
    }
}

/// A Rust value that binds as a statement parameter.
pub(crate) trait ToSql {
    fn to_sql(&self) -> ValueRef<'_>;
}

impl<T: ToSql + ?Sized> ToSql for &T {
    fn to_sql(&self) -> ValueRef<'_> {
        (**self).to_sql()
    }
}

impl<T: ToSql> ToSql for Option<T> {
    fn to_sql(&self) -> ValueRef<'_> {
        match self {
            Some(v) => v.to_sql(),
            None => ValueRef::Null,
        }
    }
}

impl ToSql for Value {
    fn to_sql(&self) -> ValueRef<'_> {
        self.into()
    }
}

impl ToSql for ValueRef<'_> {
    fn to_sql(&self) -> ValueRef<'_> {
        *self
    }
}

impl ToSql for str {
    fn to_sql(&self) -> ValueRef<'_> {
        ValueRef::Text(self.as_bytes())
    }
}

impl ToSql for String {
    fn to_sql(&self) -> ValueRef<'_> {
        ValueRef::Text(self.as_bytes())
    }
}

impl ToSql for [u8] {
    fn to_sql(&self) -> ValueRef<'_> {
        ValueRef::Blob(self)
    }
}

impl ToSql for Vec<u8> {
    fn to_sql(&self) -> ValueRef<'_> {
        ValueRef::Blob(self)
    }
}

impl ToSql for f64 {
    fn to_sql(&self) -> ValueRef<'_> {
        ValueRef::Real(*self)
    }
}

impl ToSql for bool {
    fn to_sql(&self) -> ValueRef<'_> {
        ValueRef::Integer(i64::from(*self))
    }
}

macro_rules! integer_to_sql {
    ($($t:ty),*) => {$(
        impl ToSql for $t {
            fn to_sql(&self) -> ValueRef<'_> {
                ValueRef::Integer(*self as i64)
            }
        }
    )*};
}
integer_to_sql!(i64, i32, i16, i8, u32, u16, u8, usize, u64);

/// A Rust value a column converts to.
pub(crate) trait FromSql: Sized {
    fn from_sql(v: ValueRef<'_>) -> Result<Self, String>;
}

fn wrong(v: ValueRef<'_>, want: &str) -> String {
    format!("a {} value where {want} was expected", v.kind())
}

impl<T: FromSql> FromSql for Option<T> {
    fn from_sql(v: ValueRef<'_>) -> Result<Self, String> {
        match v {
            ValueRef::Null => Ok(None),
            v => T::from_sql(v).map(Some),
        }
    }
}

impl FromSql for Value {
    fn from_sql(v: ValueRef<'_>) -> Result<Self, String> {
        Ok(v.to_owned())
    }
}

impl FromSql for String {
    fn from_sql(v: ValueRef<'_>) -> Result<Self, String> {
        match v {
            ValueRef::Text(t) => String::from_utf8(t.to_vec()).map_err(|e| e.to_string()),
            v => Err(wrong(v, "text")),
        }
    }
}

impl FromSql for Vec<u8> {
    fn from_sql(v: ValueRef<'_>) -> Result<Self, String> {
        match v {
            ValueRef::Blob(b) | ValueRef::Text(b) => Ok(b.to_vec()),
            v => Err(wrong(v, "a blob")),
        }
    }
}

impl FromSql for f64 {
    fn from_sql(v: ValueRef<'_>) -> Result<Self, String> {
        match v {
            ValueRef::Real(r) => Ok(r),
            ValueRef::Integer(i) => Ok(i as f64),
            v => Err(wrong(v, "a number")),
        }
    }
}

impl FromSql for bool {
    fn from_sql(v: ValueRef<'_>) -> Result<Self, String> {
        match v {
            ValueRef::Integer(i) => Ok(i != 0),
            v => Err(wrong(v, "an integer")),
        }
    }
}

macro_rules! integer_from_sql {
    ($($t:ty),*) => {$(
        impl FromSql for $t {
            fn from_sql(v: ValueRef<'_>) -> Result<Self, String> {
                match v {
                    ValueRef::Integer(i) => <$t>::try_from(i)
                        .map_err(|_| format!("{i} is out of range for {}", stringify!($t))),
                    v => Err(wrong(v, "an integer")),
                }
            }
        }
    )*};
}
integer_from_sql!(i64, i32, u32, u16, u8, usize, u64);

/// The parameters of one statement, bound in order.
pub(crate) trait Params {
    /// Calls `bind` with each parameter, in order.
    fn each(self, bind: &mut dyn FnMut(ValueRef<'_>) -> Result<(), DbError>)
        -> Result<(), DbError>;
}

impl Params for [&dyn ToSql; 0] {
    fn each(self, _: &mut dyn FnMut(ValueRef<'_>) -> Result<(), DbError>) -> Result<(), DbError> {
        Ok(())
    }
}

impl Params for () {
    fn each(self, _: &mut dyn FnMut(ValueRef<'_>) -> Result<(), DbError>) -> Result<(), DbError> {
        Ok(())
    }
}

impl Params for &[&dyn ToSql] {
    fn each(
        self,
        bind: &mut dyn FnMut(ValueRef<'_>) -> Result<(), DbError>,
    ) -> Result<(), DbError> {
        self.iter().try_for_each(|p| bind(p.to_sql()))
    }
}

impl<const N: usize> Params for &[&dyn ToSql; N] {
    fn each(
        self,
        bind: &mut dyn FnMut(ValueRef<'_>) -> Result<(), DbError>,
    ) -> Result<(), DbError> {
        self.iter().try_for_each(|p| bind(p.to_sql()))
    }
}

macro_rules! array_params {
    ($($n:literal),*) => {$(
        impl<T: ToSql> Params for [T; $n] {
            fn each(
                self,
                bind: &mut dyn FnMut(ValueRef<'_>) -> Result<(), DbError>,
            ) -> Result<(), DbError> {
                self.iter().try_for_each(|p| bind(p.to_sql()))
            }
        }
    )*};
}
array_params!(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16);

macro_rules! tuple_params {
    ($(($($t:ident $i:tt),*)),*) => {$(
        impl<$($t: ToSql),*> Params for ($($t,)*) {
            fn each(
                self,
                bind: &mut dyn FnMut(ValueRef<'_>) -> Result<(), DbError>,
            ) -> Result<(), DbError> {
                $(bind(self.$i.to_sql())?;)*
                Ok(())
            }
        }
    )*};
}
tuple_params!(
    (A 0),
    (A 0, B 1),
    (A 0, B 1, C 2),
    (A 0, B 1, C 2, D 3),
    (A 0, B 1, C 2, D 3, E 4),
    (A 0, B 1, C 2, D 3, E 4, F 5),
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6),
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7),
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8),
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9),
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10),
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11),
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12),
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12, N 13)
);

/// Parameters taken from an iterator, in order.
#[derive(Debug)]
pub(crate) struct ParamsFromIter<I>(I);

/// Binds each item of `iter` in turn.
pub(crate) fn params_from_iter<I>(iter: I) -> ParamsFromIter<I>
where
    I: IntoIterator,
    I::Item: ToSql,
{
    ParamsFromIter(iter)
}

impl<I> Params for ParamsFromIter<I>
where
    I: IntoIterator,
    I::Item: ToSql,
{
    fn each(
        self,
        bind: &mut dyn FnMut(ValueRef<'_>) -> Result<(), DbError>,
    ) -> Result<(), DbError> {
        self.0.into_iter().try_for_each(|p| bind(p.to_sql()))
    }
}

/// A list of parameters of different types: `params![a, b, c]`.
macro_rules! params {
    () => { &[] as &[&dyn $crate::db::ToSql] };
    ($($p:expr),+ $(,)?) => { &[$(&$p as &dyn $crate::db::ToSql),+] as &[&dyn $crate::db::ToSql] };
}
pub(crate) use params;

#[cfg(test)]
mod tests {
    use super::*;

    fn bound(p: impl Params) -> Vec<Value> {
        let mut out = Vec::new();
        p.each(&mut |v| {
            out.push(v.to_owned());
            Ok(())
        })
        .unwrap();
        out
    }

    #[test]
    fn parameters_bind_in_order_whatever_their_shape() {
        let name = String::from("恒信");
        assert_eq!(
            bound((1i64, &name, None::<i64>, true)),
            vec![
                Value::Integer(1),
                Value::Text("恒信".into()),
                Value::Null,
                Value::Integer(1)
            ]
        );
        assert_eq!(
            bound([3usize, 4]),
            vec![Value::Integer(3), Value::Integer(4)]
        );
        assert_eq!(
            bound(params![2.5, "x"]),
            vec![Value::Real(2.5), Value::Text("x".into())]
        );
        assert_eq!(
            bound(params_from_iter(vec![Value::Null])),
            vec![Value::Null]
        );
        assert!(bound([]).is_empty());
    }

    #[test]
    fn columns_convert_or_say_why_not() {
        assert_eq!(i64::from_sql(ValueRef::Integer(7)), Ok(7));
        assert_eq!(Option::<String>::from_sql(ValueRef::Null), Ok(None));
        assert_eq!(f64::from_sql(ValueRef::Integer(2)), Ok(2.0));
        assert!(u8::from_sql(ValueRef::Integer(300)).is_err());
        assert!(String::from_sql(ValueRef::Integer(1))
            .unwrap_err()
            .contains("integer"));
    }
}
