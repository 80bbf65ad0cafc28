"""Sample-set summaries on disk, reused across runs.

The real images' statistics (and the untrained generator's, and a model's once it was scored)
cost a full pass over thousands of images and do not change while their inputs do not. Each
entry is keyed by what determines it: a content fingerprint of the source (Transform's output
files, or the generator's weights and latent points), the extractor's fingerprint, and the
subset settings. Entries are .npz files named by the key's hash; deleting the folder is always
safe. The pipeline keeps it under its root (`<pipeline_root>/gan_evaluator_cache`).
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
from collections.abc import Callable, Iterable, Sequence

import numpy as np
import tensorflow as tf

from metrics import storage
from metrics.extractors import FeatureExtractor
from metrics.sample_sets import RESERVOIR_SEED, FeatureSummary, SampleSet, summarize
from metrics.timing import PhaseTimer

FORMAT_VERSION = 1
_KEY = "_key"


class StatisticsCache:
    """An .npz file per key under `directory`; an empty directory name disables the cache."""

    def __init__(self, directory: str):
        self.directory = directory

    def _path_and_text(self, key: dict) -> tuple[str, str]:
        text = json.dumps({"version": FORMAT_VERSION, **key}, sort_keys=True)
        name = hashlib.sha256(text.encode()).hexdigest()[:40] + ".npz"
        return os.path.join(self.directory, name), text

    def load(self, key: dict) -> dict[str, np.ndarray] | None:
        if not self.directory:
            return None
        path, text = self._path_and_text(key)
        if not tf.io.gfile.exists(path):
            return None
        with np.load(io.BytesIO(storage.read_bytes(path))) as stored:
            if str(stored[_KEY]) != text:
                return None
            return {name: stored[name] for name in stored.files if name != _KEY}

    def save(self, key: dict, arrays: dict[str, np.ndarray]) -> None:
        if not self.directory:
            return
        path, text = self._path_and_text(key)
        buffer = io.BytesIO()
        np.savez(buffer, **arrays, **{_KEY: np.asarray(text)})
        storage.write_bytes(path, buffer.getvalue())


def cached_sample_set(
    cache: StatisticsCache,
    source_key: dict,
    batches: Callable[[], Iterable[np.ndarray]],
    extractors: Sequence[FeatureExtractor],
    feature_subset_size: int,
    image_subset_size: int = 0,
    cache_images: bool = True,
    timer: PhaseTimer | None = None,
    source: str = "generation",
) -> tuple[SampleSet, bool]:
    """The source's SampleSet, from the cache where possible; True when nothing was computed.

    Only what is missing is computed, in one pass over `batches()`, and then stored.
    """

    def feature_key(extractor):
        return {
            "source": source_key,
            "extractor": extractor.fingerprint(),
            "feature_subset_size": feature_subset_size,
            "seed": RESERVOIR_SEED,
        }

    image_key = {
        "source": source_key,
        "image_subset_size": image_subset_size,
        "seed": RESERVOIR_SEED,
    }
    features = {}
    for extractor in extractors:
        arrays = cache.load(feature_key(extractor))
        if arrays is not None:
            features[extractor.name] = FeatureSummary.from_arrays(arrays)
    images = None
    if image_subset_size and cache_images:
        stored = cache.load(image_key)
        images = stored["images"] if stored is not None else None

    missing = [e for e in extractors if e.name not in features]
    need_images = bool(image_subset_size) and images is None
    if not missing and not need_images:
        return SampleSet(features, images), True
    logging.info(
        "GanEvaluator: computing %s of %s",
        [e.name for e in missing] + (["images"] if need_images else []),
        source_key,
    )
    fresh = summarize(
        batches(),
        missing,
        feature_subset_size,
        image_subset_size if need_images else 0,
        timer,
        source,
    )
    for extractor in missing:
        features[extractor.name] = fresh.features[extractor.name]
        cache.save(feature_key(extractor), fresh.features[extractor.name].to_arrays())
    if need_images:
        images = fresh.images
        if cache_images:
            cache.save(image_key, {"images": images})
    return SampleSet(features, images), False
