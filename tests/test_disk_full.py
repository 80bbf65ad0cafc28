"""Recognising a full disk in what a failed run raised, in the shapes measured on a full tmpfs
(tests/test_faults.py): the first error's path is named, the metadata store's later one is not."""

import errno
import sqlite3

import tensorflow as tf

from pipeline import disk_full

METADATA = "/out/metadata/celeba-dcgan/metadata.sqlite"
TF_SAVE = (
    "{{function_node __wrapped__SaveV2_dtypes_1_device_/job:localhost/replica:0/task:0/"
    "device:CPU:0}} /out/pipeline/Transform/transform_graph/7/variables/variables_temp/"
    "part-00000-of-00001.data-00000-of-00001.tempstate102617; No space left on device "
    "[Op:SaveV2]"
)


def raised_while_handling(first: BaseException, then: BaseException) -> BaseException:
    try:
        try:
            raise first
        except BaseException as handled:
            raise then from handled
    except BaseException as err:
        return err


def test_an_oserror_names_its_file():
    err = OSError(errno.ENOSPC, "No space left on device", "/out/serving_model/7/variables.data")
    assert disk_full.full_disk_path(err, METADATA) == "/out/serving_model/7/variables.data"


def test_tensorflow_names_the_file_in_its_message():
    err = tf.errors.ResourceExhaustedError(None, None, TF_SAVE)
    assert disk_full.full_disk_path(err, METADATA).startswith("/out/pipeline/Transform/")


def test_the_first_error_is_named_not_the_metadata_store_failing_after_it():
    first = tf.errors.ResourceExhaustedError(None, None, TF_SAVE)
    err = raised_while_handling(first, sqlite3.OperationalError("database or disk is full"))
    assert disk_full.full_disk_path(err, METADATA).endswith(".tempstate102617")
    alone = sqlite3.OperationalError("database or disk is full")
    assert disk_full.full_disk_path(alone, METADATA) == METADATA


def test_beam_text_without_a_path_is_still_a_full_disk():
    err = RuntimeError(
        "OSError: [Errno 28] No space left on device [while running "
        "'WriteSplit[train]/Write/WriteImpl/WriteBundles']"
    )
    assert disk_full.full_disk_path(err, METADATA) == ""


def test_other_errors_are_not_a_full_disk():
    for err in (
        OSError(errno.EACCES, "Permission denied", "/out/x"),
        ValueError("bad image"),
        tf.errors.ResourceExhaustedError(None, None, "OOM when allocating tensor"),
    ):
        assert disk_full.full_disk_path(err, METADATA) is None
