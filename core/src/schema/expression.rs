//! A formula field's expression: arithmetic over the record's number fields, with no way to
//! run code. `amount * (1 - discount)`, `round(price * quantity, 2)`, `max(a, b) - min(c, d)`.
//!
//! Grammar: numbers (`12`, `0.5`), field names, `+ - * /`, unary minus, parentheses and the
//! functions `round(x)` / `round(x, places)`, `abs(x)`, `min(x, …)`, `max(x, …)`. An empty field
//! counts as 0; a percent field counts as its fraction (`12.5` % is 0.125); dividing by zero or
//! overflowing leaves the result empty. At most 500 characters, nesting at most 32 deep.

use crate::Reason;
use rust_decimal::{Decimal, RoundingStrategy};
use std::str::FromStr;

/// Longest expression, in characters.
const MAX_CHARS: usize = 500;
/// Deepest nesting of parentheses and calls.
const MAX_DEPTH: usize = 32;
/// Most decimal places `round` takes.
const MAX_PLACES: u32 = 10;

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expression {
    /// A literal number.
    Number(Decimal),
    /// A field's value.
    Field(String),
    /// `-x`.
    Negate(Box<Expression>),
    /// `a op b`.
    Binary(Box<Expression>, Op, Box<Expression>),
    /// `name(args)`.
    Call(Function, Vec<Expression>),
}

/// An arithmetic operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
}

/// A function an expression may call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    /// `round(x)` or `round(x, places)`, halves away from zero.
    Round,
    /// `abs(x)`.
    Abs,
    /// `min(x, …)`.
    Min,
    /// `max(x, …)`.
    Max,
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Number(Decimal),
    Name(String),
    Sym(char),
}

fn bad(at: &str) -> Reason {
    Reason::BadExpression {
        near: at.chars().take(20).collect(),
    }
}

fn tokens(s: &str) -> Result<Vec<Token>, Reason> {
    let mut out = Vec::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let rest = || chars[i..].iter().collect::<String>();
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() || c == '.' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            let text: String = chars[start..i].iter().collect();
            let n = Decimal::from_str(&text).map_err(|_| bad(&text))?;
            out.push(Token::Number(n));
        } else if c.is_ascii_lowercase() {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_lowercase() || chars[i].is_ascii_digit() || chars[i] == '_')
            {
                i += 1;
            }
            out.push(Token::Name(chars[start..i].iter().collect()));
        } else if "+-*/(),".contains(c) {
            out.push(Token::Sym(c));
            i += 1;
        } else {
            return Err(bad(&rest()));
        }
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn here(&self) -> String {
        match self.peek() {
            Some(Token::Number(n)) => n.to_string(),
            Some(Token::Name(n)) => n.clone(),
            Some(Token::Sym(c)) => c.to_string(),
            None => String::new(),
        }
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(&Token::Sym(c)) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn deeper(&mut self) -> Result<(), Reason> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Reason::ExpressionTooDeep { max: MAX_DEPTH });
        }
        Ok(())
    }

    fn sum(&mut self) -> Result<Expression, Reason> {
        let mut left = self.product()?;
        loop {
            let op = if self.eat('+') {
                Op::Add
            } else if self.eat('-') {
                Op::Sub
            } else {
                return Ok(left);
            };
            let right = self.product()?;
            left = Expression::Binary(Box::new(left), op, Box::new(right));
        }
    }

    fn product(&mut self) -> Result<Expression, Reason> {
        let mut left = self.unary()?;
        loop {
            let op = if self.eat('*') {
                Op::Mul
            } else if self.eat('/') {
                Op::Div
            } else {
                return Ok(left);
            };
            let right = self.unary()?;
            left = Expression::Binary(Box::new(left), op, Box::new(right));
        }
    }

    fn unary(&mut self) -> Result<Expression, Reason> {
        if self.eat('-') {
            self.deeper()?;
            let inner = self.unary()?;
            self.depth -= 1;
            return Ok(Expression::Negate(Box::new(inner)));
        }
        if self.eat('+') {
            return self.unary();
        }
        self.atom()
    }

    fn atom(&mut self) -> Result<Expression, Reason> {
        match self.peek().cloned() {
            Some(Token::Number(n)) => {
                self.at += 1;
                Ok(Expression::Number(n))
            }
            Some(Token::Name(name)) => {
                self.at += 1;
                if !self.eat('(') {
                    return Ok(Expression::Field(name));
                }
                let function = match name.as_str() {
                    "round" => Function::Round,
                    "abs" => Function::Abs,
                    "min" => Function::Min,
                    "max" => Function::Max,
                    _ => return Err(Reason::UnknownFunction { name }),
                };
                self.deeper()?;
                let mut args = vec![self.sum()?];
                while self.eat(',') {
                    args.push(self.sum()?);
                }
                if !self.eat(')') {
                    return Err(bad(&self.here()));
                }
                self.depth -= 1;
                let arity_ok = match function {
                    Function::Round => args.len() <= 2,
                    Function::Abs => args.len() == 1,
                    Function::Min | Function::Max => true,
                };
                if !arity_ok {
                    return Err(bad(&name));
                }
                if function == Function::Round {
                    if let Some(places) = args.get(1) {
                        match places {
                            Expression::Number(p)
                                if p.fract().is_zero()
                                    && *p >= Decimal::ZERO
                                    && *p <= Decimal::from(MAX_PLACES) => {}
                            _ => return Err(bad("round")),
                        }
                    }
                }
                Ok(Expression::Call(function, args))
            }
            Some(Token::Sym('(')) => {
                self.at += 1;
                self.deeper()?;
                let inner = self.sum()?;
                if !self.eat(')') {
                    return Err(bad(&self.here()));
                }
                self.depth -= 1;
                Ok(inner)
            }
            _ => Err(bad(&self.here())),
        }
    }
}

impl Expression {
    /// The functions there are, as a list for messages.
    pub const FUNCTIONS: &'static str = "round, abs, min, max";

    /// Reads an expression (see the module's grammar).
    pub fn parse(s: &str) -> Result<Expression, Reason> {
        if s.trim().is_empty() {
            return Err(Reason::Required);
        }
        if s.chars().count() > MAX_CHARS {
            return Err(Reason::TooLong { max: MAX_CHARS });
        }
        let mut p = Parser {
            tokens: tokens(s)?,
            at: 0,
            depth: 0,
        };
        let e = p.sum()?;
        if p.at != p.tokens.len() {
            return Err(bad(&p.here()));
        }
        Ok(e)
    }

    /// The field names it reads.
    pub fn fields(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.collect(&mut out);
        out.sort_unstable();
        out.dedup();
        out
    }

    fn collect<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Expression::Number(_) => {}
            Expression::Field(f) => out.push(f),
            Expression::Negate(e) => e.collect(out),
            Expression::Binary(a, _, b) => {
                a.collect(out);
                b.collect(out);
            }
            Expression::Call(_, args) => args.iter().for_each(|a| a.collect(out)),
        }
    }

    /// Its value given each field's value (`None` counts as 0); `None` when it divides by
    /// zero or overflows.
    pub fn evaluate(&self, field: &dyn Fn(&str) -> Option<Decimal>) -> Option<Decimal> {
        Some(match self {
            Expression::Number(n) => *n,
            Expression::Field(f) => field(f).unwrap_or(Decimal::ZERO),
            Expression::Negate(e) => -e.evaluate(field)?,
            Expression::Binary(a, op, b) => {
                let (a, b) = (a.evaluate(field)?, b.evaluate(field)?);
                match op {
                    Op::Add => a.checked_add(b)?,
                    Op::Sub => a.checked_sub(b)?,
                    Op::Mul => a.checked_mul(b)?,
                    Op::Div => a.checked_div(b)?,
                }
            }
            Expression::Call(function, args) => {
                let values: Vec<Decimal> = args
                    .iter()
                    .map(|a| a.evaluate(field))
                    .collect::<Option<_>>()?;
                match function {
                    Function::Round => {
                        // `round(x, 2)` and `round(x, 2.0)` alike (checked whole when parsed).
                        let places = values
                            .get(1)
                            .and_then(|p| rust_decimal::prelude::ToPrimitive::to_u32(&p.trunc()))
                            .unwrap_or(0);
                        values[0]
                            .round_dp_with_strategy(places, RoundingStrategy::MidpointAwayFromZero)
                    }
                    Function::Abs => values[0].abs(),
                    Function::Min => values.into_iter().min()?,
                    Function::Max => values.into_iter().max()?,
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn eval(expr: &str, vars: &[(&str, &str)]) -> Option<Decimal> {
        let e = Expression::parse(expr).unwrap();
        e.evaluate(&|name| vars.iter().find(|(n, _)| *n == name).map(|(_, v)| d(v)))
    }

    #[test]
    fn arithmetic_precedence_functions_and_empties() {
        assert_eq!(eval("1 + 2 * 3", &[]), Some(d("7")));
        assert_eq!(eval("(1 + 2) * 3", &[]), Some(d("9")));
        assert_eq!(eval("10 - 4 - 3", &[]), Some(d("3")), "left to right");
        assert_eq!(eval("-2 * -3", &[]), Some(d("6")));
        assert_eq!(
            eval(
                "amount * (1 - discount)",
                &[("amount", "200"), ("discount", "0.125")]
            ),
            Some(d("175.000"))
        );
        assert_eq!(eval("price * quantity", &[("price", "9.99")]), Some(d("0")));
        assert_eq!(eval("round(10 / 3, 2)", &[]), Some(d("3.33")));
        assert_eq!(eval("round(2.5)", &[]), Some(d("3")));
        assert_eq!(eval("round(10 / 3, 2.0)", &[]), Some(d("3.33")));
        assert_eq!(eval("round(-2.5)", &[]), Some(d("-3")));
        assert_eq!(eval("abs(3 - 5)", &[]), Some(d("2")));
        assert_eq!(eval("max(1, 7, 3) - min(4, 2)", &[]), Some(d("5")));
        assert_eq!(eval("1 / (2 - 2)", &[]), None, "division by zero");
        assert_eq!(
            eval("79228162514264337593543950335 * 10", &[]),
            None,
            "overflow"
        );
        assert_eq!(
            Expression::parse("b * a + a").unwrap().fields(),
            vec!["a", "b"]
        );
    }

    #[test]
    fn nothing_but_arithmetic_is_accepted() {
        for bad in [
            "",
            "1 +",
            "(1 + 2",
            "1 + 2)",
            "a b",
            "system(1)",
            "round(1, 2, 3)",
            "round(1, a)",
            "round(1, 11)",
            "abs()",
            "1 % 2",
            "a == b",
            "\"text\"",
            "Amount",
            "1..2",
        ] {
            assert!(Expression::parse(bad).is_err(), "{bad:?}");
        }
        let deep = format!("{}1{}", "(".repeat(40), ")".repeat(40));
        assert_eq!(
            Expression::parse(&deep),
            Err(Reason::ExpressionTooDeep { max: MAX_DEPTH })
        );
        let negations = format!("{}1", "-".repeat(100));
        assert!(Expression::parse(&negations).is_err());
        assert!(Expression::parse(&"1+".repeat(300)).is_err());
    }
}
