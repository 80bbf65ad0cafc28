"""The push gate's decision rule, thresholds, the summary text, and the fixed latent points."""
import math

import numpy as np
import pytest

from components.gan_evaluator.blessing import (Threshold, decide, thresholds_from_json,
                                               thresholds_to_json)
from components.gan_evaluator.executor import summary_text
from components.gan_evaluator.sources import generated_batches, latent_points

KEY = "fid/random_embedding"
RATIO = Threshold(KEY + "_ratio_to_untrained", "max", 0.5)


def results(value, untrained=100.0, **more):
    return {KEY: value, KEY + "_untrained": untrained,
            KEY + "_ratio_to_untrained": value / untrained, **more}


def test_blessed_only_when_clearly_better_than_untrained():
    assert decide(results(40.0), [RATIO], KEY, None, 0.1) == (True, [])
    blessed, reasons = decide(results(60.0), [RATIO], KEY, None, 0.1)
    assert not blessed and reasons == [f"{KEY}_ratio_to_untrained = 0.6 > 0.5"]


def test_not_blessed_when_worse_than_baseline_beyond_tolerance():
    assert decide(results(40.0), [RATIO], KEY, 37.0, 0.1)[0]  # 40 <= 1.1 * 37
    blessed, reasons = decide(results(45.0), [RATIO], KEY, 37.0, 0.1)
    assert not blessed and len(reasons) == 1 and "baseline" in reasons[0]
    assert decide(results(36.0), [RATIO], KEY, 37.0, 0.0)[0]  # better than the baseline


def test_every_threshold_must_hold():
    values = results(40.0, **{"precision/random_embedding": 0.2, "kid/random_embedding": 0.05})
    thresholds = [RATIO, Threshold("precision/random_embedding", "min", 0.3),
                  Threshold("kid/random_embedding", "max", 0.01)]
    blessed, reasons = decide(values, thresholds, KEY, None, 0.1)
    assert not blessed and len(reasons) == 2
    assert "precision/random_embedding = 0.2 < 0.3" in reasons
    thresholds[1:] = [Threshold("precision/random_embedding", "min", 0.1),
                      Threshold("kid/random_embedding", "max", 0.1)]
    assert decide(values, thresholds, KEY, None, 0.1) == (True, [])


def test_missing_or_non_finite_values_are_never_blessed():
    blessed, reasons = decide(results(math.nan), [RATIO], KEY, 37.0, 0.1)
    assert not blessed and "not finite" in reasons[0]
    blessed, reasons = decide(results(40.0), [Threshold("swd/laplacian_mean", "max", 1.0)], KEY,
                              None, 0.1)
    assert not blessed and reasons == ["swd/laplacian_mean was not computed"]


def test_thresholds_travel_as_json_and_are_checked_on_the_way():
    text = thresholds_to_json([("precision/random_embedding", "min", 0.1), ("kid/x", "max", 1)])
    assert thresholds_from_json(text) == [Threshold("precision/random_embedding", "min", 0.1),
                                          Threshold("kid/x", "max", 1.0)]
    assert thresholds_from_json("") == []
    with pytest.raises(ValueError, match="bound"):
        thresholds_to_json([("kid/x", "below", 1)])


def test_summary_names_the_values_and_the_decision():
    values = results(30.0, **{"kid/random_embedding": 0.01,
                              "warnings": ["too few"], "blessed": False,
                              "not_blessed_reasons": ["FD 30 > something"]})
    text = summary_text(values, KEY)
    assert text.startswith(f"{KEY}: 30.0000 (untrained generator: 100.0000, ratio 0.300)")
    assert "kid/random_embedding: 0.0100" in text
    assert "warning: too few" in text and text.endswith("NOT BLESSED: FD 30 > something\n")


def test_latent_points_are_fixed_and_batched():
    z = latent_points(10, 100)
    assert z.dtype == np.float32 and z.shape == (10, 100)
    np.testing.assert_array_equal(z, latent_points(10, 100))
    assert not np.array_equal(z, latent_points(10, 100, seed=2))
    batches = list(generated_batches(lambda batch: batch * 2, z, 4))
    assert [len(b) for b in batches] == [4, 4, 2]
    np.testing.assert_array_equal(np.concatenate(batches), z * 2)
