"""dcgan-faces: faces from a trained generator, and a pipeline run's report page.

    dcgan-faces sample MODEL --grid faces.png [-n 64] [--seed 0]     one grid PNG
    dcgan-faces sample MODEL --grid f.png --attributes Eyeglasses=1,Smiling=1
                                                                     faces on request (a
                                                                     conditional generator)
    dcgan-faces sample MODEL --out-dir faces/ [-n 16] [--seed 0]     one PNG per face
    dcgan-faces sample MODEL --z face.json --grid face.png           the face a studio download
                                                                     holds, exactly
    dcgan-faces interpolate MODEL --out walk.gif [--points 4] [--steps 16] [--method linear]
    dcgan-faces edit MODEL --add Smiling --grid edit.png [--strength 3] [--keep Male,...]
                                                                     rows: faces, columns: more
                                                                     of the attribute
    dcgan-faces arithmetic MODEL "Smiling,Male=0 - Male=0 + Male" --grid out.png
                                                                     the DCGAN paper's vector
                                                                     arithmetic on faces
    dcgan-faces serve [MODEL] [--port 8000]                          the face studio, a local
                                                                     web page (docs/studio.md)
    dcgan-faces info MODEL [--metadata FILE]                         signatures, config, metrics
    dcgan-faces report [--output-root DIR] [--run RUN_ID] [--out FILE]

MODEL is an exported generator, a Trainer model folder or a Pusher destination such as
outputs/serving_model/celeba-dcgan (its newest version). Bad input exits with status 2 and one
line, `error: ...`.
"""

from __future__ import annotations

import argparse
import math
import os
import sys

import bootstrap
from dcgan_faces.defaults import MAX_SEED, PROG, STUDIO_HOST, STUDIO_PORT
from dcgan_faces.errors import BadInput

DEFAULT_COUNT = 64  # faces of `sample` without -n
MAX_IMAGES = 1024  # faces per `sample` call; a walk has at most MAX_POINTS * MAX_STEPS frames
MAX_POINTS = 64
MAX_STEPS = 240
MAX_SCALE = 8


class UsageError(BadInput):
    """Bad arguments."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse would print the usage block and its own prefix
        raise UsageError(f"{message} (see {self.prog} --help)")


def _whole(low: int, high: int | None = None):
    """An argparse type: a whole number in [low, high]."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(
                f"{value} is out of range, {low} to {high if high is not None else 'any'}"
            )
        return value

    return parse


def _needs_suffix(path: str, suffix: str, option: str) -> None:
    if not path.lower().endswith(suffix):
        raise UsageError(f"{option} must name a {suffix} file, not {path!r}")


def cmd_sample(args) -> None:
    from PIL import Image

    from dcgan_faces import face_file, generator
    from trainer_module import images

    if args.grid:
        _needs_suffix(args.grid, ".png", "--grid")
    elif os.path.isfile(args.out_dir):
        raise UsageError(f"--out-dir {args.out_dir} is a file, not a directory")
    if args.z and (args.count or args.seed is not None or args.attributes):
        raise UsageError("--z gives the face itself: it takes no -n, --seed or --attributes")
    model = generator.load(args.model)
    if args.z:  # the exact inputs the studio wrote down, through the serving signature
        faces = model.images(face_file.read(args.z, model))
        what, seeded = f"the face of {args.z}", ""
        name = os.path.splitext(os.path.basename(args.z))[0]
    else:
        count, seed = args.count or DEFAULT_COUNT, args.seed or 0
        faces = model.sample(count, seed, args.attributes or "")
        asked = f" asked for {args.attributes}" if args.attributes else ""
        what, seeded, name = f"{count} faces{asked}", f" (seed {seed})", f"face_{seed}"
    if args.grid:
        columns = args.columns or math.ceil(math.sqrt(len(faces)))
        images.save_image_grid(faces, args.grid, columns=columns)
        laid_out = "" if args.z else f" in {columns} columns"
        print(f"{args.grid}: {what}{laid_out}{seeded} from {model.path}")
        return
    os.makedirs(args.out_dir, exist_ok=True)
    for index, face in enumerate(faces):
        Image.fromarray(face).save(os.path.join(args.out_dir, f"{name}_{index:04d}.png"))
    print(f"{args.out_dir}: {what}{seeded} from {model.path}")


def cmd_interpolate(args) -> None:
    from PIL import Image

    from dcgan_faces import generator, latent
    from trainer_module import images

    _needs_suffix(args.out, ".gif", "--out")
    model = generator.load(args.model)
    path = latent.walk(
        model.inputs(args.points, args.seed), args.steps, args.method, loop=args.loop
    )
    frames = [Image.fromarray(face) for face in model.images(path)]
    if args.scale > 1:  # nearest neighbour: bigger, with no detail the model did not draw
        frames = [
            frame.resize(
                (frame.width * args.scale, frame.height * args.scale), Image.Resampling.NEAREST
            )
            for frame in frames
        ]
    images.save_gif(frames, args.out, frame_ms=args.frame_ms)
    print(
        f"{args.out}: {len(frames)} frames through {args.points} latent points "
        f"({args.method}{', looped' if args.loop else ''}, seed {args.seed}) from {model.path}"
    )


def cmd_edit(args) -> None:
    import numpy as np

    from components.gan_evaluator.attributes import conditional_direction
    from dcgan_faces import directions, generator
    from trainer_module import images

    _needs_suffix(args.grid, ".png", "--grid")
    model = generator.load(args.model)
    found = directions.find_directions(model.path, args.metadata or _default_metadata())
    kept = [name for name in (args.keep or "").split(",") if name]
    if args.add in kept:
        raise BadInput(f"--keep names {args.add}, the attribute --add changes")
    direction = conditional_direction(
        directions.direction_of(found, args.add),
        [directions.direction_of(found, name) for name in kept],
    )
    strengths = np.linspace(0.0, args.strength, args.columns)
    faces = model.inputs(args.rows, args.seed)
    z = np.stack(
        [directions.steer(faces, [(direction, strength)]) for strength in strengths], axis=1
    ).reshape(-1, faces.shape[1])  # a row per face, a column per strength
    images.save_image_grid(model.images(z), args.grid, columns=args.columns)
    print(
        f"{args.grid}: {args.rows} faces (rows, seed {args.seed}) with {args.add} added"
        f"{' keeping ' + ', '.join(kept) if kept else ''} at strength "
        f"{', '.join(f'{s:g}' for s in strengths)} (columns) from {model.path}"
    )


def cmd_arithmetic(args) -> None:
    import numpy as np

    from components.gan_evaluator import face_arithmetic
    from dcgan_faces import directions, generator
    from trainer_module import images

    _needs_suffix(args.grid, ".png", "--grid")
    model = generator.load(args.model)
    found = directions.attribute_samples(model.path, args.metadata or _default_metadata())
    if "z" not in found:
        raise BadInput(
            f"{model.path} was evaluated before the evaluator kept its labelled "
            "samples; evaluate it again to draw arithmetic"
        )
    names = [str(name) for name in found["names"]]
    try:
        terms = face_arithmetic.parse_expression(args.expression, names)
        result, members = face_arithmetic.arithmetic(
            found["z"], found["decisions"], names, terms, model.z_dim
        )
    except ValueError as err:
        raise BadInput(str(err)) from None
    exemplars = face_arithmetic.MIN_CONCEPT  # every concept has at least as many
    z = np.concatenate(
        [
            np.concatenate(
                [found["z"][indices[:exemplars]], found["z"][indices].mean(axis=0, keepdims=True)]
            )
            for indices in members
        ]  # a concept's first faces, then its mean
        + [face_arithmetic.variations(result, exemplars + 1, args.seed)]
    )
    images.save_image_grid(model.images(z.astype(np.float32)), args.grid, columns=exemplars + 1)
    described = " ".join(("+ " if term.sign > 0 else "- ") + term.label() for term in terms)
    print(
        f"{args.grid}: {described.removeprefix('+ ')} = the last row (the result, then "
        f"variations with noise of {face_arithmetic.VARIATION_SCALE:g}); a row per concept "
        f"above it: {exemplars} of its faces and its mean "
        f"({', '.join(str(len(m)) for m in members)} of {len(found['z'])} labelled samples) "
        f"from {model.path}"
    )


def _metrics_lines(export_dir: str, metadata_path: str) -> list:
    """The evaluator's summary for this model, found in the pipeline's metadata by fingerprint."""
    from components.gan_evaluator import results as evaluator_results
    from reporting import run_outputs

    if not os.path.isfile(metadata_path):
        return [f"Metrics: no metrics found (no pipeline metadata at {metadata_path})"]
    model, evaluation = run_outputs.evaluation_of_export(
        run_outputs.open_store(metadata_path), export_dir
    )
    if evaluation is None:
        return [f"Metrics: no metrics found for this model in {metadata_path}"]
    metrics = run_outputs.read_metrics(evaluation)
    summary = evaluator_results.summary_text(metrics, metrics["primary_metric"])
    return [
        f"Metrics (Trainer model {model.uri}; {evaluation.uri}):",
        *(f"  {line}" for line in summary.splitlines()),
    ]


def cmd_info(args) -> None:
    from dcgan_faces import generator
    from trainer_module import export

    model = generator.load(args.model)
    config = model.training_config()
    conditioned = (
        f"  conditioned on: {', '.join(model.attribute_names)}"
        if model.conditional
        else "  unconditional"
    )
    lines = [
        f"Generator: {model.path}",
        f"  latent size: {model.z_dim}",
        conditioned,
        "Signatures:",
        *(f"  {name}: {description}" for name, description in model.signatures.items()),
    ]
    if config is None:
        lines.append("Training config: none recorded in the model")
    else:
        lines += [
            f"Training config ({export.TRAINING_CONFIG_FILE}):",
            *(f"  {key}: {value}" for key, value in sorted(config.items())),
        ]
    print("\n".join(lines + _metrics_lines(model.path, args.metadata or _default_metadata())))


def cmd_report(args) -> None:
    from reporting import report_html

    output_root = args.output_root or _default_output_root()
    metadata_path = args.metadata or _default_metadata(output_root)
    if args.out:
        _needs_suffix(args.out, ".html", "--out")
    print(report_html.write_report(metadata_path, output_root, args.run, args.out))


def cmd_serve(args) -> None:
    from dcgan_faces import studio

    output_root = args.output_root or _default_output_root()
    model_path = args.model or _newest_pushed(output_root)
    opened = studio.Studio.open(model_path, args.metadata or _default_metadata(output_root))

    def ready(url: str) -> None:
        sliders = (
            f"{len(opened.sliders)} sliders" if opened.sliders else f"no sliders ({opened.note})"
        )
        print(
            f"Face studio for {opened.model.path} ({sliders}) at {url} (Ctrl+C stops it)",
            flush=True,
        )
        if not studio.is_loopback(args.host):
            print(
                f"note: listening on {args.host}, not only on this machine: whoever reaches "
                "it can use the studio",
                file=sys.stderr,
            )

    studio.serve(opened, args.host, args.port, ready)


def _newest_pushed(output_root: str) -> str:
    """The Pusher's destination of the default pipeline under `output_root`; generator.load
    takes its newest complete version, as every command does with a destination."""
    from pipeline_config import PipelineConfig

    destination = PipelineConfig(output_root=output_root).serving_model_dir
    if not os.path.isdir(destination):
        raise BadInput(
            f"no pushed model at {destination}: run the pipeline (make run) or name a MODEL"
        )
    return destination


def _default_output_root() -> str:
    from pipeline_config import PipelineConfig

    return PipelineConfig().output_root


def _default_metadata(output_root: str | None = None) -> str:
    from pipeline_config import PipelineConfig

    return PipelineConfig(output_root=output_root or _default_output_root()).metadata_path


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(__doc__.splitlines()[2:]),
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    model_help = "an exported generator, a Trainer model folder or a Pusher destination"

    sample = commands.add_parser("sample", help="faces as PNG files or one grid PNG")
    sample.add_argument("model", metavar="MODEL", help=model_help)
    out = sample.add_mutually_exclusive_group(required=True)
    out.add_argument("--grid", metavar="FILE.png", help="write one grid PNG")
    out.add_argument("--out-dir", metavar="DIR", help="write one PNG per face into DIR")
    sample.add_argument(
        "-n",
        "--count",
        type=_whole(1, MAX_IMAGES),
        help=f"how many faces (default {DEFAULT_COUNT})",
    )
    sample.add_argument(
        "--seed", type=_whole(0, MAX_SEED), help="the same seed gives the same faces (default 0)"
    )
    sample.add_argument(
        "--columns", type=_whole(1, MAX_IMAGES), help="grid columns (default: a square grid)"
    )
    sample.add_argument(
        "--attributes",
        metavar="A=1,B=0,...",
        help="a conditional generator's request: each attribute 1 (present) "
        "or 0 (absent); the others follow real faces that match",
    )
    sample.add_argument(
        "--z",
        metavar="FACE.json",
        help="draw the one face whose exact inputs the file holds, as the "
        "studio's download writes them (dcgan-faces serve)",
    )
    sample.set_defaults(command=cmd_sample)

    walk = commands.add_parser("interpolate", help="an animated GIF walking through latent space")
    walk.add_argument("model", metavar="MODEL", help=model_help)
    walk.add_argument("--out", required=True, metavar="FILE.gif", help="the GIF to write")
    walk.add_argument(
        "--points",
        type=_whole(2, MAX_POINTS),
        default=4,
        help="random latent points to walk through (default 4)",
    )
    walk.add_argument(
        "--steps",
        type=_whole(1, MAX_STEPS),
        default=16,
        help="frames from one point to the next (default 16)",
    )
    walk.add_argument(
        "--method",
        choices=("slerp", "linear"),
        default="slerp",
        help="spherical (default) or straight-line interpolation",
    )
    walk.add_argument("--loop", action="store_true", help="walk back to the first point")
    walk.add_argument("--seed", type=_whole(0), default=0, help="seed of the latent points")
    walk.add_argument(
        "--frame-ms", type=_whole(10, 10000), default=80, help="milliseconds per frame (default 80)"
    )
    walk.add_argument(
        "--scale",
        type=_whole(1, MAX_SCALE),
        default=2,
        help="enlarge each 64x64 frame this many times (default 2)",
    )
    walk.set_defaults(command=cmd_interpolate)

    edit = commands.add_parser("edit", help="faces moved along an attribute's direction in z")
    edit.add_argument("model", metavar="MODEL", help=model_help)
    edit.add_argument(
        "--add",
        required=True,
        metavar="ATTRIBUTE",
        help="a CelebA attribute the evaluator found a direction for, e.g. Smiling",
    )
    edit.add_argument(
        "--strength",
        type=float,
        default=3.0,
        help="how far z moves at the last column, in units of z's standard "
        "deviation (default 3, as the evaluator measures; negative removes)",
    )
    edit.add_argument(
        "--keep",
        metavar="A,B,...",
        help="attributes whose directions z must not move along (InterFaceGAN's "
        "conditional manipulation): fewer side effects, smaller flips",
    )
    edit.add_argument("--grid", required=True, metavar="FILE.png", help="the grid PNG to write")
    edit.add_argument("--rows", type=_whole(1, 64), default=6, help="faces (default 6)")
    edit.add_argument(
        "--columns",
        type=_whole(2, 16),
        default=5,
        help="strengths from 0 to --strength (default 5)",
    )
    edit.add_argument("--seed", type=_whole(0), default=0, help="seed of the faces' z")
    edit.add_argument(
        "--metadata",
        metavar="FILE",
        help="the pipeline's metadata, where the directions are found (default: "
        "the local runner's)",
    )
    edit.set_defaults(command=cmd_edit)

    arithmetic = commands.add_parser(
        "arithmetic", help="vector arithmetic on faces, e.g. smiling woman - woman + man"
    )
    arithmetic.add_argument("model", metavar="MODEL", help=model_help)
    arithmetic.add_argument(
        "expression",
        metavar="EXPRESSION",
        help="concepts joined by + and -, each attributes present (NAME) or "
        "absent (NAME=0), e.g. 'Smiling,Male=0 - Male=0 + Male'",
    )
    arithmetic.add_argument(
        "--grid", required=True, metavar="FILE.png", help="the grid PNG to write"
    )
    arithmetic.add_argument(
        "--seed", type=_whole(0), default=0, help="seed of the result's variations"
    )
    arithmetic.add_argument(
        "--metadata",
        metavar="FILE",
        help="the pipeline's metadata, where the labelled samples are found "
        "(default: the local runner's)",
    )
    arithmetic.set_defaults(command=cmd_arithmetic)

    serve = commands.add_parser(
        "serve", help="the face studio: a local web page to sample, steer and interpolate faces"
    )
    serve.add_argument(
        "model",
        metavar="MODEL",
        nargs="?",
        help=f"{model_help} (default: the newest model the pipeline pushed)",
    )
    serve.add_argument(
        "--output-root",
        metavar="DIR",
        help="the pipeline's output root, where the pushed model and the "
        "metadata are (default: ./outputs of the project)",
    )
    serve.add_argument(
        "--metadata",
        metavar="FILE",
        help="the pipeline's metadata, where the attribute directions and their "
        "measures are found (default: the output root's)",
    )
    serve.add_argument(
        "--host",
        default=STUDIO_HOST,
        help="the address to listen on (default 127.0.0.1: this machine only)",
    )
    serve.add_argument(
        "--port",
        type=_whole(0, 65535),
        default=STUDIO_PORT,
        help=f"the port (default {STUDIO_PORT}; 0: any free one, printed)",
    )
    serve.set_defaults(command=cmd_serve)

    info = commands.add_parser("info", help="signatures, training config and metrics")
    info.add_argument("model", metavar="MODEL", help=model_help)
    info.add_argument(
        "--metadata",
        metavar="FILE",
        help="the pipeline's metadata.sqlite to find metrics in "
        "(default: outputs/metadata/celeba-dcgan/metadata.sqlite)",
    )
    info.set_defaults(command=cmd_info)

    report = commands.add_parser("report", help="write a run's HTML report and print its path")
    report.add_argument(
        "--output-root",
        metavar="DIR",
        help="the pipeline's output root (default: ./outputs of the project)",
    )
    report.add_argument(
        "--metadata", metavar="FILE", help="metadata.sqlite (default: the output root's)"
    )
    report.add_argument("--run", metavar="RUN_ID", help="a pipeline run id (default: the latest)")
    report.add_argument(
        "--out",
        metavar="FILE.html",
        help="where to write it (default: <output root>/reports/<pipeline>/<run id>.html)",
    )
    report.set_defaults(command=cmd_report)
    return parser


def main(argv=None) -> int:
    bootstrap.start()  # TensorFlow's start-up notices and support warnings: not for users
    try:
        args = build_parser().parse_args(argv)
        args.command(args)
    except (BadInput, FileNotFoundError, LookupError) as err:
        print(f"error: {str(err).splitlines()[0]}", file=sys.stderr)
        return 2
    except OSError as err:  # an output with a file in its way, a read-only folder, a full disk
        print(f"error: {err.strerror or err}: {err.filename}", file=sys.stderr)
        return 2
    except Exception as err:  # the same through tf.io.gfile, which writes the grids and GIFs
        tensorflow = sys.modules.get("tensorflow")  # loaded if the error can be one of its own
        if tensorflow is None or not isinstance(err, tensorflow.errors.OpError):
            raise
        print(f"error: {err.message.splitlines()[0]}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
