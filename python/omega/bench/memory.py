"""Resident memory of this process (Linux /proc and getrusage)."""

from __future__ import annotations

import os
import resource


def rss_bytes() -> int:
    """Current resident set size."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE")


def peak_rss_bytes() -> int:
    """Peak resident set size of this process so far.

    VmHWM belongs to the address space exec created, whereas ru_maxrss survives fork and
    exec: a child started by a large parent would report the parent's peak as its own.
    """
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # no VmHWM: not Linux
