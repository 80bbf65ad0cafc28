"""The ExampleGen driver, with the list files in the input fingerprint.

TFX's FileBasedDriver fingerprints the files the split pattern matches (the images) to decide
whether a cached run still holds; a corrected attribute or partition file must re-run ExampleGen
too, so their size and modification time join the fingerprint.
"""

from __future__ import annotations

import os

from tfx.components.example_gen import utils
from tfx.components.example_gen.driver import FileBasedDriver
from tfx.utils import io_utils

from data import celeba_files


class Driver(FileBasedDriver):
    def resolve_exec_properties(self, exec_properties, pipeline_info, component_info):
        exec_properties = super().resolve_exec_properties(
            exec_properties, pipeline_info, component_info
        )
        input_base = exec_properties["input_base"]
        exec_properties[utils.FINGERPRINT_PROPERTY_NAME] = "\n".join(
            [exec_properties[utils.FINGERPRINT_PROPERTY_NAME]]
            + [
                io_utils.generate_fingerprint(name, os.path.join(input_base, name))
                for name in (celeba_files.ATTRIBUTE_FILE, celeba_files.PARTITION_FILE)
            ]
        )
        return exec_properties
