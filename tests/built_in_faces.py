"""Built-in faces drawn in memory, with their true attributes: for tests that train on labelled
faces without a pipeline run."""

import numpy as np
from PIL import Image

from data.synthetic_celeba import CONTROLLED_ATTRIBUTES, draw_face, face_for


def built_in_faces(count: int, first: int = 1, names=CONTROLLED_ATTRIBUTES):
    """uint8 [count, 64, 64, 3] centre squares of the built-in drawing, and their attributes
    (1/0) in the order of `names`."""
    images, labels = [], []
    for index in range(first, first + count):
        face = face_for(0, index)
        image = draw_face(face)
        top = (image.height - image.width) // 2
        square = image.crop((0, top, image.width, top + image.width))
        images.append(np.asarray(square.resize((64, 64), Image.BILINEAR)))
        values = face.attributes()
        labels.append([int(values[name] > 0) for name in names])
    return np.stack(images), np.array(labels)
