"""SplitMix64 against published reference outputs (not against our own arithmetic)."""

from __future__ import annotations

from omega.engine.prng import SplitMix64

# splitmix64.c (Vigna) seeded with 0: the first outputs, as quoted by several independent ports.
SEED_0 = [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F, 0xF88BB8A8724C81EC]
# Rosetta Code, "Pseudo-random numbers/Splitmix64": the first five for seed 1234567.
SEED_1234567 = [
    6457827717110365317,
    3203168211198807973,
    9817491932198370423,
    4593380528125082431,
    16408922859458223821,
]


def test_seed_0_reference_outputs() -> None:
    rng = SplitMix64(0)
    assert [rng.next_u64() for _ in SEED_0] == SEED_0


def test_seed_1234567_reference_outputs() -> None:
    rng = SplitMix64(1234567)
    assert [rng.next_u64() for _ in SEED_1234567] == SEED_1234567


def test_next_f64_takes_the_top_53_bits() -> None:
    rng = SplitMix64(1234567)
    # 6457827717110365317 >> 11 = 3153236189995295 (integer division by 2048), over 2**53
    assert 6457827717110365317 // 2048 == 3153236189995295
    assert rng.next_f64() == 3153236189995295 / 9007199254740992
    assert 0.0 <= rng.next_f64() < 1.0


def test_peek_does_not_advance() -> None:
    rng = SplitMix64(0)
    peeked = rng.peek_f64()
    assert rng.peek_f64() == peeked
    assert rng.next_f64() == peeked == (0xE220A8397B1DCDAF >> 11) * 2.0**-53
    assert rng.next_u64() == SEED_0[1]


def test_negative_seed_wraps_like_a_u64_cast() -> None:
    # -1 as u64 is 2**64 - 1; both must give the same stream
    a, b = SplitMix64(-1), SplitMix64(2**64 - 1)
    assert [a.next_u64() for _ in range(3)] == [b.next_u64() for _ in range(3)]
