"""The host latency harness (``python -m benchmarks.latency``): what its figures mean."""
from __future__ import annotations

import numpy as np
import pytest

from benchmarks.stats import latency_stats


def test_statistics_on_known_samples() -> None:
    """The definitions every harness shares: the iOS package's StatisticsTests and the Kotlin app's samples."""
    assert latency_stats([4.0, 1.0, 3.0, 2.0]) == {"min": 1.0, "p50": 2.5, "p90": 3.7, "mean": 2.5, "max": 4.0,
                                                   "std": 1.118}
    assert latency_stats([9.8125]) == dict.fromkeys(("min", "p50", "p90", "mean", "max"), 9.813) | {"std": 0.0}
    samples = [41.5, 40.25, 44.0, 39.75, 52.5, 40.0]
    stats = latency_stats(samples)
    for key, expected in (("p50", np.percentile(samples, 50)), ("p90", np.percentile(samples, 90)),
                          ("mean", np.mean(samples)), ("std", np.std(samples))):
        assert stats[key] == pytest.approx(expected, abs=1e-3)
    assert (stats["min"], stats["max"]) == (39.75, 52.5)
    with pytest.raises(ValueError):
        latency_stats([])
