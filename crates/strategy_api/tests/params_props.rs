//! Property tests of parameter validation (`omega_strategy_api::validate`): any input gives
//! either validated parameters that obey every declaration, or the error naming the rule it
//! broke; never a panic. The expected outcome comes from a model written here, not from the
//! code under test.

use omega_strategy_api::{validate, Limit, ParamError, ParamSpec, ParamValue, Timeframe};
use proptest::prelude::*;

const SPECS: &[ParamSpec] = &[
    ParamSpec::float("q", 0.01).min(Limit::excl(0.0)),
    ParamSpec::float("z", 2.0)
        .min(Limit::incl(-3.5))
        .max(Limit::excl(10.0)),
    ParamSpec::int("lookback", 50)
        .min(Limit::incl(5.0))
        .max(Limit::incl(5000.0)),
    ParamSpec::float("free", 1.0),
    ParamSpec::boolean("filter", true),
    ParamSpec::timeframe("tf", Timeframe::H1),
];
const NAMES: [&str; 6] = ["q", "z", "lookback", "free", "filter", "tf"];

fn any_value() -> impl Strategy<Value = ParamValue> {
    prop_oneof![
        any::<f64>().prop_map(ParamValue::Float),
        prop_oneof![
            Just(0.0),
            Just(5.0),
            Just(5000.0),
            Just(-3.5),
            Just(10.0),
            Just(50.5)
        ]
        .prop_map(ParamValue::Float),
        any::<i64>().prop_map(ParamValue::Int),
        (-10i64..6000).prop_map(ParamValue::Int),
        any::<bool>().prop_map(ParamValue::Bool),
        prop::sample::select(Timeframe::ALL.to_vec()).prop_map(ParamValue::Timeframe),
        prop_oneof![
            Just("m15".to_string()),
            Just("H1".to_string()),
            Just("h4".to_string()),
            Just("H2".to_string()),
            ".*".prop_map(|s: String| s)
        ]
        .prop_map(ParamValue::Text),
    ]
}

fn any_name() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(NAMES.to_vec()).prop_map(str::to_string),
        1 => "[a-zA-Z_]{0,8}",
        1 => prop::sample::select(NAMES.to_vec()).prop_map(|n| n.to_uppercase()),
    ]
}

/// The model: what `name = value` must validate to, or `None` when it must be rejected.
fn model(name: &str, value: &ParamValue) -> Option<ParamValue> {
    let in_range = |v: f64, lo: Option<(f64, bool)>, hi: Option<(f64, bool)>| {
        v.is_finite()
            && lo.map_or(true, |(l, incl)| v > l || (incl && v == l))
            && hi.map_or(true, |(h, incl)| v < h || (incl && v == h))
    };
    let float = |lo, hi| match value {
        ParamValue::Float(v) if in_range(*v, lo, hi) => Some(ParamValue::Float(*v)),
        ParamValue::Int(v) if in_range(*v as f64, lo, hi) => Some(ParamValue::Float(*v as f64)),
        _ => None,
    };
    match name {
        "q" => float(Some((0.0, false)), None),
        "z" => float(Some((-3.5, true)), Some((10.0, false))),
        "free" => float(None, None),
        "lookback" => {
            let v = match value {
                ParamValue::Int(v) => *v,
                ParamValue::Float(f) if f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 => {
                    *f as i64
                }
                _ => return None,
            };
            (5..=5000).contains(&v).then_some(ParamValue::Int(v))
        }
        "filter" => matches!(value, ParamValue::Bool(_)).then(|| value.clone()),
        "tf" => match value {
            ParamValue::Timeframe(tf) => Some(ParamValue::Timeframe(*tf)),
            ParamValue::Text(s) => Timeframe::ALL
                .into_iter()
                .find(|tf| tf.name().eq_ignore_ascii_case(s))
                .map(ParamValue::Timeframe),
            _ => None,
        },
        _ => None,
    }
}

/// Equality that holds for NaN and tells -0.0 from 0.0 (the values must pass unchanged).
fn same(a: &ParamValue, b: &ParamValue) -> bool {
    format!("{a:?}") == format!("{b:?}")
}

/// `PROPTEST_CASES` in the environment (a longer fuzz run) or `default` cases.
fn config(default: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok());
    ProptestConfig::with_cases(cases.unwrap_or(default))
}

proptest! {
    #![proptest_config(config(2048))]

    #[test]
    fn any_input_validates_exactly_as_the_model_says(
        given in prop::collection::vec((any_name(), any_value()), 0..8)
    ) {
        let outcome = validate(SPECS, &given);
        // The model: the first unknown name is refused; else the last value of each name
        // decides, in declaration order.
        if let Some((unknown, _)) = given.iter().find(|(n, _)| !NAMES.contains(&n.as_str())) {
            match outcome {
                Err(ParamError::Unknown { name, known }) => {
                    prop_assert_eq!(&name, unknown);
                    prop_assert_eq!(known, NAMES.to_vec());
                }
                other => prop_assert!(false, "expected Unknown {unknown}, got {other:?}"),
            }
            return Ok(());
        }
        let mut first_failure = None;
        let mut expected = Vec::new();
        for spec in SPECS {
            match given.iter().rev().find(|(n, _)| n == spec.name) {
                None => expected.push(spec.default.clone()),
                Some((_, v)) => match model(spec.name, v) {
                    Some(ok) => expected.push(ok),
                    None => {
                        first_failure = Some(spec.name);
                        break;
                    }
                },
            }
        }
        match (first_failure, outcome) {
            (None, Ok(params)) => {
                let got: Vec<_> = params.iter().cloned().collect();
                prop_assert_eq!(got.len(), SPECS.len());
                for ((name, value), (spec, want)) in got.iter().zip(SPECS.iter().zip(&expected)) {
                    prop_assert_eq!(*name, spec.name);
                    prop_assert!(same(value, want), "{name}: {value:?} != {want:?}");
                }
            }
            (Some(name), Err(e)) => {
                let text = e.to_string();
                prop_assert!(text.contains(name), "{text} does not name {name}");
                prop_assert!(
                    matches!(e, ParamError::WrongType { .. } | ParamError::OutOfRange { .. }),
                    "{e:?}"
                );
            }
            (want, got) => prop_assert!(false, "model says {want:?} fails, got {got:?}"),
        }
    }

    #[test]
    fn a_check_never_panics_and_its_message_names_the_range(
        value in any_value(), lo in any::<f64>(), hi in any::<f64>(), incl in any::<bool>()
    ) {
        let spec = ParamSpec::float("x", 0.0)
            .min(if incl { Limit::incl(lo) } else { Limit::excl(lo) })
            .max(Limit::incl(hi));
        if let Err(e) = spec.check(&value) {
            let text = e.to_string();
            prop_assert!(text.contains("parameter x"), "{text}");
            if let ParamError::OutOfRange { range, .. } = e {
                prop_assert_eq!(range, spec.range_text());
            }
        }
    }

    #[test]
    fn timeframe_names_parse_case_insensitively_and_nothing_else_does(s in ".{0,6}") {
        let parsed = Timeframe::parse(&s);
        let want = Timeframe::ALL.into_iter().find(|tf| tf.name().eq_ignore_ascii_case(&s));
        prop_assert_eq!(parsed, want);
        for tf in Timeframe::ALL {
            prop_assert_eq!(Timeframe::parse(&tf.name().to_lowercase()), Some(tf));
        }
    }
}
