//! Large column buffers kept from one run for the next.
//!
//! A backtest allocates its resampled frames and indicator series (about 20 MiB per million
//! M1 bars) and frees them when it ends. The system allocator hands blocks that large back to
//! the kernel, so the next run (a repeat, the next point of a parameter search) takes a page
//! fault for every 4 KiB it writes again; on a 2-core VM that was a third of a 1M-bar run.
//! Buffers given back here are handed out again instead, already resident.
//!
//! Only buffers of at least [`MIN_POOLED_BYTES`] are kept, at most [`MAX_KEPT_BYTES`] in all;
//! [`release`] frees them. A buffer has one owner at a time; [`take`] hands it out cleared,
//! [`overwritable`] with the old values for a caller that overwrites them all.

use std::sync::Mutex;

/// Smaller buffers are cheap to allocate: the allocator keeps them itself.
pub const MIN_POOLED_BYTES: usize = 256 * 1024;
/// The most the pool holds between runs (a 10M-bar run's frames and series fit).
pub const MAX_KEPT_BYTES: usize = 512 * 1024 * 1024;

/// Element types the pool keeps (one shelf each).
pub trait Pooled: Copy + Send + 'static {
    #[doc(hidden)]
    fn shelf(pool: &mut Pool) -> &mut Vec<Vec<Self>>;
}

#[doc(hidden)]
#[derive(Debug)]
pub struct Pool {
    f64s: Vec<Vec<f64>>,
    i64s: Vec<Vec<i64>>,
    usizes: Vec<Vec<usize>>,
    bytes: usize,
}

impl Pooled for f64 {
    fn shelf(pool: &mut Pool) -> &mut Vec<Vec<f64>> {
        &mut pool.f64s
    }
}
impl Pooled for i64 {
    fn shelf(pool: &mut Pool) -> &mut Vec<Vec<i64>> {
        &mut pool.i64s
    }
}
impl Pooled for usize {
    fn shelf(pool: &mut Pool) -> &mut Vec<Vec<usize>> {
        &mut pool.usizes
    }
}

impl Pool {
    const fn new() -> Self {
        Pool {
            f64s: Vec::new(),
            i64s: Vec::new(),
            usizes: Vec::new(),
            bytes: 0,
        }
    }

    fn take<T: Pooled>(&mut self, capacity: usize) -> Option<Vec<T>> {
        if capacity * std::mem::size_of::<T>() < MIN_POOLED_BYTES {
            return None;
        }
        let shelf = T::shelf(self);
        // A loose fit would hand a caller (or numpy, for an indicator series) memory it does
        // not use: at most a quarter more than asked.
        let fits = |have: usize| have >= capacity && have - capacity <= capacity / 4;
        let best = (0..shelf.len())
            .filter(|&k| fits(shelf[k].capacity()))
            .min_by_key(|&k| shelf[k].capacity())?;
        let v = shelf.swap_remove(best);
        self.bytes -= bytes_of(&v);
        Some(v)
    }

    /// Keeps `v` with its contents (initialised values that [`overwritable`] may hand out
    /// without writing them again).
    fn give<T: Pooled>(&mut self, v: Vec<T>) {
        let bytes = bytes_of(&v);
        if bytes < MIN_POOLED_BYTES || self.bytes + bytes > MAX_KEPT_BYTES {
            return;
        }
        self.bytes += bytes;
        T::shelf(self).push(v);
    }
}

static POOL: Mutex<Pool> = Mutex::new(Pool::new());

fn pool() -> std::sync::MutexGuard<'static, Pool> {
    // Every operation leaves the shelves consistent (one push or remove), so a lock poisoned
    // by a panic elsewhere is still usable.
    POOL.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn bytes_of<T>(v: &Vec<T>) -> usize {
    v.capacity() * std::mem::size_of::<T>()
}

/// An empty vector with room for `capacity` elements: the smallest kept buffer that fits
/// (and is at most a quarter larger), else a new allocation.
pub fn take<T: Pooled>(capacity: usize) -> Vec<T> {
    let kept = pool().take(capacity);
    match kept {
        Some(mut v) => {
            v.clear();
            v
        }
        None => Vec::with_capacity(capacity),
    }
}

/// `len` elements for the caller to overwrite every one of: a kept buffer keeps whatever the
/// last run left in it (no pass to clear it), a new one is `fill` (zeros come from the
/// allocator's zeroed pages, first touched by whichever thread writes them).
pub fn overwritable<T: Pooled>(len: usize, fill: T) -> Vec<T> {
    let kept = pool().take(len);
    match kept {
        Some(mut v) => {
            v.truncate(len);
            v.resize(len, fill);
            v
        }
        None => vec![fill; len],
    }
}

/// Keeps `v`'s memory for a later [`take`] (or frees it when it is small or the pool full).
pub fn give<T: Pooled>(v: Vec<T>) {
    if bytes_of(&v) >= MIN_POOLED_BYTES {
        pool().give(v);
    }
}

/// Frees every kept buffer.
pub fn release() {
    *pool() = Pool::new();
}

/// Bytes currently kept.
pub fn kept_bytes() -> usize {
    pool().bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reuses_the_smallest_fitting_buffer_and_respects_the_limits() {
        let mut pool = Pool::new();
        let big = MIN_POOLED_BYTES / 8 * 4;
        let (a, b) = (vec![1.5f64; big], vec![2.5f64; big * 2]);
        let (a_ptr, b_ptr) = (a.as_ptr(), b.as_ptr());
        pool.give(b);
        pool.give(a);
        assert_eq!(pool.bytes, big * 3 * 8);
        // The smaller of the two fits and is taken first, empty.
        let again: Vec<f64> = pool.take(big).unwrap();
        assert_eq!(again.as_ptr(), a_ptr);
        let larger: Vec<f64> = pool.take(big * 2 - 10).unwrap();
        assert_eq!(larger.as_ptr(), b_ptr);
        assert_eq!(pool.bytes, 0);
        assert!(pool.take::<f64>(big).is_none());
        // Small buffers are not kept; element types do not mix.
        pool.give(vec![1.0f64; 16]);
        pool.give(again);
        assert_eq!(pool.bytes, big * 8);
        assert!(pool.take::<i64>(big).is_none());
        assert!(pool.take::<f64>(big * 2).is_none());
        // Nor is a buffer handed out for much less than it holds.
        assert!(pool.take::<f64>(big / 2).is_none());
        // Nothing beyond the limit is kept.
        pool.bytes = MAX_KEPT_BYTES;
        pool.give(larger);
        assert_eq!(pool.f64s.len(), 1);
    }

    #[test]
    fn handed_out_buffers_have_the_asked_length_and_contents() {
        // The global pool: other tests may take these buffers first; the checks hold either way.
        let n = MIN_POOLED_BYTES;
        give(vec![7.0f64; n]);
        let empty: Vec<f64> = take(n);
        assert!(empty.is_empty() && empty.capacity() >= n);
        give(vec![7.0f64; n]);
        let scratch: Vec<f64> = overwritable(n - 2, 0.0);
        assert_eq!(scratch.len(), n - 2);
        assert!(scratch.iter().all(|&x| x == 7.0 || x == 0.0));
    }
}
