//! Strategy parameters: declared once (name, type, default, range), validated uniformly.
//!
//! A strategy publishes `&'static [ParamSpec]`; [`validate`] turns user input into [`Params`]
//! with every default filled in, rejecting unknown names, wrong types and out-of-range values
//! with the same rules the Python strategies apply.

use crate::types::Timeframe;
use std::fmt;

/// The declared type of a parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    Float,
    Int,
    Bool,
    Timeframe,
}

impl ParamKind {
    fn describe(self) -> &'static str {
        match self {
            ParamKind::Float => "a number",
            ParamKind::Int => "an integer",
            ParamKind::Bool => "a boolean",
            ParamKind::Timeframe => "a timeframe name",
        }
    }
}

/// A parameter value, as given by a user (`Text` only on input) or after validation.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    Float(f64),
    Int(i64),
    Bool(bool),
    Timeframe(Timeframe),
    Text(String),
}

impl fmt::Display for ParamValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamValue::Float(v) => write!(f, "{v:?}"),
            ParamValue::Int(v) => write!(f, "{v}"),
            ParamValue::Bool(v) => write!(f, "{v}"),
            ParamValue::Timeframe(tf) => f.write_str(tf.name()),
            ParamValue::Text(s) => write!(f, "{s:?}"),
        }
    }
}

/// One end of a numeric range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limit {
    pub value: f64,
    pub inclusive: bool,
}

impl Limit {
    pub const fn incl(value: f64) -> Self {
        Limit {
            value,
            inclusive: true,
        }
    }
    pub const fn excl(value: f64) -> Self {
        Limit {
            value,
            inclusive: false,
        }
    }
}

/// Declaration of one parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamSpec {
    pub name: &'static str,
    pub kind: ParamKind,
    pub default: ParamValue,
    pub min: Option<Limit>,
    pub max: Option<Limit>,
}

impl ParamSpec {
    pub const fn float(name: &'static str, default: f64) -> Self {
        ParamSpec {
            name,
            kind: ParamKind::Float,
            default: ParamValue::Float(default),
            min: None,
            max: None,
        }
    }
    pub const fn int(name: &'static str, default: i64) -> Self {
        ParamSpec {
            name,
            kind: ParamKind::Int,
            default: ParamValue::Int(default),
            min: None,
            max: None,
        }
    }
    pub const fn boolean(name: &'static str, default: bool) -> Self {
        ParamSpec {
            name,
            kind: ParamKind::Bool,
            default: ParamValue::Bool(default),
            min: None,
            max: None,
        }
    }
    pub const fn timeframe(name: &'static str, default: Timeframe) -> Self {
        ParamSpec {
            name,
            kind: ParamKind::Timeframe,
            default: ParamValue::Timeframe(default),
            min: None,
            max: None,
        }
    }
    pub const fn min(mut self, limit: Limit) -> Self {
        self.min = Some(limit);
        self
    }
    pub const fn max(mut self, limit: Limit) -> Self {
        self.max = Some(limit);
        self
    }

    /// Coerces `value` to this parameter's kind and checks the range.
    pub fn check(&self, value: &ParamValue) -> Result<ParamValue, ParamError> {
        let wrong = || ParamError::WrongType {
            name: self.name.to_string(),
            expected: self.kind.describe(),
            got: value.to_string(),
        };
        let checked = match (self.kind, value) {
            (ParamKind::Float, ParamValue::Float(v)) => ParamValue::Float(*v),
            (ParamKind::Float, ParamValue::Int(v)) => ParamValue::Float(*v as f64),
            (ParamKind::Int, ParamValue::Int(v)) => ParamValue::Int(*v),
            // An integral float is an int (as pydantic's lax mode takes it); 2.5 is not.
            (ParamKind::Int, ParamValue::Float(v))
                if v.fract() == 0.0 && v.abs() < 9_007_199_254_740_992.0 =>
            {
                ParamValue::Int(*v as i64)
            }
            (ParamKind::Bool, ParamValue::Bool(v)) => ParamValue::Bool(*v),
            (ParamKind::Timeframe, ParamValue::Timeframe(tf)) => ParamValue::Timeframe(*tf),
            (ParamKind::Timeframe, ParamValue::Text(s)) => {
                ParamValue::Timeframe(Timeframe::parse(s).ok_or_else(wrong)?)
            }
            _ => return Err(wrong()),
        };
        let number = match checked {
            ParamValue::Float(v) => v,
            ParamValue::Int(v) => v as f64,
            _ => return Ok(checked),
        };
        let below = self
            .min
            .is_some_and(|m| !(number > m.value || (m.inclusive && number == m.value)));
        let above = self
            .max
            .is_some_and(|m| !(number < m.value || (m.inclusive && number == m.value)));
        if !number.is_finite() || below || above {
            return Err(ParamError::OutOfRange {
                name: self.name.to_string(),
                value: checked.to_string(),
                range: self.range_text(),
            });
        }
        Ok(checked)
    }

    /// The range in words: `> 0`, `5 .. 5000`, `>= 0`.
    pub fn range_text(&self) -> String {
        let lo = self
            .min
            .map(|m| format!("{} {}", if m.inclusive { ">=" } else { ">" }, m.value));
        let hi = self
            .max
            .map(|m| format!("{} {}", if m.inclusive { "<=" } else { "<" }, m.value));
        match (lo, hi) {
            (Some(lo), Some(hi)) => format!("{lo} and {hi}"),
            (Some(one), None) | (None, Some(one)) => one,
            (None, None) => "finite".to_string(),
        }
    }
}

/// Why parameters were rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamError {
    Unknown {
        name: String,
        known: Vec<&'static str>,
    },
    WrongType {
        name: String,
        expected: &'static str,
        got: String,
    },
    OutOfRange {
        name: String,
        value: String,
        range: String,
    },
    /// A rule over several parameters (e.g. `z_exit < z_entry`).
    Invalid { message: String },
}

impl fmt::Display for ParamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamError::Unknown { name, known } => {
                write!(f, "unknown parameter '{name}'; known: {}", known.join(", "))
            }
            ParamError::WrongType {
                name,
                expected,
                got,
            } => {
                write!(f, "parameter {name} must be {expected}, got {got}")
            }
            ParamError::OutOfRange { name, value, range } => {
                write!(
                    f,
                    "parameter {name} = {value} is out of range (must be {range})"
                )
            }
            ParamError::Invalid { message } => f.write_str(message),
        }
    }
}

impl std::error::Error for ParamError {}

/// Validated parameters: every declared name present, in declaration order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Params {
    values: Vec<(&'static str, ParamValue)>,
}

impl Params {
    pub fn get(&self, name: &str) -> Option<&ParamValue> {
        self.values.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }
    /// A float parameter (panics if `name` was not declared as a float: a programming error).
    pub fn float(&self, name: &str) -> f64 {
        match self.get(name) {
            Some(ParamValue::Float(v)) => *v,
            other => panic!("parameter {name} is not a declared float: {other:?}"),
        }
    }
    pub fn int(&self, name: &str) -> i64 {
        match self.get(name) {
            Some(ParamValue::Int(v)) => *v,
            other => panic!("parameter {name} is not a declared int: {other:?}"),
        }
    }
    pub fn boolean(&self, name: &str) -> bool {
        match self.get(name) {
            Some(ParamValue::Bool(v)) => *v,
            other => panic!("parameter {name} is not a declared bool: {other:?}"),
        }
    }
    pub fn timeframe(&self, name: &str) -> Timeframe {
        match self.get(name) {
            Some(ParamValue::Timeframe(v)) => *v,
            other => panic!("parameter {name} is not a declared timeframe: {other:?}"),
        }
    }
    pub fn iter(&self) -> impl Iterator<Item = &(&'static str, ParamValue)> {
        self.values.iter()
    }
}

/// Checks `given` against `specs`, filling defaults. Names are matched exactly.
pub fn validate(specs: &[ParamSpec], given: &[(String, ParamValue)]) -> Result<Params, ParamError> {
    for (name, _) in given {
        if !specs.iter().any(|s| s.name == name) {
            return Err(ParamError::Unknown {
                name: name.clone(),
                known: specs.iter().map(|s| s.name).collect(),
            });
        }
    }
    let mut values = Vec::with_capacity(specs.len());
    for spec in specs {
        let value = match given.iter().rev().find(|(n, _)| n == spec.name) {
            Some((_, v)) => spec.check(v)?,
            None => spec.default.clone(),
        };
        values.push((spec.name, value));
    }
    Ok(Params { values })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPECS: &[ParamSpec] = &[
        ParamSpec::float("q", 0.01).min(Limit::excl(0.0)),
        ParamSpec::int("lookback", 50)
            .min(Limit::incl(5.0))
            .max(Limit::incl(5000.0)),
        ParamSpec::boolean("filter", true),
        ParamSpec::timeframe("tf", Timeframe::H1),
    ];

    fn given(items: &[(&str, ParamValue)]) -> Vec<(String, ParamValue)> {
        items
            .iter()
            .map(|(n, v)| (n.to_string(), v.clone()))
            .collect()
    }

    #[test]
    fn defaults_fill_missing_names() {
        let p = validate(SPECS, &[]).unwrap();
        assert_eq!(p.float("q"), 0.01);
        assert_eq!(p.int("lookback"), 50);
        assert!(p.boolean("filter"));
        assert_eq!(p.timeframe("tf"), Timeframe::H1);
    }

    #[test]
    fn ints_widen_to_floats_and_names_parse_to_timeframes() {
        let p = validate(
            SPECS,
            &given(&[
                ("q", ParamValue::Int(2)),
                ("tf", ParamValue::Text("m15".into())),
            ]),
        )
        .unwrap();
        assert_eq!(p.float("q"), 2.0);
        assert_eq!(p.timeframe("tf"), Timeframe::M15);
    }

    #[test]
    fn rejects_unknown_wrong_type_and_out_of_range() {
        let unknown = validate(SPECS, &given(&[("nope", ParamValue::Int(1))])).unwrap_err();
        assert!(matches!(unknown, ParamError::Unknown { .. }));
        let fractional =
            validate(SPECS, &given(&[("lookback", ParamValue::Float(50.5))])).unwrap_err();
        assert!(matches!(fractional, ParamError::WrongType { .. }));
        let integral = validate(SPECS, &given(&[("lookback", ParamValue::Float(50.0))])).unwrap();
        assert_eq!(integral.int("lookback"), 50);
        let bool_for_int =
            validate(SPECS, &given(&[("lookback", ParamValue::Bool(true))])).unwrap_err();
        assert!(matches!(bool_for_int, ParamError::WrongType { .. }));
        let bad_tf = validate(SPECS, &given(&[("tf", ParamValue::Text("H2".into()))])).unwrap_err();
        assert!(matches!(bad_tf, ParamError::WrongType { .. }));
        for bad in [ParamValue::Int(4), ParamValue::Int(5001)] {
            let e = validate(SPECS, &given(&[("lookback", bad)])).unwrap_err();
            assert!(matches!(e, ParamError::OutOfRange { .. }), "{e}");
        }
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let e = validate(SPECS, &given(&[("q", ParamValue::Float(bad))])).unwrap_err();
            assert!(matches!(e, ParamError::OutOfRange { .. }), "{e}");
        }
        assert!(validate(SPECS, &given(&[("lookback", ParamValue::Int(5))])).is_ok());
        assert!(validate(SPECS, &given(&[("lookback", ParamValue::Int(5000))])).is_ok());
    }
}
