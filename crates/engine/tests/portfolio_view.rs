//! What a portfolio strategy sees of each member at every basket close (contract:
//! docs/engine/portfolio.md, "Portfolio strategies"): its last closed primary bar (the last
//! one opening at or before the close time) and, of every timeframe, the bars closed by that
//! bar's close. Members on different clocks and primaries, each with an H1 frame; the
//! expected counts are worked out here from the base bars' times.

use omega_engine::{run_portfolio, BasketMember, EngineSettings, OwnedBars, RunOptions};
use omega_strategy_api::{
    BasketContext, BasketSlice, PortfolioStrategy, StrategyError, Timeframe, TradeSignal,
};

const MINUTE: i64 = 60_000_000_000;
const PRIMARIES: [Timeframe; 3] = [Timeframe::M1, Timeframe::M5, Timeframe::M15];

/// A random walk with runs of missing minutes, different for each seed.
fn bars_with_gaps(n: usize, seed: u64) -> OwnedBars {
    let all = OwnedBars::random_walk(n, seed);
    let mut out = OwnedBars::default();
    for i in 0..n {
        if (i as u64 * 7 + seed) % 97 < 11 || i % 17 == (seed as usize) % 17 {
            continue;
        }
        let b = all.columns().bar(i);
        out.push(b.time, b.bid, b.ask, b.volume);
    }
    out
}

/// Per close time, per member: (has a bar closing now, closed primary bars, closed H1 bars).
type Seen = Vec<(i64, Vec<(bool, usize, usize)>)>;

struct Recorder(Seen);

impl PortfolioStrategy for Recorder {
    fn name(&self) -> &str {
        "recorder"
    }

    fn init(&mut self, _ctx: &mut BasketContext<'_>) -> Result<(), StrategyError> {
        Ok(())
    }

    fn evaluate(
        &mut self,
        basket: &BasketSlice<'_>,
    ) -> Result<Vec<(usize, TradeSignal)>, StrategyError> {
        let members = (0..basket.members.len())
            .map(|k| {
                let count = |tf| {
                    basket
                        .slice(k)
                        .and_then(|s| s.closed_bars(tf))
                        .map_or(0, |bars| bars.time.len())
                };
                (basket.has_bar(k), count(PRIMARIES[k]), count(Timeframe::H1))
            })
            .collect();
        self.0.push((basket.time, members));
        Ok(Vec::new())
    }
}

/// The open times of the bars `timeframe` groups `times` into.
fn opens(times: &[i64], timeframe: Timeframe) -> Vec<i64> {
    let span = timeframe.nanos();
    let mut out: Vec<i64> = times.iter().map(|t| t - t.rem_euclid(span)).collect();
    out.dedup();
    out
}

#[test]
fn each_member_shows_its_closed_bars_of_every_timeframe() {
    let bars: Vec<OwnedBars> = (0..3).map(|k| bars_with_gaps(5_000, 3 + k)).collect();
    let members: Vec<BasketMember<'_>> = bars
        .iter()
        .enumerate()
        .map(|(k, b)| BasketMember {
            bars: b.columns(),
            base_tf: Timeframe::M1,
            settings: EngineSettings {
                primary_timeframe: PRIMARIES[k],
                timeframes: vec![PRIMARIES[k], Timeframe::H1],
                ..EngineSettings::default()
            },
        })
        .collect();
    let mut recorder = Recorder(Vec::new());
    run_portfolio(&members, &mut recorder, RunOptions { trace: false }).expect("the basket runs");

    let primary_opens: Vec<Vec<i64>> = (0..3)
        .map(|k| opens(bars[k].columns().time, PRIMARIES[k]))
        .collect();
    let hour_opens: Vec<Vec<i64>> = (0..3)
        .map(|k| opens(bars[k].columns().time, Timeframe::H1))
        .collect();
    let mut times: Vec<i64> = primary_opens.concat();
    times.sort_unstable();
    times.dedup();
    assert_eq!(
        recorder.0.iter().map(|(t, _)| *t).collect::<Vec<_>>(),
        times,
        "one evaluation per time of the basket's timeline"
    );
    for (now, seen) in &recorder.0 {
        for k in 0..3 {
            let closed = primary_opens[k].partition_point(|&open| open <= *now);
            let close = primary_opens[k]
                .get(closed.wrapping_sub(1))
                .map_or(i64::MIN, |open| open + PRIMARIES[k].nanos());
            let hours = hour_opens[k]
                .iter()
                .filter(|&&open| open + 60 * MINUTE <= close)
                .count();
            let has_bar = primary_opens[k].binary_search(now).is_ok();
            assert_eq!(seen[k], (has_bar, closed, hours), "member {k} at {now}");
        }
    }
    assert!(recorder.0.iter().any(|(_, s)| s.iter().any(|m| m.2 > 10)));
}
