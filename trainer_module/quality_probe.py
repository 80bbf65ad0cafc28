"""How good G is right now, measured with the evaluator's own metric code on a small fixed sample.

The Trainer calls it every `eval_every_steps` (TensorBoard scalars `quality/...`) and
bench/quality_curve.py calls it with larger samples. It scores what an export at that moment
would draw (a copy of G with re-estimated BatchNorm statistics, `batchnorm.ExportView`) on fixed
latent points, against the real training images' features on the same extractor, so values from
different steps and runs compare.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import tensorflow as tf

from common import graph_function
from metrics import extractors, fid, kid, prdc
from metrics.sample_sets import summarize
from trainer_module import conditions, pixels
from trainer_module.batchnorm import ExportView

PROBE_LATENT_SEED = 4321
KID_SUBSETS = 20


class QualityProbe:
    """Fréchet distance, KID, precision/recall and density/coverage of G against real images.

    `real_batches` yields uint8 image batches; the first `num_samples` real images form the
    reference (features summarised once, here). Generated sets have the same size, so precision
    and recall compare with real-vs-real at this size.
    """

    def __init__(
        self,
        real_batches: Iterable[np.ndarray],
        num_samples: int,
        z_dim: int,
        extractor: str = "random_embedding",
        embedding_seed: int = 0,
        batch_size: int = 250,
        attribute_table: np.ndarray | None = None,
    ):
        self.num_samples = num_samples
        self.batch_size = batch_size
        self.extractor = extractors.build_extractor(extractor, seed=embedding_seed)
        self.real = summarize(_take(real_batches, num_samples), [self.extractor], num_samples)
        self.real_count = self.real.features[self.extractor.name].statistics.count
        if self.real_count < num_samples:
            raise ValueError(
                f"the quality probe needs {num_samples} real images, "
                f"the source holds {self.real_count}"
            )
        # A conditional G is asked for real attribute rows (trainer_module/conditions.py).
        self.z = conditions.generator_inputs(num_samples, z_dim, PROBE_LATENT_SEED, attribute_table)
        self._draw_functions = {}  # one traced function per generator: no retracing per call

    def generate(self, generator) -> np.ndarray:
        """uint8 images of `generator` (already in inference form) on the probe's fixed z."""
        draw = self._draw_functions.get(id(generator))
        if draw is None:
            draw = graph_function(lambda z: pixels.to_uint8(generator(z, training=False)))
            self._draw_functions[id(generator)] = draw
        return np.concatenate(
            [
                draw(tf.constant(self.z[i : i + self.batch_size])).numpy()
                for i in range(0, self.num_samples, self.batch_size)
            ]
        )

    def score_images(self, images: np.ndarray) -> dict:
        name = self.extractor.name
        fake = summarize([images], [self.extractor], self.num_samples).features[name]
        real = self.real.features[name]
        values = {"fid": fid.fid_from_statistics(real.statistics, fake.statistics)}
        subset = min(len(real.subset), len(fake.subset)) // 2
        values["kid"], _ = kid.kernel_inception_distance(
            real.subset, fake.subset, KID_SUBSETS, subset
        )
        values.update(prdc.manifold_metrics(real.subset, fake.subset))
        return {f"{metric}/{name}": value for metric, value in values.items()}

    def score(self, view: ExportView) -> dict:
        """Metrics of what an export of `view`'s generator would draw now."""
        return self.score_images(self.generate(view.refresh()))


def _take(batches: Iterable[np.ndarray], count: int):
    taken = 0
    for batch in batches:
        if taken >= count:
            return
        batch = batch[: count - taken]
        taken += len(batch)
        yield batch
