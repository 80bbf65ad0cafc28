"""The push gate's decision rule, thresholds, the summary text, and the fixed latent points."""

import dataclasses
import math

import numpy as np
import pytest

from components.gan_evaluator import calibration
from components.gan_evaluator.blessing import Threshold, decide
from components.gan_evaluator.results import decision, summary_text
from components.gan_evaluator.settings import EvaluatorSettings
from components.gan_evaluator.sources import generated_batches, latent_points
from pipeline_config import PipelineConfig

KEY = "fid/random_embedding"
RATIO = Threshold(KEY + "_ratio_to_untrained", "max", 0.5)


def results(value, untrained=100.0, **more):
    return {
        KEY: value,
        KEY + "_untrained": untrained,
        KEY + "_ratio_to_untrained": value / untrained,
        **more,
    }


def test_blessed_only_when_clearly_better_than_untrained():
    assert decide(results(40.0), [RATIO], KEY, None, 0.1) == (True, [])
    blessed, reasons = decide(results(60.0), [RATIO], KEY, None, 0.1)
    assert not blessed and reasons == [f"{KEY}_ratio_to_untrained = 0.6 > 0.5"]


def test_not_blessed_when_worse_than_baseline_beyond_tolerance():
    assert decide(results(40.0), [RATIO], KEY, 37.0, 0.1)[0]  # 40 <= 1.1 * 37
    blessed, reasons = decide(results(45.0), [RATIO], KEY, 37.0, 0.1)
    assert not blessed and reasons == [f"{KEY} = 45 > (1 + 0.1) x the blessed baseline's 37 = 40.7"]
    assert decide(results(36.0), [RATIO], KEY, 37.0, 0.0)[0]  # better than the baseline


def test_every_threshold_must_hold():
    values = results(40.0, **{"precision/random_embedding": 0.2, "kid/random_embedding": 0.05})
    thresholds = [
        RATIO,
        Threshold("precision/random_embedding", "min", 0.3),
        Threshold("kid/random_embedding", "max", 0.01),
    ]
    blessed, reasons = decide(values, thresholds, KEY, None, 0.1)
    assert not blessed and len(reasons) == 2
    assert "precision/random_embedding = 0.2 < 0.3" in reasons
    thresholds[1:] = [
        Threshold("precision/random_embedding", "min", 0.1),
        Threshold("kid/random_embedding", "max", 0.1),
    ]
    assert decide(values, thresholds, KEY, None, 0.1) == (True, [])


def test_missing_or_non_finite_values_are_never_blessed():
    blessed, reasons = decide(results(math.nan), [RATIO], KEY, 37.0, 0.1)
    assert not blessed and "not finite" in reasons[0]
    blessed, reasons = decide(
        results(40.0), [Threshold("swd/laplacian_mean", "max", 1.0)], KEY, None, 0.1
    )
    assert not blessed and reasons == ["swd/laplacian_mean was not computed"]


def test_thresholds_are_checked_when_the_settings_are_built():
    settings = EvaluatorSettings.of(PipelineConfig(eval_thresholds=(("kid/x", "max", 1),)))
    assert settings.eval_thresholds == (("kid/x", "max", 1.0),)
    with pytest.raises(ValueError, match="bound"):
        EvaluatorSettings.of(PipelineConfig(eval_thresholds=(("kid/x", "below", 1),)))


def test_summary_names_the_values_and_the_decision():
    values = results(
        30.0,
        **{
            "kid/random_embedding": 0.01,
            "warnings": ["too few"],
            "blessed": False,
            "not_blessed_reasons": ["FD 30 > something"],
        },
    )
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


def gate_settings(**overrides):
    """The default config's gate, `overrides` by their PipelineConfig names."""
    return EvaluatorSettings.of(PipelineConfig(**overrides))


def test_precision_and_recall_must_reach_a_fraction_of_real_vs_real():
    values = results(
        40.0,
        **{
            "precision/random_embedding": 0.4,
            "precision/random_embedding_real_vs_real": 0.9,
            "recall/random_embedding": 0.3,
            "recall/random_embedding_real_vs_real": 0.8,
        },
    )
    blessed, reasons = decision(values, gate_settings())
    assert not blessed and reasons == [
        "precision/random_embedding = 0.4 < 0.5 x real-vs-real 0.9 = 0.45"
    ]
    assert decision({**values, "precision/random_embedding": 0.45}, gate_settings()) == (True, [])
    blessed, reasons = decision(
        values, gate_settings(eval_min_precision_fraction=0.0, eval_min_recall_fraction=0.5)
    )
    assert reasons == ["recall/random_embedding = 0.3 < 0.5 x real-vs-real 0.8 = 0.4"]


def test_a_missing_calibration_is_never_blessed_unless_the_condition_is_off():
    values = results(40.0, **{"precision/random_embedding": 0.9, "recall/random_embedding": 0.9})
    blessed, reasons = decision(values, gate_settings())
    assert not blessed and reasons == [
        "precision/random_embedding_real_vs_real was not computed",
        "recall/random_embedding_real_vs_real was not computed",
    ]
    relaxed = dataclasses.replace(
        gate_settings(), eval_min_precision_fraction=0.0, eval_min_recall_fraction=0.0
    )
    assert decision(values, relaxed) == (True, [])


def test_the_real_halves_are_disjoint_random_and_as_large_as_the_reservoir_allows():
    rows = np.arange(20, dtype=np.float64)[:, None]
    full = calibration.split(rows, 10)
    assert full.per_side == 10 and len(full.reference) == 10
    np.testing.assert_array_equal(full.half_a, full.reference)
    assert set(full.half_a[:, 0]).isdisjoint(full.half_b[:, 0])
    assert sorted(np.concatenate([full.half_a, full.half_b])[:, 0]) == list(range(20))
    assert list(full.half_a[:, 0]) != list(range(10))  # shuffled, not the reservoir's order
    short = calibration.split(rows[:15], 10)
    assert short.per_side == 7 and len(short.reference) == 10 and len(short.half_b) == 7
    np.testing.assert_array_equal(short.half_a, short.reference[:7])


def test_the_summary_puts_real_vs_real_next_to_each_value():
    values = results(
        30.0,
        **{
            "precision/random_embedding": 0.002,
            "precision/random_embedding_real_vs_real": 0.91,
            "kid/random_embedding_std": 0.001,
            "kid/random_embedding_real_vs_real_std": 0.0005,
            KEY + "_real_vs_real": 2.5,
            "num_real_vs_real_images": 1500,
            "blessed": True,
            "not_blessed_reasons": [],
        },
    )
    text = summary_text(values, KEY)
    assert "precision/random_embedding: 0.0020 (real vs real 0.9100)" in text
    assert "kid/random_embedding_std: 0.0010 (real vs real 0.0005)" in text
    assert f"{KEY} of real images against other real images: 2.5000 (1500 per side)" in text
    assert "_real_vs_real" not in text
