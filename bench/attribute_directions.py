"""Ways to find an attribute's direction in z, side by side on one pushed generator: how often
each flips its attribute, and how much it changes the others (the targets: >= 80 % and <= 10 %).

    .venv/bin/python bench/attribute_directions.py [--output-root outputs] [--samples 1000]

The ruler is the evaluator's (components/gan_evaluator/attribute_classifier.py), trained once on
the run's transformed train split. Every method sees the same labelled z and is scored on the
same fresh z, at the evaluator's edit strength:
- mean_difference: mean z with the attribute minus mean z without (the DCGAN paper, averaged);
- boundary: the normal of a logistic-regression boundary in z (InterFaceGAN, Shen et al. 2020,
  used a linear SVM);
- either, made `conditional`: with its components along the other attributes' directions
  removed (InterFaceGAN's conditional manipulation); `conditional_unbound`: along the others
  but those real faces tie to it (attributes.bound_attributes), which have to change.
Prints one line per method (means over attributes with a direction, and how many attributes
meet both targets: flips >= 80 % and every other attribute changed in <= 10 %, leaving out the
ones real faces tie to it), then one line per method and attribute.
"""

import argparse
import itertools
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import bootstrap  # noqa: E402

bootstrap.start()

import numpy as np  # noqa: E402
import tensorflow_transform as tft  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402  (TFX's own dependency)
from tfx.types import artifact_utils  # noqa: E402

import common as ids  # noqa: E402
from components.gan_evaluator import attributes, sources  # noqa: E402
from components.gan_evaluator.attribute_classifier import train_classifier  # noqa: E402
from components.gan_evaluator.settings import EvaluatorSettings  # noqa: E402
from pipeline_config import PipelineConfig  # noqa: E402
from reporting import run_outputs  # noqa: E402
from trainer_module import images  # noqa: E402

FLIP_TARGET, OTHERS_TARGET = 0.8, 0.1


def boundary_directions(z: np.ndarray, decisions: np.ndarray) -> np.ndarray:
    """[attributes, z_dim]: per attribute, the unit normal of a logistic-regression boundary in
    z between samples with and without it (InterFaceGAN, Shen et al. 2020, used a linear SVM),
    pointing to the side with it; NaN where either side has fewer than MIN_GROUP samples."""
    directions = np.full((decisions.shape[1], z.shape[1]), np.nan)
    for k in range(decisions.shape[1]):
        known = decisions[:, k] >= 0
        labels = decisions[known, k]
        if min((labels == 1).sum(), (labels == 0).sum()) >= attributes.MIN_GROUP:
            normal = LogisticRegression(max_iter=1000).fit(z[known], labels).coef_[0]
            directions[k] = normal / np.linalg.norm(normal)
    return directions


def latest_output(store, component: str, key: str):
    run = run_outputs.run_artifacts(store, run_outputs.find_run(store))
    artifact = run.output(component, key)
    if artifact is None:
        raise SystemExit(f"the latest run has no {component} {key}")
    return artifact


def as_tfx(artifact, artifact_type):
    """A TFX artifact over an MLMD one (for artifact_utils' split helpers)."""
    from tfx.types import standard_artifacts

    result = getattr(standard_artifacts, artifact_type)()
    result.set_mlmd_artifact(artifact)
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--output-root", default="outputs")
    parser.add_argument(
        "--samples",
        type=int,
        default=None,
        help="z per labelling and per edit (default: the config's)",
    )
    parser.add_argument(
        "--strengths",
        type=float,
        nargs="+",
        default=None,
        help="edit strengths (default: the config's)",
    )
    args = parser.parse_args()
    config = PipelineConfig(output_root=args.output_root)
    settings = EvaluatorSettings.of(config)
    samples = args.samples or settings.attribute_samples
    store = run_outputs.open_store(config.metadata_path)
    model = latest_output(store, ids.TRAINER, "model")
    examples = as_tfx(latest_output(store, ids.TRANSFORM, "transformed_examples"), "Examples")
    graph = latest_output(store, ids.TRANSFORM, "transform_graph")
    feature_spec = tft.TFTransformOutput(graph.uri).transformed_feature_spec()

    def read(split):
        return attributes.real_images_and_attributes(
            artifact_utils.get_split_uri([examples], split),
            feature_spec,
            settings.attributes,
            settings.attribute_max_real_images,
        )

    names = settings.attributes
    train = read("train")
    classifier = train_classifier(*train, names)
    bound = attributes.bound_attributes(train[1])  # ties real faces have: not side effects
    generate, _ = sources.exported_generator(model.uri)

    def decide(z):
        return np.concatenate(
            [classifier.predict(generate(z[i : i + 250])) for i in range(0, len(z), 250)]
        )

    z = images.latent_points(samples, settings.z_dim, attributes.DIRECTION_SEED)
    decisions = decide(z)
    fresh = images.latent_points(samples, settings.z_dim, attributes.EDIT_SEED)
    before = decide(fresh)
    found = {
        "mean_difference": attributes.mean_difference_directions(z, decisions),
        "boundary": boundary_directions(z, decisions),
    }
    for name in list(found):
        found[name + "+conditional"] = attributes.conditional_directions(found[name])
        found[name + "+conditional_unbound"] = attributes.conditional_directions(found[name], bound)
    rows = []
    for strength, (method, directions) in itertools.product(
        args.strengths or [settings.attribute_edit_strength], found.items()
    ):
        scores = [
            attributes.edit_scores(
                before, decide((fresh + strength * d).astype(np.float32)), k, bound[k]
            )
            if np.isfinite(d).all()
            else (np.nan,) * 3
            for k, d in enumerate(directions)
        ]
        flips, others, worst = np.array(scores).T
        has = np.isfinite(flips)
        meets = int(((flips >= FLIP_TARGET) & (worst <= OTHERS_TARGET))[has].sum())
        print(
            f"directions strength={strength:g} method={method} attributes={int(has.sum())} "
            f"flip_mean={np.nanmean(flips):.3f} others_changed_mean={np.nanmean(others):.3f} "
            f"flip_at_least_0.8={int((flips[has] >= FLIP_TARGET).sum())} "
            f"every_other_at_most_0.1={int((worst[has] <= OTHERS_TARGET).sum())} "
            f"both={meets}",
            flush=True,
        )
        rows += [
            (strength, method, n, f, o, w)
            for n, f, o, w in zip(names, flips, others, worst)
            if np.isfinite(f)
        ]
    for strength, method, name, flip, other, worst_other in rows:
        print(
            f"direction strength={strength:g} method={method} attribute={name} "
            f"flip={flip:.3f} others={other:.3f} worst_other={worst_other:.3f}"
        )


if __name__ == "__main__":
    main()
