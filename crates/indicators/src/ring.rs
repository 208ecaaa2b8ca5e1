//! A fixed-size window of the last `len` values, allocated once.

#[derive(Debug, Clone)]
pub(crate) struct Window {
    values: Vec<f64>,
    count: usize,
}

impl Window {
    pub(crate) fn new(len: usize) -> Self {
        debug_assert!(len > 0);
        Window {
            values: vec![0.0; len],
            count: 0,
        }
    }

    /// Stores `value` and returns how many values were pushed since the last reset.
    #[inline]
    pub(crate) fn push(&mut self, value: f64) -> usize {
        let len = self.values.len();
        self.values[self.count % len] = value;
        self.count += 1;
        self.count
    }

    /// The oldest value of the full window (pushed `len - 1` pushes before the newest).
    /// Valid once at least `len` values were pushed.
    #[inline]
    pub(crate) fn oldest(&self) -> f64 {
        self.values[self.count % self.values.len()]
    }

    /// The full window from oldest to newest. Valid once at least `len` values were pushed.
    pub(crate) fn chronological(&self) -> impl Iterator<Item = f64> + '_ {
        let len = self.values.len();
        let start = self.count % len;
        (0..len).map(move |j| self.values[(start + j) % len])
    }

    pub(crate) fn reset(&mut self) {
        self.count = 0;
    }
}
