"""Latency statistics of timed samples, as every harness reports them (schema v1 ``latency_ms``).

One definition for every harness: percentiles interpolate linearly between the closest ranks
(NumPy's default), std is the population standard deviation, values are rounded to microseconds.
The iOS package (``Statistics.swift``) and the Android demo app compute the same, so a p90 means
the same thing in every column of ``python -m benchmarks.report``.
"""
from __future__ import annotations

import math
from typing import Sequence


def percentile(ordered: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ascending ``ordered``, interpolated between the closest ranks."""
    position = q * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def latency_stats(samples_ms: Sequence[float]) -> dict[str, float]:
    """``{min, p50, p90, mean, max, std}`` of ``samples_ms`` (at least one), in ms rounded to µs."""
    if not samples_ms:
        raise ValueError("no samples")
    ordered = sorted(samples_ms)
    mean = sum(ordered) / len(ordered)
    std = math.sqrt(sum((x - mean) ** 2 for x in ordered) / len(ordered))
    stats = {"min": ordered[0], "p50": percentile(ordered, 0.5), "p90": percentile(ordered, 0.9), "mean": mean,
             "max": ordered[-1], "std": std}
    return {key: rounded(value) for key, value in stats.items()}


def rounded(ms: float) -> float:
    """Milliseconds to 3 decimals (microseconds), halves away from zero like Swift's ``rounded()``
    (Python's ``round`` goes to even: 9.8125 would be 9.812 here and 9.813 on iOS)."""
    return math.floor(ms * 1000 + 0.5) / 1000
