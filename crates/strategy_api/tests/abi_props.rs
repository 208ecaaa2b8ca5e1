//! Property tests of the plugin ABI codec (`omega_strategy_api::abi`): every value survives
//! encode -> decode bit for bit, and any field values a plugin or host might send (corrupt
//! kinds, flags, discriminants, strings that are not UTF-8) decode to a value or an error
//! message, never a panic. The create / init / last_error / destroy functions a plugin
//! exports are driven through a descriptor built here, as the host calls them.
//!
//! Kept apart from abi.rs (integration tests use the public API only) so they outlive a
//! split of that module.
#![allow(unsafe_code)] // calling the descriptor's extern "C" functions and reading AbiStr

use omega_strategy_api::abi::{
    AbiStr, ActionAbi, ContextAbi, IndicatorKeyAbi, IndicatorSpecAbi, InitAbi, OrderAbi, ParamAbi,
    PluginDescriptor, PluginStrategy, SignalAbi, STATUS_ERROR, STATUS_PANIC, STATUS_SOME,
};
use omega_strategy_api::{
    abi, DataSlice, Distance, EntryOrder, IndicatorKey, IndicatorSpec, OrderAction, ParamValue,
    PositionAction, PriceField, PriceSide, RunContext, Side, StrategyError, Timeframe, TradeSignal,
    WorkingOrder, SPEC_WORDS,
};
use proptest::prelude::*;
use std::cell::RefCell;
use std::ffi::c_void;

// ------------------------------------------------------------------------------ strategies

fn timeframe() -> impl Strategy<Value = Timeframe> {
    prop::sample::select(Timeframe::ALL.to_vec())
}

fn field() -> impl Strategy<Value = PriceField> {
    prop::sample::select(vec![
        PriceField::Open,
        PriceField::High,
        PriceField::Low,
        PriceField::Close,
    ])
}

fn side() -> impl Strategy<Value = PriceSide> {
    prop::sample::select(vec![PriceSide::Bid, PriceSide::Ask, PriceSide::Mid])
}

fn spec() -> impl Strategy<Value = IndicatorSpec> {
    let period = 0usize..100_000;
    let f = any::<f64>;
    prop_oneof![
        (period.clone(), field()).prop_map(|(period, field)| IndicatorSpec::Sma { period, field }),
        (period.clone(), field()).prop_map(|(period, field)| IndicatorSpec::Ema { period, field }),
        (period.clone(), field()).prop_map(|(period, field)| IndicatorSpec::Rsi { period, field }),
        period
            .clone()
            .prop_map(|period| IndicatorSpec::Atr { period }),
        (period.clone(), field())
            .prop_map(|(period, field)| IndicatorSpec::RollingStd { period, field }),
        (period.clone(), field())
            .prop_map(|(period, field)| IndicatorSpec::ZScore { period, field }),
        (period.clone(), f(), f(), any::<i8>(), field()).prop_map(
            |(period, k_up, k_down, band, field)| IndicatorSpec::Bollinger {
                period,
                k_up,
                k_down,
                band,
                field
            }
        ),
        (f(), f(), prop::option::of(f()), f(), field()).prop_map(|(q, r, x0, p0, field)| {
            IndicatorSpec::Kalman {
                q,
                r,
                x0,
                p0,
                field,
            }
        }),
        (
            f(),
            f(),
            prop::option::of(f()),
            f(),
            period.clone(),
            field()
        )
            .prop_map(
                |(q, r, x0, p0, lookback, field)| IndicatorSpec::KalmanZScore {
                    q,
                    r,
                    x0,
                    p0,
                    lookback,
                    field
                }
            ),
        (period.clone(), field()).prop_map(|(period, field)| IndicatorSpec::Wma { period, field }),
        (period.clone(), period.clone(), any::<i8>(), field()).prop_map(
            |(fast, slow, line, field)| IndicatorSpec::Macd {
                fast,
                slow,
                signal: 9,
                line,
                field
            }
        ),
        (period.clone(), f(), any::<i8>()).prop_map(|(period, k, band)| IndicatorSpec::Keltner {
            period,
            atr_period: 10,
            k,
            band
        }),
        (period, any::<i8>()).prop_map(|(period, line)| IndicatorSpec::Adx { period, line }),
    ]
}

fn key() -> impl Strategy<Value = IndicatorKey> {
    (timeframe(), side(), spec()).prop_map(|(timeframe, side, spec)| IndicatorKey {
        timeframe,
        side,
        spec,
    })
}

/// Any field values at all, with the small discriminants and codes that decode
/// over-represented.
fn raw_key() -> impl Strategy<Value = IndicatorKeyAbi> {
    let small = || prop_oneof![0u32..20, any::<u32>()];
    let word = || prop_oneof![0u64..5, any::<u64>()];
    ((small(), small(), small()), prop::array::uniform8(word())).prop_map(
        |((timeframe, side, kind), words)| IndicatorKeyAbi {
            timeframe,
            side,
            spec: IndicatorSpecAbi {
                kind,
                reserved: 0,
                words,
            },
        },
    )
}

fn opt_f64() -> impl Strategy<Value = Option<f64>> {
    prop::option::of(any::<f64>())
}

fn signal() -> impl Strategy<Value = TradeSignal> {
    (
        prop::sample::select(vec![Side::Long, Side::Short]),
        (
            opt_f64(),
            opt_f64(),
            opt_f64(),
            opt_f64(),
            opt_f64(),
            opt_f64(),
        ),
        prop::option::of(any::<u32>()),
        ".{0,12}",
        (
            prop_oneof![
                Just(EntryOrder::Market),
                any::<f64>().prop_map(EntryOrder::Limit),
                any::<f64>().prop_map(EntryOrder::Stop),
            ],
            prop::option::of(any::<u32>()),
            prop::option::of(any::<i64>()),
        ),
    )
        .prop_map(
            |(side, (sl, tp, sld, tpd, size, risk), max_bars, tag, order)| {
                let (entry, expiry_bars, expires_at) = order;
                let mut s = TradeSignal::new(side).with_tag(tag);
                s.entry = entry;
                s.expiry_bars = expiry_bars;
                s.expires_at = expires_at;
                s.stop_loss = sl;
                s.take_profit = tp;
                s.stop_loss_distance = sld;
                s.take_profit_distance = tpd;
                s.size = size;
                s.risk_percent = risk;
                s.max_bars = max_bars;
                s
            },
        )
}

fn action() -> impl Strategy<Value = PositionAction> {
    prop_oneof![
        Just(PositionAction::Close),
        any::<f64>().prop_map(PositionAction::PartialClose),
        opt_f64().prop_map(PositionAction::ModifyStopLoss),
        opt_f64().prop_map(PositionAction::ModifyTakeProfit),
        any::<f64>().prop_map(|x| PositionAction::MoveToBreakEven(Distance::Pips(x))),
        any::<f64>().prop_map(|x| PositionAction::TrailStop(Distance::Price(x))),
    ]
}

fn param_value() -> impl Strategy<Value = ParamValue> {
    prop_oneof![
        any::<f64>().prop_map(ParamValue::Float),
        any::<i64>().prop_map(ParamValue::Int),
        any::<bool>().prop_map(ParamValue::Bool),
        timeframe().prop_map(ParamValue::Timeframe),
        ".{0,12}".prop_map(ParamValue::Text),
    ]
}

/// Equality by debug text: NaN equals NaN, -0.0 differs from 0.0 (values pass unchanged).
fn same<T: std::fmt::Debug>(a: &T, b: &T) -> bool {
    format!("{a:?}") == format!("{b:?}")
}

// ---------------------------------------------------------------- a plugin built in-process

thread_local! {
    /// What the last `Echo::create` received, and the keys `Echo` declares.
    static RECEIVED: RefCell<Vec<(String, ParamValue)>> = const { RefCell::new(Vec::new()) };
    static KEYS: RefCell<Vec<IndicatorKey>> = const { RefCell::new(Vec::new()) };
}

/// A strategy whose plugin functions record what they were given.
struct Echo;

impl omega_strategy_api::Strategy for Echo {
    fn name(&self) -> &str {
        "echo"
    }
    fn init(&mut self, ctx: &mut RunContext<'_>) -> Result<(), StrategyError> {
        for key in KEYS.with(|k| k.borrow().clone()) {
            ctx.indicator_on(key.timeframe, key.side, key.spec);
        }
        Ok(())
    }
    fn evaluate(&mut self, _slice: &DataSlice<'_>) -> Result<Option<TradeSignal>, StrategyError> {
        Ok(None)
    }
}

impl PluginStrategy for Echo {
    const NAME: &'static str = "echo";
    fn create(params: &[(String, ParamValue)]) -> Result<Self, String> {
        RECEIVED.with(|r| *r.borrow_mut() = params.to_vec());
        if params.iter().any(|(n, _)| n == "reject") {
            return Err("echo rejects 'reject'".into());
        }
        Ok(Echo)
    }
}

static ECHO: PluginDescriptor = PluginDescriptor::of::<Echo>();

/// Calls `create` as the host does; returns the status, the instance and its message.
fn create(params: &[ParamAbi]) -> (i32, *mut c_void, String) {
    let mut instance: *mut c_void = std::ptr::null_mut();
    // SAFETY: `params` and the strings it borrows live across the call.
    let status = unsafe { (ECHO.create)(params.as_ptr(), params.len(), &mut instance) };
    assert!(!instance.is_null(), "create must always write an instance");
    // SAFETY: a live instance; the message is copied before the next call.
    let message = unsafe { (ECHO.last_error)(instance).to_str() }
        .expect("last_error is UTF-8")
        .to_string();
    (status, instance, message)
}

fn destroy(instance: *mut c_void) {
    // SAFETY: `instance` came from `create` and is destroyed once.
    unsafe { (ECHO.destroy)(instance) };
}

// ------------------------------------------------------------------------------ properties

/// `PROPTEST_CASES` in the environment (a longer fuzz run) or `default` cases.
fn config(default: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok());
    ProptestConfig::with_cases(cases.unwrap_or(default))
}

proptest! {
    #![proptest_config(config(1024))]

    #[test]
    fn indicator_keys_round_trip_bit_for_bit(k in key()) {
        let decoded = IndicatorKeyAbi::from_key(&k).to_key();
        prop_assert_eq!(decoded, Ok(k)); // Eq compares floats by bit pattern
    }

    #[test]
    fn any_key_fields_decode_or_name_the_bad_field_and_decoding_is_stable(raw in raw_key()) {
        match raw.to_key() {
            Ok(k) => {
                prop_assert!(raw.timeframe < 7 && raw.side < 3);
                prop_assert_eq!(k.spec.code(), raw.spec.kind);
                prop_assert_eq!(IndicatorKeyAbi::from_key(&k).to_key(), Ok(k));
            }
            Err(message) => {
                let decodes = IndicatorSpec::decode(raw.spec.kind, &raw.spec.words).is_ok();
                prop_assert!(raw.timeframe >= 7 || raw.side >= 3 || !decodes, "refused a valid key: {message}");
                prop_assert!(!message.is_empty());
            }
        }
    }

    #[test]
    fn spec_words_round_trip_exactly_for_every_kind(words in prop::array::uniform8(0u64..4), kind in 0u32..17) {
        // Small words decode for every parameter type (counts, -0/+0-like floats, fields).
        let words: [u64; SPEC_WORDS] = words;
        if let Ok(spec) = IndicatorSpec::decode(kind, &words) {
            let (code, again) = spec.encode();
            prop_assert_eq!(code, kind);
            prop_assert_eq!(IndicatorSpec::decode(code, &again).map(|s| s.encode()), Ok((code, again)));
        }
    }

    #[test]
    fn timeframe_discriminants_decode_exactly_below_seven(value in any::<u32>()) {
        let decoded = abi::timeframe(value);
        if value < 7 {
            prop_assert_eq!(decoded, Ok(Timeframe::ALL[value as usize]));
        } else {
            prop_assert_eq!(decoded, Err(format!("unknown timeframe {value}")));
        }
    }

    #[test]
    fn signals_round_trip(s in signal()) {
        let abi = SignalAbi::from_signal(&s);
        // SAFETY: the tag borrows `s.tag`, alive here.
        let back = unsafe { abi.to_signal() }.expect("a valid signal decodes");
        prop_assert!(same(&back, &s), "{back:?} != {s:?}");
    }

    #[test]
    fn any_signal_fields_decode_or_are_refused(
        side in prop_oneof![Just(1i32), Just(-1), any::<i32>()],
        flags in any::<u32>(),
        floats in prop::array::uniform6(any::<f64>()),
        max_bars in any::<u32>(),
        tag in prop::collection::vec(any::<u8>(), 0..16),
        entry_kind in prop_oneof![0u32..3, any::<u32>()],
        entry_price in any::<f64>(),
    ) {
        let raw = SignalAbi {
            side,
            flags,
            stop_loss: floats[0],
            take_profit: floats[1],
            stop_loss_distance: floats[2],
            take_profit_distance: floats[3],
            size: floats[4],
            risk_percent: floats[5],
            max_bars,
            tag: AbiStr { ptr: tag.as_ptr(), len: tag.len() },
            instrument: 0,
            entry_kind,
            expiry_bars: max_bars,
            entry_price,
            expires_at: 0,
        };
        // SAFETY: the tag points into `tag`, alive here.
        match unsafe { raw.to_signal() } {
            Ok(s) => {
                prop_assert!(side == 1 || side == -1);
                prop_assert!(entry_kind <= abi::ENTRY_STOP);
                prop_assert_eq!(s.tag.as_bytes(), &tag[..]);
                prop_assert_eq!(s.max_bars.is_some(), flags & abi::HAS_MAX_BARS != 0);
                prop_assert_eq!(s.size.is_some(), flags & abi::HAS_SIZE != 0);
                prop_assert_eq!(s.expiry_bars.is_some(), flags & abi::HAS_EXPIRY_BARS != 0);
                prop_assert_eq!(s.entry.price().map(f64::to_bits), (entry_kind != 0).then_some(entry_price.to_bits()));
            }
            Err(message) => {
                prop_assert!(
                    (side != 1 && side != -1)
                        || std::str::from_utf8(&tag).is_err()
                        || entry_kind > abi::ENTRY_STOP
                );
                prop_assert!(!message.is_empty());
            }
        }
    }

    #[test]
    fn actions_round_trip(a in action()) {
        let back = ActionAbi::from_action(&a).expect("encodes").to_action().expect("a valid action decodes");
        prop_assert!(same(&back, &a), "{back:?} != {a:?}");
    }

    #[test]
    fn any_action_fields_decode_or_are_refused(
        kind in prop_oneof![0u32..7, any::<u32>()],
        has_value in 0u32..3,
        value in any::<f64>(),
        unit in prop_oneof![0u32..3, any::<u32>()],
    ) {
        let raw = ActionAbi { kind, has_value, value, unit };
        match raw.to_action() {
            Ok(a) => prop_assert!(same(&ActionAbi::from_action(&a).unwrap().to_action(), &Ok(a))),
            Err(message) => {
                let distance = kind == abi::ACTION_MOVE_TO_BREAK_EVEN || kind == abi::ACTION_TRAIL_STOP;
                let needs_value = kind == abi::ACTION_PARTIAL_CLOSE || distance;
                prop_assert!(
                    kind > 5 || (needs_value && has_value == 0) || (distance && unit > 1),
                    "{message}"
                );
            }
        }
    }

    #[test]
    fn order_actions_and_orders_round_trip(
        modify in any::<bool>(),
        price in any::<f64>(),
        bars_left in prop::option::of(any::<u32>()),
        expires_at in prop::option::of(any::<i64>()),
        tag in ".{0,12}",
    ) {
        let action = if modify { OrderAction::ModifyPrice(price) } else { OrderAction::Cancel };
        let back = ActionAbi::from_order_action(&action).to_order_action().expect("decodes");
        prop_assert!(same(&back, &action), "{back:?} != {action:?}");
        let order = WorkingOrder {
            side: Side::Short,
            entry: EntryOrder::Stop(price),
            placed_index: 7,
            bars_left,
            expires_at,
            tag,
            instrument: omega_strategy_api::InstrumentId(3),
        };
        let abi = OrderAbi::from_order(&order);
        // SAFETY: the tag borrows `order.tag`, alive here.
        let decoded = unsafe { abi.to_order() }.expect("a valid order decodes");
        prop_assert!(same(&decoded, &order), "{decoded:?} != {order:?}");
        let unknown = ActionAbi { kind: 99, has_value: 1, value: price, unit: 0 };
        prop_assert!(unknown.to_order_action().is_err());
    }

    #[test]
    fn strings_decode_exactly_when_they_are_utf8(bytes in prop::collection::vec(any::<u8>(), 0..32)) {
        let raw = AbiStr { ptr: bytes.as_ptr(), len: bytes.len() };
        // SAFETY: points into `bytes`, alive here.
        let decoded = unsafe { raw.to_str() };
        prop_assert_eq!(decoded.ok(), std::str::from_utf8(&bytes).ok());
    }

    #[test]
    fn parameters_reach_the_plugin_unchanged(
        given in prop::collection::vec(("[a-z_]{1,10}", param_value()), 0..6)
    ) {
        let abi: Vec<ParamAbi> = given.iter().map(|(n, v)| ParamAbi::new(n, v)).collect();
        let (status, instance, message) = create(&abi);
        destroy(instance);
        let received = RECEIVED.with(|r| r.borrow().clone());
        prop_assert!(same(&received, &given), "{received:?} != {given:?}");
        if given.iter().any(|(n, _)| n == "reject") {
            prop_assert_eq!(status, STATUS_ERROR);
            prop_assert_eq!(message, "echo rejects 'reject'");
        } else {
            prop_assert_eq!(status, STATUS_SOME);
            prop_assert_eq!(message, "");
        }
    }

    #[test]
    fn corrupt_parameters_are_an_error_never_a_panic(
        kind in prop_oneof![0u32..6, any::<u32>()],
        int_value in prop_oneof![0i64..10, any::<i64>()],
        float_value in any::<f64>(),
        name in prop::collection::vec(any::<u8>(), 0..12),
        text in prop::collection::vec(any::<u8>(), 0..12),
    ) {
        let raw = ParamAbi {
            name: AbiStr { ptr: name.as_ptr(), len: name.len() },
            kind,
            int_value,
            float_value,
            text: AbiStr { ptr: text.as_ptr(), len: text.len() },
        };
        let (status, instance, message) = create(&[raw]);
        destroy(instance);
        prop_assert_ne!(status, STATUS_PANIC, "{}", message);
        let name_ok = std::str::from_utf8(&name).is_ok();
        let value_ok = match kind {
            abi::PARAM_FLOAT | abi::PARAM_INT | abi::PARAM_BOOL => true,
            abi::PARAM_TIMEFRAME => (0..7).contains(&int_value),
            abi::PARAM_TEXT => std::str::from_utf8(&text).is_ok(),
            _ => false,
        };
        let rejected_by_echo = name == b"reject";
        let want = if name_ok && value_ok && !rejected_by_echo { STATUS_SOME } else { STATUS_ERROR };
        prop_assert_eq!(status, want, "{}", message);
        if status == STATUS_ERROR {
            prop_assert!(!message.is_empty());
        }
    }

    #[test]
    fn declared_indicators_reach_the_host_unchanged(
        keys in prop::collection::vec(key(), 0..20), primary in prop_oneof![0u32..7, any::<u32>()]
    ) {
        KEYS.with(|k| *k.borrow_mut() = keys.clone());
        let (status, instance, _) = create(&[]);
        prop_assert_eq!(status, STATUS_SOME);
        let timeframes = [primary];
        let context = ContextAbi {
            primary,
            instrument_id: 0,
            timeframes: timeframes.as_ptr(),
            n_timeframes: 1,
            symbol: AbiStr::new("EURUSD"),
            pip_size: 0.0001,
        };
        let mut out = InitAbi {
            keys: std::ptr::null(),
            n_keys: usize::MAX,
            timeframes: std::ptr::null(),
            n_timeframes: usize::MAX,
        };
        // SAFETY: a live instance, a context alive for the call and a valid out-parameter.
        let status = unsafe { (ECHO.init)(instance, &context, &mut out) };
        if primary < 7 {
            prop_assert_eq!(status, STATUS_SOME);
            prop_assert_eq!(out.n_keys, keys.len());
            prop_assert_eq!(out.n_timeframes, 0);
            // SAFETY: `n_keys` keys owned by the instance, alive until the next call.
            let got = unsafe { std::slice::from_raw_parts(out.keys, out.n_keys) };
            for (abi, want) in got.iter().zip(&keys) {
                prop_assert_eq!(abi.to_key(), Ok(*want));
            }
        } else {
            prop_assert_eq!(status, STATUS_ERROR);
            prop_assert_eq!(out.n_keys, 0);
            // SAFETY: a live instance.
            let message = unsafe { (ECHO.last_error)(instance).to_str() }.unwrap().to_string();
            prop_assert_eq!(message, format!("unknown timeframe {primary}"));
        }
        destroy(instance);
    }
}
