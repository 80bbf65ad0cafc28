"""The evaluator's decision rule and fixed latent points; the full executor runs in the e2e test."""
import numpy as np

from components.gan_evaluator.executor import blessing_decision, latent_batches, summary_text


def test_blessed_only_when_clearly_better_than_untrained():
    assert blessing_decision(40.0, 100.0, None, 0.5, 0.1) == (True, [])
    blessed, reasons = blessing_decision(60.0, 100.0, None, 0.5, 0.1)
    assert not blessed and "untrained" in reasons[0]


def test_not_blessed_when_worse_than_baseline_beyond_tolerance():
    assert blessing_decision(40.0, 100.0, 37.0, 0.5, 0.1)[0]  # 40 <= 1.1 * 37
    blessed, reasons = blessing_decision(45.0, 100.0, 37.0, 0.5, 0.1)
    assert not blessed and "baseline" in reasons[0]


def test_non_finite_distance_is_never_blessed():
    blessed, reasons = blessing_decision(float("nan"), 100.0, None, 0.5, 0.1)
    assert not blessed and "not finite" in reasons[0]


def test_latent_batches_are_fixed_and_cover_every_sample():
    first, again = latent_batches(10, 100, 4, seed=1), latent_batches(10, 100, 4, seed=1)
    assert [len(b) for b in first] == [4, 4, 2]
    np.testing.assert_array_equal(np.concatenate(first), np.concatenate(again))
    assert np.concatenate(first).dtype == np.float32
    assert not np.array_equal(np.concatenate(first), np.concatenate(latent_batches(10, 100, 4, 2)))


def test_summary_names_the_decision():
    key = "fd/random_embedding"
    results = {key: 30.0, key + "_untrained": 100.0, key + "_ratio_to_untrained": 0.3,
               "blessed": False, "not_blessed_reasons": ["FD 30 > something"]}
    text = summary_text(results, key)
    assert "30.0000" in text and "NOT BLESSED: FD 30 > something" in text
