"""Does a trained conditional discriminator check the attributes? Real faces scored with their
own attribute codes, with another face's codes, and with one attribute's code flipped.

    .venv/bin/python bench/discriminator_attributes.py [--output-root outputs/conditional]
        [--images 1024] [--discriminator PATH]

G learns to follow a request only through D: if D scores a real face as highly with the wrong
attributes as with its own, nothing pushes G to draw what was asked. Takes the discriminator
the newest Trainer of the pipeline root saved (model_run/<id>/discriminator) and the newest
Transform's splits. For a D with the attribute head, it first prints the head's accuracy per
attribute on the test split's real faces (never trained on) next to the majority rate (what
always answering the commoner value scores). Prints D's mean score with the faces'
own codes and with codes shuffled between faces, and per attribute the share of faces that D
scores higher with their own codes than with that one attribute flipped (0.5: D ignores it;
below 0.5: D prefers the wrong answer). D runs in inference mode (BatchNorm's moving
statistics), as the evaluator's models do; a few minutes on 2 cores.
"""

import argparse
import glob
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent)]
import bootstrap  # noqa: E402

bootstrap.start()


def newest(directory: str, inside: str = "") -> str:
    """directory/<id>/inside for the largest TFX execution id that has it (a stopped run's
    directory may lack it)."""
    pattern = os.path.join(directory, "*", inside) if inside else os.path.join(directory, "*")
    paths = [path.rstrip("/") for path in glob.glob(pattern)]
    if not paths:
        raise SystemExit(f"nothing matches {pattern}: run bench/conditional.py first")
    return max(paths, key=lambda path: int(Path(path[: len(path) - len(inside)]).name))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output-root", default=str(HERE.parent / "outputs" / "conditional"))
    parser.add_argument("--images", type=int, default=1024)
    parser.add_argument(
        "--discriminator",
        help="a saved discriminator (default: the newest Trainer's model_run/<id>/discriminator)",
    )
    args = parser.parse_args()

    import numpy as np
    import tensorflow as tf
    import tensorflow_transform as tft
    import tf_keras as keras

    import common as ids
    from components.gan_evaluator.attribute_classifier import agreement, majority_rate
    from components.gan_evaluator.attributes import real_images_and_attributes
    from pipeline_config import PipelineConfig
    from trainer_module import conditions, networks, pixels

    config = PipelineConfig().with_overrides(output_root=args.output_root)
    root = config.pipeline_root
    saved = args.discriminator or newest(
        os.path.join(root, ids.TRAINER, "model_run"), "discriminator"
    )
    discriminator = keras.models.load_model(
        saved, compile=False, custom_objects={"MinibatchStddev": networks.MinibatchStddev}
    )
    reads_codes = len(discriminator.inputs) == 2
    has_head = len(discriminator.outputs) == 2
    if not (reads_codes or has_head):
        raise SystemExit(f"{saved}: this discriminator neither reads nor tells attributes")
    transformed = newest(os.path.join(root, ids.TRANSFORM, "transformed_examples"))
    spec = tft.TFTransformOutput(
        newest(os.path.join(root, ids.TRANSFORM, "transform_graph"))
    ).transformed_feature_spec()

    def split(name: str):
        images, labels = real_images_and_attributes(
            os.path.join(transformed, f"Split-{name}"), spec, config.attributes, args.images
        )
        return pixels.to_model_range(images), labels

    def outputs(faces, asked=None) -> list:
        """D's outputs (each a list over batches of 128) in inference mode."""
        batches = []
        for i in range(0, len(faces), 128):
            inputs = (
                [faces[i : i + 128], tf.constant(asked[i : i + 128])]
                if reads_codes
                else faces[i : i + 128]
            )
            result = discriminator(inputs, training=False)
            batches.append([np.asarray(part) for part in (result if has_head else [result])])
        return [np.concatenate(parts) for parts in zip(*batches)]

    print(
        f"discriminator model={saved} reads_codes={reads_codes} attribute_head={has_head}",
        flush=True,
    )
    if has_head:  # the head's accuracy on real faces it never trained on
        faces, labels = split("test")
        logits = outputs(faces, conditions.attribute_codes(labels).numpy())[1]
        accuracy = agreement((logits > 0).astype(int), labels)
        majority = majority_rate(labels)
        print(
            f"discriminator head faces={len(labels)} split=test accuracy_mean="
            f"{accuracy.mean():.3f} majority_mean={majority.mean():.3f}",
            flush=True,
        )
        for k, name in enumerate(config.attributes):
            print(
                f"discriminator head attribute={name} accuracy={accuracy[k]:.3f} "
                f"majority={majority[k]:.3f}",
                flush=True,
            )
    if not reads_codes:
        return
    faces, labels = split("train")
    codes = conditions.attribute_codes(labels).numpy()

    def score(asked: np.ndarray) -> np.ndarray:
        return outputs(faces, asked)[0].reshape(-1)

    own = score(codes)
    shuffled = score(codes[np.random.default_rng(0).permutation(len(codes))])
    print(
        f"discriminator faces={len(codes)} own_mean={own.mean():.3f} "
        f"shuffled_mean={shuffled.mean():.3f} own_higher_than_shuffled="
        f"{(own > shuffled).mean():.3f}",
        flush=True,
    )
    higher = []
    for k, name in enumerate(config.attributes):
        flipped = codes.copy()
        flipped[:, k] = -flipped[:, k]
        higher.append((own > score(flipped)).mean())
        print(
            f"discriminator attribute={name} own_higher_than_flipped={higher[-1]:.3f}", flush=True
        )
    print(f"discriminator own_higher_than_flipped_mean={np.mean(higher):.3f}", flush=True)


if __name__ == "__main__":
    main()
