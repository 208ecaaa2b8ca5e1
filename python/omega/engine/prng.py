"""SplitMix64, exactly as docs/engine/execution.md specifies (shared with the Rust engine).

Python ints are unbounded, so every step is masked to 64 bits to get the wrapping arithmetic
of Rust's ``u64::wrapping_add`` / ``wrapping_mul``.
"""

from __future__ import annotations

MASK64 = (1 << 64) - 1
GAMMA = 0x9E3779B97F4A7C15
MUL1 = 0xBF58476D1CE4E5B9
MUL2 = 0x94D049BB133111EB
TWO_POW_MINUS_53 = 2.0**-53


def mix(state: int) -> int:
    """The output function applied to an (already advanced) state."""
    z = state
    z = ((z ^ (z >> 30)) * MUL1) & MASK64
    z = ((z ^ (z >> 27)) * MUL2) & MASK64
    return z ^ (z >> 31)


class SplitMix64:
    """``next_u64`` / ``next_f64`` (uniform in [0, 1) with 53 random bits)."""

    __slots__ = ("state",)

    def __init__(self, seed: int) -> None:
        self.state = seed & MASK64  # a negative seed wraps like a cast to u64

    def next_u64(self) -> int:
        self.state = (self.state + GAMMA) & MASK64
        return mix(self.state)

    def next_f64(self) -> float:
        # (u >> 11) < 2**53 converts to a double exactly; the product is exact too.
        return (self.next_u64() >> 11) * TWO_POW_MINUS_53

    def peek_f64(self) -> float:
        """The value ``next_f64`` would return, without advancing the state."""
        return (mix((self.state + GAMMA) & MASK64) >> 11) * TWO_POW_MINUS_53
