"""Trade lists compared on what every engine can report: entry time, exit time, side."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NS_PER_MINUTE = 60_000_000_000


@dataclass(frozen=True)
class TradeComparison:
    omega_trades: int
    peer_trades: int
    matching: int  # trades equal in all three fields, in order, before the first difference
    first_difference: str  # "" when the lists are equal

    @property
    def identical(self) -> bool:
        return not self.first_difference

    def summary(self) -> str:
        if self.identical:
            return f"identical ({self.omega_trades} trades)"
        return (
            f"{self.matching} of {self.omega_trades} equal before the first difference "
            f"({self.peer_trades} peer trades); first: {self.first_difference}"
        )


def _describe(row: np.ndarray | None) -> str:
    if row is None:
        return "none"
    entry = np.datetime64(int(row[0]), "ns").astype("datetime64[m]")
    exit_ = np.datetime64(int(row[1]), "ns").astype("datetime64[m]")
    return f"{'long' if row[2] > 0 else 'short'} {entry} -> {exit_}"


def compare_trades(
    omega: np.ndarray, peer: np.ndarray, last_bar_open_ns: int, bar_ns: int = NS_PER_MINUTE
) -> TradeComparison:
    """Rows (entry_time ns, exit_time ns, side) of Omega and of a peer, in entry order.

    A position open after the last bar is closed at that bar's close in both; Omega stamps
    that exit with the bar's close time, peers with its open time, so a peer exit at the last
    bar's open is read as the close time before comparing (a labelling convention only).
    """
    peer = peer.copy()
    peer[peer[:, 1] == last_bar_open_ns, 1] = last_bar_open_ns + bar_ns
    n = min(len(omega), len(peer))
    equal = np.all(omega[:n] == peer[:n], axis=1)
    mismatch = np.flatnonzero(~equal)
    first = int(mismatch[0]) if len(mismatch) else n
    if first == n and len(omega) == len(peer):
        return TradeComparison(len(omega), len(peer), n, "")
    ours = omega[first] if first < len(omega) else None
    theirs = peer[first] if first < len(peer) else None
    detail = f"trade {first}: omega {_describe(ours)}, peer {_describe(theirs)}"
    return TradeComparison(len(omega), len(peer), first, detail)
