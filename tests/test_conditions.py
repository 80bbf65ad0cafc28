"""What a conditional generator is asked for: codes, fixed inputs and requests matched to real
rows."""

import numpy as np
import pytest
import tensorflow as tf

from trainer_module import conditions, images

TABLE = np.array(
    [
        [1, -1, 1],  # A, not B, C
        [-1, -1, 1],  # C only
        [1, 1, -1],  # A and B
        [1, 1, -1],
    ],
    np.float32,
)


def test_transform_values_become_celeba_codes_and_unknown_asks_for_neither():
    codes = conditions.attribute_codes(np.array([1, 0, -1, 1], np.int64)).numpy()
    np.testing.assert_array_equal(codes, [1.0, -1.0, 0.0, 1.0])
    assert codes.dtype == np.float32


def test_fixed_inputs_are_z_then_real_rows_the_same_for_a_seed():
    inputs = conditions.generator_inputs(50, 8, seed=3, table=TABLE)
    assert inputs.shape == (50, 11) and inputs.dtype == np.float32
    np.testing.assert_array_equal(inputs[:, :8], images.latent_points(50, 8, 3))
    rows = {tuple(row) for row in TABLE}
    assert all(tuple(row) in rows for row in inputs[:, 8:])
    assert len({tuple(row) for row in inputs[:, 8:]}) == 3  # every distinct row drawn
    np.testing.assert_array_equal(inputs, conditions.generator_inputs(50, 8, 3, TABLE))
    assert not np.array_equal(inputs, conditions.generator_inputs(50, 8, 4, TABLE))
    np.testing.assert_array_equal(
        conditions.generator_inputs(5, 8, 3), images.latent_points(5, 8, 3)
    )  # unconditional: z alone


def test_a_conditional_generator_needs_real_rows():
    with pytest.raises(ValueError, match="at least one real attribute row"):
        conditions.draw_rows(np.zeros((0, 3), np.float32), 4, seed=0)


def matching(request, count=200, seed=(1, 2)):
    return conditions.matching_rows(
        tf.constant(TABLE), tf.constant(request, tf.float32), count, tf.constant(seed, tf.int64)
    ).numpy()


def test_a_request_is_honoured_and_open_attributes_follow_rows_that_match_it():
    rows = matching([0, 1, 0])  # B: only the rows "A and B" have it
    np.testing.assert_array_equal(rows, np.tile([1, 1, -1], (200, 1)))
    rows = matching([0, 0, 1])  # C: rows 0 and 1, both drawn
    assert {tuple(row) for row in rows} == {(1, -1, 1), (-1, -1, 1)}
    np.testing.assert_array_equal(matching([0, 0, 1]), rows)  # the same for the same seed


def test_a_combination_the_data_lacks_takes_the_closest_rows_with_the_request_written_in():
    rows = matching([-1, 1, 1])  # no row has B and C; "C only" differs from it in B alone
    np.testing.assert_array_equal(rows, np.tile([-1, 1, 1], (200, 1)))
    rows = matching([0, 1, 1])  # closest: rows 0, 1 (miss B) and 2, 3 (miss C), all kept
    assert (rows[:, 1:] == 1).all() and set(rows[:, 0]) == {1.0, -1.0}
