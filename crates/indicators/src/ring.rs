//! A fixed-size window of the last `len` values, allocated once.

#[derive(Debug, Clone)]
pub(crate) struct Window {
    values: Vec<f64>,
    /// Values pushed since the last reset.
    count: usize,
    /// The slot the next value goes to: `count % len`, kept by wrapping instead of a
    /// division per value (indicators push once per bar).
    next: usize,
}

impl Window {
    pub(crate) fn new(len: usize) -> Self {
        debug_assert!(len > 0);
        Window {
            values: vec![0.0; len],
            count: 0,
            next: 0,
        }
    }

    /// Stores `value` and returns how many values were pushed since the last reset.
    #[inline]
    pub(crate) fn push(&mut self, value: f64) -> usize {
        self.values[self.next] = value;
        self.next += 1;
        if self.next == self.values.len() {
            self.next = 0;
        }
        self.count += 1;
        self.count
    }

    /// The oldest value of the full window (pushed `len - 1` pushes before the newest).
    /// Valid once at least `len` values were pushed.
    #[inline]
    pub(crate) fn oldest(&self) -> f64 {
        self.values[self.next]
    }

    /// The full window from oldest to newest. Valid once at least `len` values were pushed.
    pub(crate) fn chronological(&self) -> impl Iterator<Item = f64> + '_ {
        let (older, newer) = self.values.split_at(self.next);
        newer.iter().chain(older).copied()
    }

    pub(crate) fn reset(&mut self) {
        self.count = 0;
        self.next = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_last_len_values_in_order() {
        let mut w = Window::new(3);
        for (k, v) in [1.0, 2.0, 3.0, 4.0, 5.0].into_iter().enumerate() {
            assert_eq!(w.push(v), k + 1);
        }
        assert_eq!(w.chronological().collect::<Vec<_>>(), vec![3.0, 4.0, 5.0]);
        assert_eq!(w.oldest(), 3.0); // the value leaving with the next push
        w.push(6.0);
        assert_eq!(w.chronological().collect::<Vec<_>>(), vec![4.0, 5.0, 6.0]);
        w.reset();
        for v in [7.0, 8.0, 9.0] {
            w.push(v);
        }
        assert_eq!(w.chronological().collect::<Vec<_>>(), vec![7.0, 8.0, 9.0]);
        assert_eq!(w.oldest(), 7.0);
        let mut one = Window::new(1);
        one.push(1.5);
        assert_eq!(
            (one.oldest(), one.chronological().collect::<Vec<_>>()),
            (1.5, vec![1.5])
        );
    }
}
