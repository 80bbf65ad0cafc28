"""The push gate in the whole DAG: a blessed model is pushed; a new model worse than the blessed
baseline (LatestBlessedModelStrategy resolver on) is not. Two runs on a tiny configuration."""

import os

import ml_metadata as mlmd
import pytest
from tfx.orchestration import metadata

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def two_runs(gated_runs):
    """Run 1 blessing a 2-step model; run 2, one step more, worse than that baseline (see
    conftest.gated_runs), and the metadata store."""
    config, (first, _), (second, _) = gated_runs
    store = mlmd.MetadataStore(metadata.sqlite_metadata_connection_config(config.metadata_path))
    return config, first, second, store


def by_id(store, type_name):
    return sorted(store.get_artifacts_by_type(type_name), key=lambda a: a.id)


def test_the_first_model_is_blessed_and_pushed(two_runs):
    config, first, _, _ = two_runs
    assert first.metrics["blessed"] and "fid/random_embedding_baseline" not in first.metrics
    assert first.pushed_model and os.path.isdir(first.pushed_model)
    assert os.listdir(config.serving_model_dir) == [os.path.basename(first.pushed_model)]


def test_a_model_worse_than_the_baseline_is_not_pushed(two_runs):
    config, first, second, store = two_runs
    models = by_id(store, "Model")
    blessings = by_id(store, "ModelBlessing")
    assert len(models) == 2 and len(blessings) == 2
    assert blessings[-1].custom_properties["blessed"].int_value == 0
    assert blessings[-1].custom_properties["current_model_id"].int_value == models[-1].id
    assert blessings[-1].custom_properties["baseline_model_id"].int_value == models[0].id
    assert os.path.exists(os.path.join(blessings[-1].uri, "NOT_BLESSED"))
    assert not second.metrics["blessed"] and second.pushed_model is None
    assert any("baseline" in reason for reason in second.metrics["not_blessed_reasons"])
    assert os.listdir(config.serving_model_dir) == [os.path.basename(first.pushed_model)]


def test_the_second_run_reuses_the_reference_statistics(two_runs):
    _, first, second, _ = two_runs
    assert first.metrics["statistics_cache_hits"] == {
        "real": False,
        "real_vs_real": False,
        "candidate": False,
        "untrained": False,
    }
    hits = second.metrics["statistics_cache_hits"]
    # The baseline is run 1's candidate, whose features were cached when it was scored.
    assert hits["real"] and hits["real_vs_real"] and hits["untrained"] and hits["baseline"]
    for key in ("precision/random_embedding_real_vs_real", "recall/random_embedding_real_vs_real"):
        assert second.metrics[key] == first.metrics[key], key
    assert second.metrics["fid/random_embedding_baseline"] == pytest.approx(
        first.metrics["fid/random_embedding"], rel=1e-9
    )
