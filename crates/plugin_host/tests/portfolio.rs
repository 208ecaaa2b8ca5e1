//! A portfolio plugin through the host: the basket crosses the boundary whole (members'
//! bars, series, positions, bars closing now, handles), its declarations come back in
//! order, and every failure (a panic, an error, an answer the ABI does not allow, a basket
//! that does not match `init`) ends as a `StrategyError` with the cause kept as a
//! `PluginError`, never as an unwind.
//!
//! The plugin is an in-memory descriptor of this build (`PortfolioPluginDescriptor::of`),
//! called through its C function table exactly as a loaded library's.
#![allow(unsafe_code)] // a hand-made descriptor

use omega_plugin_host::{PluginError, PluginPortfolio, PortfolioPlugin};
use omega_strategy_api::abi::{PluginPortfolioStrategy, PortfolioPluginDescriptor};
use omega_strategy_api::{
    BarColumns, BasketContext, BasketHandle, BasketMemberView, BasketSlice, DataSlice, FrameView,
    IndicatorHandle, IndicatorSpec, IndicatorView, InstrumentId, ParamValue, PortfolioStrategy,
    Position, PositionAction, PriceField, PriceSide, Side, SliceParts, StrategyError, Timeframe,
    TradeSignal,
};

/// Declares an SMA on member 1 and answers as its `mode` parameter says.
struct Legs {
    mode: String,
    sma: BasketHandle,
}

fn sma_spec() -> IndicatorSpec {
    IndicatorSpec::Sma {
        period: 2,
        field: PriceField::Close,
    }
}

impl PortfolioStrategy for Legs {
    fn name(&self) -> &str {
        "legs"
    }
    fn init(&mut self, ctx: &mut BasketContext<'_>) -> Result<(), StrategyError> {
        if self.mode == "bad_member_in_init" {
            ctx.indicator(7, sma_spec());
        }
        let member = ctx.member("GBPUSD").expect("in the basket");
        // One on the bid of the primary, one on the ask of H1: the host replays both.
        ctx.indicator_on(member, Timeframe::H1, PriceSide::Ask, sma_spec());
        self.sma = ctx.indicator(member, sma_spec());
        Ok(())
    }
    fn evaluate(
        &mut self,
        basket: &BasketSlice<'_>,
    ) -> Result<Vec<(usize, TradeSignal)>, StrategyError> {
        match self.mode.as_str() {
            "panic" => panic!("evaluate blew up at {}", basket.time),
            "error" => return Err(StrategyError::new("no quotes")),
            "out_of_range" => return Ok(vec![(5, TradeSignal::long())]),
            _ => {}
        }
        // Everything the basket shows, written into the signals the test reads back.
        let held = basket.position(0).map_or(-1.0, |p| p.size);
        let tag = format!(
            "t={} sma={} closes={} last={} bar0={} bar1={} held={held} tf={:?}",
            basket.time,
            basket.value(self.sma),
            basket.closes(1).len(),
            basket.closes(1).last().copied().unwrap_or(f64::NAN),
            basket.has_bar(0),
            basket.has_bar(1),
            basket.slice(0).map(|s| s.primary_timeframe()),
        );
        Ok(vec![
            (
                1,
                TradeSignal::short()
                    .with_stop_loss_distance(0.002)
                    .with_tag(tag),
            ),
            (0, TradeSignal::long().with_size(2.0)),
        ])
    }
    fn manage_position(
        &mut self,
        member: usize,
        position: &Position,
        _basket: &BasketSlice<'_>,
    ) -> Result<Vec<PositionAction>, StrategyError> {
        if self.mode == "panic_manage" {
            panic!("manage of member {member}");
        }
        Ok(if position.tag == "close me" {
            vec![
                PositionAction::Close,
                PositionAction::ModifyStopLoss(Some(1.05)),
            ]
        } else {
            Vec::new()
        })
    }
}

impl PluginPortfolioStrategy for Legs {
    const NAME: &'static str = "legs";
    fn create(params: &[(String, ParamValue)]) -> Result<Self, String> {
        let mode = params.iter().find_map(|(n, v)| match v {
            ParamValue::Text(t) if n == "mode" => Some(t.clone()),
            _ => None,
        });
        if mode.as_deref() == Some("refuse") {
            return Err("legs: mode refuse".into());
        }
        Ok(Legs {
            mode: mode.unwrap_or_default(),
            sma: BasketHandle(0),
        })
    }
}

static LEGS: PortfolioPluginDescriptor = PortfolioPluginDescriptor::of::<Legs>();

fn portfolio(mode: &str) -> PluginPortfolio {
    // SAFETY: a static descriptor of this build.
    let plugin = unsafe { PortfolioPlugin::from_descriptor("mem:legs", &LEGS) }.unwrap();
    assert_eq!(plugin.name(), "legs");
    let given = [("mode".to_string(), ParamValue::Text(mode.to_string()))];
    plugin.create(&given).unwrap()
}

const SYMBOLS: [&str; 2] = ["EURUSD", "GBPUSD"];
const PIPS: [f64; 2] = [0.0001, 0.0001];

/// The engine's start of a run on M5: `(member, timeframe, side, spec)` declared.
type Requests = Vec<(usize, Timeframe, PriceSide, IndicatorSpec)>;

fn start(p: &mut PluginPortfolio) -> Result<Requests, StrategyError> {
    let symbols: Vec<String> = SYMBOLS.iter().map(|s| s.to_string()).collect();
    let timeframes = [Timeframe::M5, Timeframe::H1];
    let mut ctx = BasketContext::new(&symbols, &PIPS, Timeframe::M5, &timeframes);
    p.init(&mut ctx)?;
    Ok(ctx.requests().to_vec())
}

const TIME: [i64; 3] = [0, 300, 600];
const CLOSE: [f64; 3] = [1.25, 1.26, 1.27];
const SMA: [f64; 3] = [f64::NAN, 1.255, 1.265];
const OTHER: [f64; 3] = [9.0, 9.0, 9.0];

fn columns() -> BarColumns<'static> {
    BarColumns {
        time: &TIME,
        bid_open: &CLOSE,
        bid_high: &CLOSE,
        bid_low: &CLOSE,
        bid_close: &CLOSE,
        ask_open: &CLOSE,
        ask_high: &CLOSE,
        ask_low: &CLOSE,
        ask_close: &CLOSE,
        volume: &CLOSE,
    }
}

fn position(tag: &str) -> Position {
    Position {
        side: Side::Long,
        size: 3000.0,
        entry_price: 1.1,
        entry_time: 300,
        entry_index: 1,
        stop_loss: None,
        take_profit: None,
        bars_held: 1,
        mfe: 0.0,
        entry_fee: 0.0,
        max_bars: None,
        unrealized_pnl: 0.0,
        tag: tag.to_string(),
        instrument: InstrumentId(0),
    }
}

/// Calls `f` with a basket of `n_members` at the close of 600: member 0 (EURUSD) has no
/// closed bar yet and holds `held`; member 1 (GBPUSD) has two closed M5 bars of three, one
/// closing now, and the basket's handles 0 and 1 read its series 0 and 1 (the SMA, then
/// 1.255).
fn with_basket<R>(
    n_members: usize,
    held: Option<&Position>,
    f: impl FnOnce(&BasketSlice<'_>) -> R,
) -> R {
    let frames = [FrameView {
        timeframe: Timeframe::M5,
        bars: columns(),
    }];
    let indicators = [
        IndicatorView {
            frame: 0,
            values: &OTHER,
        },
        IndicatorView {
            frame: 0,
            values: &SMA,
        },
    ];
    let gbpusd = DataSlice::new(SliceParts {
        index: 1,
        primary: Timeframe::M5,
        frames: &frames,
        visible: &[2],
        indicators: &indicators,
        instrument: InstrumentId(1),
        position: None,
        recorder: None,
        in_session: true,
    });
    let mut members = vec![
        BasketMemberView {
            slice: None,
            has_bar: false,
            position: held,
        },
        BasketMemberView {
            slice: Some(gbpusd),
            has_bar: true,
            position: None,
        },
    ];
    members.resize(n_members, members[0]);
    f(&BasketSlice {
        time: 600,
        members: &members,
        handles: &[(1, IndicatorHandle(0)), (1, IndicatorHandle(1))],
    })
}

#[test]
fn the_declarations_come_back_in_order_on_their_members() {
    let mut p = portfolio("");
    let requests = start(&mut p).unwrap();
    assert_eq!(
        requests,
        vec![
            (1, Timeframe::H1, PriceSide::Ask, sma_spec()),
            (1, Timeframe::M5, PriceSide::Bid, sma_spec()),
        ]
    );
}

#[test]
fn the_basket_crosses_whole_and_the_signals_come_back_with_their_members() {
    let mut p = portfolio("");
    start(&mut p).unwrap();
    let held = position("");
    let signals = with_basket(2, Some(&held), |b| p.evaluate(b)).unwrap();
    // GBPUSD's two closed bars (1.25, 1.26), the SMA at its second (1.255), EURUSD's
    // position size, no EURUSD bar yet.
    let expected_tag = "t=600 sma=1.255 closes=2 last=1.26 bar0=false bar1=true held=3000 tf=None";
    assert_eq!(
        signals,
        vec![
            (
                1,
                TradeSignal::short()
                    .with_stop_loss_distance(0.002)
                    .with_tag(expected_tag)
            ),
            (0, TradeSignal::long().with_size(2.0)),
        ]
    );
    // Without the position.
    let signals = with_basket(2, None, |b| p.evaluate(b)).unwrap();
    assert!(
        signals[0].1.tag.ends_with("held=-1 tf=None"),
        "{}",
        signals[0].1.tag
    );
}

#[test]
fn manage_position_reaches_the_member_s_position() {
    let mut p = portfolio("");
    start(&mut p).unwrap();
    let close_me = position("close me");
    let actions = with_basket(2, Some(&close_me), |b| p.manage_position(0, &close_me, b));
    assert_eq!(
        actions.unwrap(),
        vec![
            PositionAction::Close,
            PositionAction::ModifyStopLoss(Some(1.05))
        ]
    );
    let keep = position("keep");
    let actions = with_basket(2, Some(&keep), |b| p.manage_position(0, &keep, b));
    assert_eq!(actions.unwrap(), vec![]);
}

#[test]
fn a_panic_is_a_plugin_error_and_the_plugin_is_not_called_again() {
    for (mode, function, message) in [
        ("panic", "evaluate", "evaluate blew up at 600"),
        ("panic_manage", "manage_position", "manage of member 0"),
    ] {
        let mut p = portfolio(mode);
        start(&mut p).unwrap();
        let held = position("");
        let call = |p: &mut PluginPortfolio| {
            with_basket(2, Some(&held), |b| match function {
                "evaluate" => p.evaluate(b).map(|_| ()),
                _ => p.manage_position(0, &held, b).map(|_| ()),
            })
        };
        let error = format!("plugin strategy legs: panic in {function}: {message}");
        assert_eq!(call(&mut p), Err(StrategyError(error.clone())));
        assert_eq!(call(&mut p), Err(StrategyError(error)));
        assert_eq!(
            p.take_fault(),
            Some(PluginError::Panic {
                strategy: "legs".into(),
                function,
                message: message.into(),
            })
        );
    }
}

#[test]
fn a_signal_for_a_member_outside_the_basket_is_a_protocol_fault() {
    let mut p = portfolio("out_of_range");
    start(&mut p).unwrap();
    let e = with_basket(2, None, |b| p.evaluate(b)).unwrap_err();
    let fault = PluginError::Protocol {
        strategy: "legs".into(),
        function: "evaluate",
        message: "a signal for member 5 in a basket of 2".into(),
    };
    assert_eq!(e.0, fault.to_string());
    assert_eq!(p.take_fault(), Some(fault));
}

#[test]
fn an_indicator_declared_outside_the_basket_is_refused() {
    // The guest's BasketContext takes any member; the host refuses the answer.
    let mut p = portfolio("bad_member_in_init");
    let e = start(&mut p).unwrap_err();
    assert_eq!(
        e.0,
        "plugin strategy legs: invalid answer from init: an indicator declared on member 7 of 2"
    );
    assert!(matches!(p.take_fault(), Some(PluginError::Protocol { .. })));
}

#[test]
fn errors_of_the_strategy_are_strategy_errors_not_faults() {
    // SAFETY: a static descriptor of this build.
    let plugin = unsafe { PortfolioPlugin::from_descriptor("mem:legs", &LEGS) }.unwrap();
    let refuse = [("mode".to_string(), ParamValue::Text("refuse".into()))];
    assert_eq!(
        plugin.create(&refuse).unwrap_err(),
        PluginError::Strategy {
            message: "legs: mode refuse".into()
        }
    );
    let mut p = portfolio("error");
    start(&mut p).unwrap();
    let e = with_basket(2, None, |b| p.evaluate(b)).unwrap_err();
    assert_eq!(e, StrategyError::new("no quotes"));
    assert_eq!(p.take_fault(), None);
}

#[test]
fn a_basket_of_another_size_than_init_s_is_refused_by_the_plugin() {
    let mut p = portfolio("");
    start(&mut p).unwrap();
    let e = with_basket(3, None, |b| p.evaluate(b)).unwrap_err();
    assert_eq!(e.0, "a basket of 3 members for the 2 of init");
}

#[test]
fn a_descriptor_of_another_layout_is_refused_before_use() {
    let mut sizes = LEGS.sizes;
    sizes.basket_slice += 8;
    let d: &'static PortfolioPluginDescriptor =
        Box::leak(Box::new(PortfolioPluginDescriptor { sizes, ..LEGS }));
    // SAFETY: version and sizes are read, nothing else (the sizes differ).
    let e = unsafe { PortfolioPlugin::from_descriptor("mem:wide", d) }.unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "plugin mem:wide: size of BasketSliceAbi mismatch: expected {} bytes, found {}",
            LEGS.sizes.basket_slice,
            LEGS.sizes.basket_slice + 8
        )
    );
    let old: &'static PortfolioPluginDescriptor = Box::leak(Box::new(PortfolioPluginDescriptor {
        abi_version: 2,
        ..LEGS
    }));
    // SAFETY: only the version is read.
    let e = unsafe { PortfolioPlugin::from_descriptor("mem:old", old) }.unwrap_err();
    assert!(matches!(e, PluginError::AbiVersion { found: 2, .. }), "{e}");
}

#[test]
fn a_handle_to_a_series_the_member_lacks_is_refused_by_the_plugin_not_read() {
    let mut p = portfolio("");
    start(&mut p).unwrap();
    let columns = columns();
    let frames = [FrameView {
        timeframe: Timeframe::M5,
        bars: columns,
    }];
    let slice = DataSlice::new(SliceParts {
        index: 1,
        primary: Timeframe::M5,
        frames: &frames,
        visible: &[2],
        indicators: &[],
        instrument: InstrumentId(1),
        position: None,
        recorder: None,
        in_session: true,
    });
    let member = BasketMemberView {
        slice: Some(slice),
        has_bar: true,
        position: None,
    };
    let members = [member, member];
    let basket = BasketSlice {
        time: 600,
        members: &members,
        handles: &[(1, IndicatorHandle(5))],
    };
    let e = p.evaluate(&basket).unwrap_err();
    assert_eq!(
        e.0,
        "basket handle 0 reads series 5 of member 1, which has none such"
    );
}
