"""The face file (`dcgan-faces sample MODEL --z FILE`, the studio's download): what it holds and
every way a file is refused, each in one line naming the file. The model is described by the
fields face_file reads (path, z_dim, attribute_names), as generator.Generator has them."""

import dataclasses
import json

import numpy as np
import pytest

from dcgan_faces import face_file
from dcgan_faces.errors import BadInput


@dataclasses.dataclass
class Model:
    path: str = "/models/g"
    z_dim: int = 3
    attribute_names: tuple = ()

    @property
    def conditional(self) -> bool:
        return bool(self.attribute_names)


CONDITIONAL = Model(attribute_names=("Smiling", "Male"))


def test_a_written_face_reads_back_as_the_same_float32_inputs(tmp_path):
    inputs = np.array([0.1, -2.5, 1 / 3, 1.0, -1.0], np.float32)
    path = tmp_path / "face.json"
    path.write_text(json.dumps(face_file.to_json(CONDITIONAL, inputs, seed=4, index=2)))
    read = face_file.read(str(path), CONDITIONAL)
    assert read.dtype == np.float32 and read.tolist() == [inputs.tolist()]
    assert json.loads(path.read_text())["attributes"] == {"Smiling": 1.0, "Male": -1.0}


@pytest.mark.parametrize(
    "model, content, message",
    [
        (Model(), None, "--z {path}: no such file"),
        (Model(), "not json", "--z {path} is not a face file (JSON)"),
        (Model(), b"\xff\xfe", "--z {path} is not a face file (JSON)"),
        (Model(), [1, 2, 3], '--z {path} is not a face file: it has no "z"'),
        (Model(), {"seed": 1}, '--z {path} is not a face file: it has no "z"'),
        (Model(), {"z": [1, 2]}, "--z {path} holds a z of 2 numbers; /models/g takes 3"),
        (Model(), {"z": [1, "2", 3]}, '--z {path}: "z" must hold finite numbers only'),
        (Model(), {"z": [1, True, 3]}, '--z {path}: "z" must hold finite numbers only'),
        (Model(), {"z": [1, float("nan"), 3]}, '--z {path}: "z" must hold finite numbers only'),
        (Model(), {"z": "123"}, '--z {path}: "z" must hold finite numbers only'),
        (
            Model(),
            {"z": [1, 2, 3], "attributes": {"Smiling": 1}},
            "--z {path} holds attribute codes, but /models/g is an unconditional generator",
        ),
        (CONDITIONAL, {"z": [1, 2, 3]}, 'must give "attributes" a code for each of Smiling, Male'),
        (
            CONDITIONAL,
            {"z": [1, 2, 3], "attributes": {"Smiling": 1}},
            'must give "attributes" a code for each of Smiling, Male',
        ),
        (
            CONDITIONAL,
            {"z": [1, 2, 3], "attributes": {"Smiling": 1, "Male": 0, "Bangs": 1}},
            'must give "attributes" a code for each of Smiling, Male',
        ),
        (
            CONDITIONAL,
            {"z": [1, 2, 3], "attributes": {"Smiling": 1, "Male": None}},
            '--z {path}: "attributes" must hold finite numbers only',
        ),
    ],
)
def test_a_bad_face_file_is_refused_in_one_line_naming_it(tmp_path, model, content, message):
    path = tmp_path / "face.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, str):
        path.write_text(content)
    elif content is not None:
        path.write_text(json.dumps(content))  # NaN as the literal Python's json writes and reads
    with pytest.raises(BadInput) as refused:
        face_file.read(str(path), model)
    said = str(refused.value)
    assert message.format(path=path) in said and len(said.splitlines()) == 1, said
