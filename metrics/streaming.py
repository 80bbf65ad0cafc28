"""Statistics of a stream of feature batches in bounded memory.

`FeatureStatistics` keeps the mean and covariance (FID needs nothing else) in float64 whatever
the sample count. `Reservoir` keeps a uniform random subset of the rows for the metrics that
need the samples themselves (KID, precision/recall, density/coverage, SWD, MS-SSIM).
"""

from __future__ import annotations

import numpy as np


class FeatureStatistics:
    """Streaming mean and covariance of feature vectors, in float64.

    Batches are merged with Chan et al.'s parallel update (count, mean and the sum of centred
    outer products), which stays accurate when features have a large mean, unlike raw sums of
    x and x x^T. Memory is O(dim^2) however many samples are seen.
    """

    def __init__(self):
        self.count = 0
        self.dim = None

    def _allocate(self, dim: int) -> None:
        self.dim = dim
        self._mean = np.zeros(dim, dtype=np.float64)
        self._m2 = np.zeros((dim, dim), dtype=np.float64)

    def update(self, features) -> FeatureStatistics:
        """Adds a batch of features [n, dim]."""
        features = np.asarray(features, dtype=np.float64)
        if features.ndim != 2:
            raise ValueError(f"expected features [n, dim], got shape {features.shape}")
        if self.dim is None:
            self._allocate(features.shape[1])
        if features.shape[1] != self.dim:
            raise ValueError(f"expected {self.dim} features, got {features.shape[1]}")
        n = features.shape[0]
        if n == 0:
            return self
        batch_mean = features.mean(axis=0)
        centred = features - batch_mean
        total = self.count + n
        delta = batch_mean - self._mean
        self._mean += delta * (n / total)
        self._m2 += centred.T @ centred + np.outer(delta, delta) * (self.count * n / total)
        self.count = total
        return self

    @property
    def mean(self) -> np.ndarray:
        if self.count == 0:
            raise ValueError("no features have been added")
        return self._mean.copy()

    @property
    def covariance(self) -> np.ndarray:
        """Unbiased (ddof=1) covariance, as np.cov gives."""
        if self.count < 2:
            raise ValueError("the covariance needs at least two samples")
        return self._m2 / (self.count - 1)

    def to_arrays(self) -> dict[str, np.ndarray]:
        if self.dim is None:
            raise ValueError("no features have been added")
        return {"count": np.int64(self.count), "mean": self._mean, "m2": self._m2}

    @classmethod
    def from_arrays(cls, arrays) -> FeatureStatistics:
        """The inverse of `to_arrays`: the result keeps accumulating as if never saved."""
        stats = cls()
        stats._allocate(arrays["mean"].shape[0])
        stats.count = int(arrays["count"])
        stats._mean[:] = arrays["mean"]
        stats._m2[:] = arrays["m2"]
        return stats


class Reservoir:
    """A uniform random subset of at most `capacity` rows of a stream (Vitter's algorithm R).

    Seeded, so the same stream gives the same subset; two reservoirs with the same seed fed
    batches of the same sizes keep the same row positions (features and images stay paired).
    """

    def __init__(self, capacity: int, seed: int):
        if capacity < 1:
            raise ValueError(f"capacity must be positive, got {capacity}")
        self.capacity = capacity
        self.seen = 0
        self._rng = np.random.default_rng(seed)
        self._rows = None

    def update(self, rows) -> Reservoir:
        rows = np.asarray(rows)
        if self._rows is None:
            self._rows = np.empty((self.capacity,) + rows.shape[1:], dtype=rows.dtype)
        filled = min(self.seen, self.capacity)
        direct = min(len(rows), self.capacity - filled)
        self._rows[filled : filled + direct] = rows[:direct]
        # Row i of the stream (0-based) replaces a random slot with probability capacity / (i + 1).
        positions = np.arange(self.seen + direct, self.seen + len(rows))
        slots = self._rng.integers(0, positions + 1) if len(positions) else positions
        for row, slot in zip(rows[direct:], slots):
            if slot < self.capacity:
                self._rows[slot] = row
        self.seen += len(rows)
        return self

    @property
    def rows(self) -> np.ndarray:
        if self._rows is None:
            raise ValueError("no rows have been added")
        return self._rows[: min(self.seen, self.capacity)]
