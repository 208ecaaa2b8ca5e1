//! Multi-timeframe visibility: at the close of primary bar `t` a bar of another timeframe is
//! visible iff its close (`open + tf`) is `<=` the close of `t` (`open_t + primary`).

/// Walks one timeframe's bars forward as primary bars close; never moves back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VisibilityCursor {
    tf_nanos: i64,
    count: usize,
}

impl VisibilityCursor {
    pub fn new(tf_nanos: i64) -> Self {
        VisibilityCursor { tf_nanos, count: 0 }
    }

    /// Number of visible bars at a primary close at `close_time`; `times` are the open times
    /// of this timeframe's bars. Calls must come with non-decreasing `close_time`.
    #[inline]
    pub fn advance(&mut self, times: &[i64], close_time: i64) -> usize {
        while self.count < times.len() && times[self.count] + self.tf_nanos <= close_time {
            self.count += 1;
        }
        self.count
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MIN: i64 = 60_000_000_000;

    #[test]
    fn an_h1_bar_becomes_visible_at_the_close_of_the_last_m5_bar_inside_it() {
        let h1 = [0, 60 * MIN];
        let mut cursor = VisibilityCursor::new(60 * MIN);
        // M5 bar opening at 50 min closes at 55: the H1 bar [0, 60) is still forming.
        assert_eq!(cursor.advance(&h1, 55 * MIN), 0);
        // M5 bar opening at 55 min closes at 60: the H1 bar has closed.
        assert_eq!(cursor.advance(&h1, 60 * MIN), 1);
        assert_eq!(cursor.advance(&h1, 115 * MIN), 1);
        assert_eq!(cursor.advance(&h1, 120 * MIN), 2);
    }

    proptest! {
        #[test]
        fn never_shows_a_forming_bar_and_never_hides_a_closed_one(
            gaps in proptest::collection::vec(1i64..200, 1..100),
            closes in proptest::collection::vec(0i64..20_000, 1..100),
        ) {
            let tf = 60 * MIN;
            let mut t = 0;
            let times: Vec<i64> = gaps.iter().map(|g| { t += g * MIN; t.div_euclid(tf) * tf }).collect();
            let mut times = times;
            times.dedup();
            let mut closes: Vec<i64> = closes.iter().map(|c| c * MIN).collect();
            closes.sort_unstable();
            let mut cursor = VisibilityCursor::new(tf);
            for close in closes {
                let n = cursor.advance(&times, close);
                let expected = times.iter().filter(|&&open| open + tf <= close).count();
                prop_assert_eq!(n, expected);
            }
        }
    }
}
