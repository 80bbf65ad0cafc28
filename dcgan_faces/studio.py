"""The face studio: `dcgan-faces serve [MODEL]`, a local web page on a trained generator.

The page (studio_page.html) shows a grid of faces for a seed; for one chosen face, a slider per
attribute; an interpolation strip from that face to another; and downloads of the face and of
its exact inputs (face_file.py), which `dcgan-faces sample MODEL --z FILE` draws again.

The sliders move the chosen face:
- an unconditional generator's, along the directions in z the evaluator found for the
  attributes (directions.py), by a strength in units of z's standard deviation;
- a conditional generator's, by its attribute codes themselves (-1 absent, +1 present).
Each slider carries what the evaluator measured of that edit: how often it flips the attribute
and how much it changes the others, so that a user sees which sliders to trust.

Every face is drawn by the model's serving signature from explicit inputs: those the `sample`
command draws for the same seed (Generator.sample_inputs), moved by directions.steer, the rule
`edit` uses. The page shows the pixels the command line writes.

The server side is Flask on Werkzeug's server (docs/studio.md says why), on 127.0.0.1 unless
told otherwise. Every request is checked before the model runs: a bad one is answered 4xx with
{"error": "..."}, which the page shows; sizes are capped so that no request can run long.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import io
import ipaddress
import json
import logging
import math
import os
import re
import socket
from collections.abc import Callable
from importlib import resources

import numpy as np
from flask import Flask, Response, jsonify, request
from PIL import Image
from werkzeug.exceptions import BadRequest, HTTPException, MethodNotAllowed
from werkzeug.serving import make_server

from dcgan_faces import directions, face_file, generator, latent
from dcgan_faces.defaults import MAX_SEED, PROG, STUDIO_HOST, STUDIO_PORT
from dcgan_faces.errors import BadInput

PAGE = "studio_page.html"
MAX_COUNT = 64  # faces in the grid, and the highest face index + 1
MAX_FRAMES = 32  # frames of an interpolation strip
MAX_STRENGTH = 5.0  # a direction slider's reach either way; the evaluator measures at 3
CODE_RANGE = (-1.0, 1.0)  # a conditional generator's codes: absent .. present, as trained
SLIDER_STEP = 0.1
BASE_CACHE = 1024  # chosen faces whose inputs are kept: a slider move draws no new z
# A slider is "reliable" when its edit flips at least FLIP_TARGET of the faces that lacked the
# attribute and changes each other attribute in at most OTHERS_TARGET of the faces on average:
# the targets bench/attribute_directions.py scores directions against.
FLIP_TARGET, OTHERS_TARGET = 0.8, 0.1
WEAK_FLIP = 0.5  # flips fewer than half: the slider mostly does something else
MEASURE = "attributes/{}/{}"  # the evaluator's metric keys (components/gan_evaluator/attributes.py)


class RequestError(BadRequest):
    """A request the studio will not draw; `description` says why, in one line."""


@dataclasses.dataclass(frozen=True)
class Slider:
    name: str
    low: float
    high: float
    measures: dict  # flip_rate, others_changed, worst_other_changed: fractions, or None
    verdict: str  # reliable, partial, side effects, weak, not measured

    def as_json(self) -> dict:
        return {
            "name": self.name,
            "low": self.low,
            "high": self.high,
            "step": SLIDER_STEP,
            "measures": self.measures,
            "verdict": self.verdict,
        }


def verdict(flip_rate: float | None, others_changed: float | None) -> str:
    """One word for how far a slider can be trusted, from its measured edit (FLIP_TARGET)."""
    if flip_rate is None or others_changed is None:
        return "not measured"
    if flip_rate < WEAK_FLIP:
        return "weak"
    if others_changed > OTHERS_TARGET:
        return "side effects"
    return "reliable" if flip_rate >= FLIP_TARGET else "partial"


def _measure(metrics: dict, key: str, name: str) -> float | None:
    value = metrics.get(MEASURE.format(key, name))
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None


def make_sliders(names, metrics: dict, low: float, high: float, prefix: str) -> list:
    """A slider per attribute, labelled with the evaluator's measures of its edit (`prefix`:
    "edit" for the directions, "code_edit" for a conditional generator's codes); the most
    trustworthy first: the largest flip rate net of the others changed, as the report picks
    its one edit grid, unmeasured ones last."""
    sliders = []
    for name in names:
        measures = {
            key: _measure(metrics, f"{prefix}_{key}", name)
            for key in ("flip_rate", "others_changed", "worst_other_changed")
        }
        sliders.append(
            Slider(
                name,
                low,
                high,
                measures,
                verdict(measures["flip_rate"], measures["others_changed"]),
            )
        )

    def rank(slider):
        flip, others = slider.measures["flip_rate"], slider.measures["others_changed"]
        return (flip is None or others is None, -(flip or 0.0) + (others or 0.0))

    return sorted(sliders, key=rank)


class Studio:
    """A generator loaded once, its sliders, and the faces they draw."""

    def __init__(
        self,
        model: generator.Generator,
        found_directions: dict,
        metrics: dict,
        evaluation: str | None,
        note: str = "",
    ):
        """`found_directions`: {attribute: unit direction in z} (unconditional generators);
        `metrics`: the evaluation's; `note`: what the page says of sliders it lacks."""
        self.model = model
        self.evaluation = evaluation
        self.note = note
        if model.conditional:
            self.sliders = make_sliders(model.attribute_names, metrics, *CODE_RANGE, "code_edit")
            self._directions = {}
        else:
            self.sliders = make_sliders(
                found_directions, metrics, -MAX_STRENGTH, MAX_STRENGTH, "edit"
            )
            self._directions = found_directions
        self._by_name = {slider.name: slider for slider in self.sliders}
        self._base = functools.lru_cache(maxsize=BASE_CACHE)(self._draw_base)

    @classmethod
    def open(cls, model_path: str, metadata_path: str) -> Studio:
        """The studio of a generator, with the directions and measures of its latest
        evaluation in the pipeline's metadata; without them (never evaluated, no metadata) the
        page still draws faces and says why it has no sliders."""
        model = generator.load(model_path)
        found, metrics, evaluation, note = {}, {}, None, ""
        try:
            evaluation, metrics = directions.evaluation_of(model.path, metadata_path)
            if evaluation is None:
                note = f"{model.path} has no evaluation in {metadata_path}"
            elif not model.conditional:
                samples = directions.attribute_samples(model.path, metadata_path)
                found = {
                    str(name): vector
                    for name, vector in zip(samples["names"], samples["directions"])
                }
        except BadInput as err:
            note = str(err).splitlines()[0]
        rare = [name for name, vector in found.items() if not np.isfinite(vector).all()]
        if rare:
            note = (
                f"no direction for {', '.join(rare)}: too rare in the model's samples for "
                "the evaluator to find one"
            )
        found = {name: vector for name, vector in found.items() if name not in rare}
        if any(len(vector) != model.z_dim for vector in found.values()):
            raise BadInput(
                f"the directions found for {model.path} do not have its latent size {model.z_dim}"
            )
        return cls(model, found, metrics, evaluation, note)

    # --- faces ---------------------------------------------------------------------------------
    def _draw_base(self, seed: int, index: int) -> np.ndarray:
        return self.model.sample_inputs(index + 1, seed)[index]

    def inputs(self, seed: int, index: int, edits: dict) -> np.ndarray:
        """float32 [z_dim (+ attributes)]: face `index` of `sample`'s faces for `seed`, with
        `edits` ({slider: value}) applied: moved along the directions by the strengths, or
        with the codes set to the values."""
        base = self._base(seed, index)
        if not self.model.conditional:
            return directions.steer(
                base, [(self._directions[name], strength) for name, strength in edits.items()]
            )
        moved = np.array(base, np.float32, copy=True)
        for name, code in edits.items():
            moved[self.model.z_dim + self.model.attribute_names.index(name)] = code
        return moved

    def grid(self, seed: int, count: int) -> tuple:
        """(uint8 faces [count, H, W, 3], their inputs): `sample`'s faces for the seed."""
        inputs = self.model.sample_inputs(count, seed)
        return self.model.images(inputs), inputs

    def face(self, seed: int, index: int, edits: dict) -> np.ndarray:
        """uint8 [H, W, 3]: one face, drawn alone, as `sample --z` draws it."""
        return self.model.images(self.inputs(seed, index, edits)[None])[0]

    def strip(
        self, seed: int, index: int, edits: dict, to: int, frames: int, method: str
    ) -> np.ndarray:
        """uint8 [frames, H, W, 3]: from the chosen face as edited to face `to` of the same seed
        as drawn, along the great circle (slerp) or the straight line, ends included."""
        ends = np.stack([self.inputs(seed, index, edits), self._base(seed, to)])
        return self.model.images(latent.walk(ends, frames - 1, method))

    def recipe(self, seed: int, index: int, edits: dict) -> dict:
        """The face file (face_file.py) of a face, with the command that draws it again."""
        name = face_name(seed, index)
        return face_file.to_json(
            self.model,
            self.inputs(seed, index, edits),
            seed=seed,
            index=index,
            edits=edits,
            command=f"{PROG} sample {os.path.abspath(self.model.path)} --z {name}.json "
            f"--grid {name}.png",
        )

    def describe(self) -> dict:
        """What the page needs to lay itself out."""
        return {
            "model": os.path.abspath(self.model.path),
            "z_dim": self.model.z_dim,
            "conditional": self.model.conditional,
            "slider_kind": "code" if self.model.conditional else "direction",
            "sliders": [slider.as_json() for slider in self.sliders],
            "evaluation": self.evaluation,
            "note": self.note,
            "limits": {"max_count": MAX_COUNT, "max_frames": MAX_FRAMES, "max_seed": str(MAX_SEED)},
            "command": PROG,
        }

    # --- request checks ------------------------------------------------------------------------
    def parse_edits(self, text: str) -> dict:
        """'Smiling=1.5,Male=-1' -> {name: value}: every name one of the sliders, once, and
        every value a finite number within its slider's range."""
        edits = {}
        for part in (part.strip() for part in text.split(",")):
            if not part:
                continue
            name, equals, value = part.partition("=")
            name = name.strip()
            if name not in self._by_name:
                known = ", ".join(self._by_name) or "none"
                raise RequestError(
                    f"unknown attribute {_shown(name)}; this model's sliders: {known}"
                )
            if name in edits:
                raise RequestError(f"{name} is given twice")
            try:
                number = float(value) if equals else math.nan
            except ValueError:
                number = math.nan
            if not math.isfinite(number):
                raise RequestError(f"{_shown(part)}: {name} needs a number, as {name}=1.5")
            slider = self._by_name[name]
            if not slider.low <= number <= slider.high:
                raise RequestError(
                    f"{name}={number:g} is out of range: {name} goes from "
                    f"{slider.low:g} to {slider.high:g}"
                )
            edits[name] = number
        return edits


def face_name(seed: int, index: int) -> str:
    return f"face_{seed}_{index}"


def _shown(text: str, limit: int = 40) -> str:
    """A user's text quoted in a message, cut short: a message is one short line."""
    return repr(text if len(text) <= limit else text[:limit] + "...")


def whole(name: str, low: int, high: int, default: int | None = None) -> int:
    """The query parameter `name` as a whole number in [low, high]; a 400 otherwise."""
    text = request.args.get(name)
    if text is None or text.strip() == "":
        if default is None:
            raise RequestError(f"{name} is missing: a whole number from {low} to {high}")
        return default
    text = text.strip()
    if not re.fullmatch(r"[0-9]+", text):
        raise RequestError(
            f"{name} must be a whole number from {low} to {high}, not {_shown(text)}"
        )
    if len(text.lstrip("0")) > len(str(high)) or not low <= int(text) <= high:
        raise RequestError(f"{name} {_shown(text, 24)} is out of range: {low} to {high}")
    return int(text)


def png(face: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(face).save(buffer, format="PNG")
    return buffer.getvalue()


def data_url(face: np.ndarray) -> str:
    return "data:image/png;base64," + base64.b64encode(png(face)).decode("ascii")


def create_app(studio: Studio) -> Flask:
    """The studio's web app: the page, and the JSON and PNG it asks for."""
    app = Flask(__name__)
    app.json.sort_keys = False
    page = resources.files("dcgan_faces").joinpath(PAGE).read_text(encoding="utf-8")

    def chosen() -> tuple:
        """(seed, index, edits) of the chosen face, from the query."""
        return (
            whole("seed", 0, MAX_SEED),
            whole("index", 0, MAX_COUNT - 1),
            studio.parse_edits(request.args.get("edits", "")),
        )

    @app.get("/")
    def index():
        return Response(page, mimetype="text/html")

    @app.get("/api/model")
    def model():
        return jsonify(studio.describe())

    @app.get("/api/grid")
    def grid():
        seed, count = whole("seed", 0, MAX_SEED), whole("count", 1, MAX_COUNT, 16)
        faces, inputs = studio.grid(seed, count)
        codes = (
            inputs[:, studio.model.z_dim :].tolist()
            if studio.model.conditional
            else [[] for _ in faces]
        )
        return jsonify(
            seed=str(seed),
            count=count,
            faces=[
                {"image": data_url(face), "codes": dict(zip(studio.model.attribute_names, row))}
                for face, row in zip(faces, codes)
            ],
        )

    @app.get("/api/face")
    def face():
        return Response(
            png(studio.face(*chosen())), mimetype="image/png", headers={"Cache-Control": "no-store"}
        )

    @app.get("/api/recipe")
    def recipe():
        seed, index, edits = chosen()
        return Response(
            json.dumps(studio.recipe(seed, index, edits), indent=1) + "\n",
            mimetype="application/json",
            headers={"Content-Disposition": f"attachment; filename={face_name(seed, index)}.json"},
        )

    @app.get("/api/strip")
    def strip():
        seed, index, edits = chosen()
        to, frames = whole("to", 0, MAX_COUNT - 1), whole("frames", 2, MAX_FRAMES, 8)
        method = request.args.get("method", "slerp")
        if method not in latent.METHODS:
            raise RequestError(
                f"method must be one of {', '.join(latent.METHODS)}, not {_shown(method)}"
            )
        return jsonify(
            frames=[
                data_url(frame) for frame in studio.strip(seed, index, edits, to, frames, method)
            ]
        )

    @app.errorhandler(HTTPException)
    def refused(error: HTTPException):
        """Every refusal as {"error": one line}, which the page shows as it is."""
        if isinstance(error, MethodNotAllowed):  # say what the route takes instead
            return jsonify(
                error=f"{request.method} is not allowed on {request.path}: it "
                f"answers {', '.join(sorted(error.valid_methods))}"
            ), error.code
        return jsonify(error=error.description or error.name), error.code

    return app


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def listen(host: str, port: int) -> socket.socket:
    """The server's socket, bound here rather than by Werkzeug, which prints its own lines and
    exits when it cannot bind: a port in use or a host not of this machine is one line."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family)
    except OSError as err:
        reason = os.strerror(err.errno) if err.errno else str(err)
        raise BadInput(f"cannot listen on {host}:{port}: {reason}") from None


def serve(
    studio: Studio,
    host: str = STUDIO_HOST,
    port: int = STUDIO_PORT,
    ready: Callable[[str], None] | None = None,
) -> None:
    """Serves the studio until interrupted; `ready(url)` once it listens (port 0: a free one).
    Threaded, so that a long interpolation does not hold up a slider."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # a line per slider move: no
    with listen(host, port) as bound:
        server = make_server(host, port, create_app(studio), threaded=True, fd=bound.fileno())
    bound_host, bound_port = server.server_address[:2]
    if ready:
        ready(f"http://{f'[{bound_host}]' if ':' in bound_host else bound_host}:{bound_port}/")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
