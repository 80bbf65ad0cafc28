"""GanEvaluator executor: Fréchet distances on a random embedding, sample grid, blessing.

Every image is scored as uint8, the way the exported generator delivers it: real images from
Transform are rounded with the same rule. Three generators are compared with the same real
statistics: the trained one, an untrained one of the same architecture (the floor a trained
model must clearly beat), and, when given, the last blessed baseline.
"""
from __future__ import annotations

import json
import os
from typing import Any, Dict, List

import numpy as np
import tensorflow as tf
import tensorflow_transform as tft
from tfx import types
from tfx.dsl.components.base import base_executor
from tfx.dsl.io import fileio
from tfx.types import artifact_utils
from tfx.utils import io_utils, path_utils

from components.gan_evaluator import metrics
from trainer_module import export, networks
from trainer_module.preprocessing import IMAGE_KEY

METRICS_FILE = "metrics.json"
SUMMARY_FILE = "summary.txt"
SAMPLE_GRID_FILE = "samples.png"
UNTRAINED_SEED = 0
SAMPLE_SEED = 1234


def real_image_batches(examples: types.Artifact, split: str, transform_graph_uri: str,
                       batch_size: int, max_images: int):
    """Transformed images of one split as uint8 batches (the same rounding as the export)."""
    feature_spec = tft.TFTransformOutput(transform_graph_uri).transformed_feature_spec()
    files = fileio.glob(os.path.join(artifact_utils.get_split_uri([examples], split), "*"))
    if not files:
        raise ValueError(f"no transformed examples in split '{split}' of {examples.uri}")
    dataset = (tf.data.TFRecordDataset(files, compression_type="GZIP")
               .take(max_images)
               .batch(batch_size)
               .map(lambda records: tf.io.parse_example(records, feature_spec)[IMAGE_KEY]))
    for images in dataset:
        yield export.to_uint8_pixels(images).numpy()


def latent_batches(num_samples: int, z_dim: int, batch_size: int, seed: int):
    """Fixed z ~ N(0, 1) in batches, so every model is scored on the same latent points."""
    z = np.random.default_rng(seed).standard_normal((num_samples, z_dim)).astype(np.float32)
    return [z[start:start + batch_size] for start in range(0, num_samples, batch_size)]


def exported_generator(model: types.Artifact):
    serve = export.load_serving_fn(path_utils.serving_model_path(model.uri))
    return lambda z: serve(z=tf.constant(z))["images"].numpy()


def untrained_generator(z_dim: int):
    tf.random.set_seed(UNTRAINED_SEED)
    generator = networks.build_generator(z_dim)
    return lambda z: export.to_uint8_pixels(generator(z, training=False)).numpy()


def blessing_decision(fd: float, fd_untrained: float, fd_baseline, max_ratio: float,
                      tolerance: float) -> tuple[bool, List[str]]:
    """Blessed when finite, clearly better than untrained, and not worse than the baseline."""
    reasons = []
    if not np.isfinite(fd):
        reasons.append(f"FD is not finite ({fd})")
    elif fd > max_ratio * fd_untrained:
        reasons.append(f"FD {fd:.4g} > {max_ratio} x untrained FD {fd_untrained:.4g}")
    if fd_baseline is not None and np.isfinite(fd) and fd > (1 + tolerance) * fd_baseline:
        reasons.append(f"FD {fd:.4g} > (1 + {tolerance}) x baseline FD {fd_baseline:.4g}")
    return not reasons, reasons


class Executor(base_executor.BaseExecutor):

    def Do(self, input_dict: Dict[str, List[types.Artifact]],
           output_dict: Dict[str, List[types.Artifact]], exec_properties: Dict[str, Any]) -> None:
        props = exec_properties
        model = artifact_utils.get_single_instance(input_dict["model"])
        examples = artifact_utils.get_single_instance(input_dict["transformed_examples"])
        transform_graph = artifact_utils.get_single_instance(input_dict["transform_graph"])
        baseline = (artifact_utils.get_single_instance(input_dict["baseline_model"])
                    if input_dict.get("baseline_model") else None)
        evaluation = artifact_utils.get_single_instance(output_dict["evaluation"])
        blessing = artifact_utils.get_single_instance(output_dict["blessing"])

        embedding = metrics.RandomEmbedding(seed=props["embedding_seed"])
        key = f"fd/{embedding.name}"
        real = metrics.compute_statistics(embedding, real_image_batches(
            examples, props["eval_split"], transform_graph.uri, props["batch_size"],
            props["max_real_images"]))
        z_batches = latent_batches(props["num_samples"], props["z_dim"], props["batch_size"],
                                   SAMPLE_SEED)

        def fd_of(generate) -> float:
            fake = metrics.compute_statistics(embedding, (generate(z) for z in z_batches))
            return metrics.frechet_distance(real.mean, real.covariance, fake.mean, fake.covariance)

        generate = exported_generator(model)
        results = {
            key: fd_of(generate),
            f"{key}_untrained": fd_of(untrained_generator(props["z_dim"])),
            "num_real_images": real.count,
            "num_generated_images": props["num_samples"],
            "eval_split": props["eval_split"],
        }
        results[f"{key}_ratio_to_untrained"] = results[key] / results[f"{key}_untrained"]
        fd_baseline = fd_of(exported_generator(baseline)) if baseline else None
        if baseline:
            results[f"{key}_baseline"] = fd_baseline

        blessed, reasons = blessing_decision(
            results[key], results[f"{key}_untrained"], fd_baseline,
            props["max_fd_ratio_to_untrained"], props["baseline_fd_tolerance"])
        results["blessed"] = blessed
        results["not_blessed_reasons"] = reasons

        grid_z = np.concatenate(z_batches)[:props["grid_size"] ** 2]
        metrics.save_image_grid(generate(grid_z), os.path.join(evaluation.uri, SAMPLE_GRID_FILE),
                                columns=props["grid_size"])
        io_utils.write_string_file(os.path.join(evaluation.uri, METRICS_FILE),
                                   json.dumps(results, indent=2, sort_keys=True))
        io_utils.write_string_file(os.path.join(evaluation.uri, SUMMARY_FILE),
                                   summary_text(results, key))
        self._write_blessing(blessing, model, baseline, blessed)

    @staticmethod
    def _write_blessing(blessing, model, baseline, blessed: bool) -> None:
        """The same files and properties TFX's Evaluator writes, so Pusher can check them."""
        io_utils.write_string_file(
            os.path.join(blessing.uri, "BLESSED" if blessed else "NOT_BLESSED"), "")
        blessing.set_int_custom_property("blessed", int(blessed))
        blessing.set_string_custom_property("current_model", model.uri)
        blessing.set_int_custom_property("current_model_id", model.id)
        if baseline:
            blessing.set_string_custom_property("baseline_model", baseline.uri)
            blessing.set_int_custom_property("baseline_model_id", baseline.id)


def summary_text(results: dict, key: str) -> str:
    lines = [f"{key}: {results[key]:.4f} (untrained generator: {results[key + '_untrained']:.4f}, "
             f"ratio {results[key + '_ratio_to_untrained']:.3f})"]
    if key + "_baseline" in results:
        lines.append(f"{key} of the blessed baseline: {results[key + '_baseline']:.4f}")
    lines.append("BLESSED" if results["blessed"] else
                 "NOT BLESSED: " + "; ".join(results["not_blessed_reasons"]))
    return "\n".join(lines) + "\n"
