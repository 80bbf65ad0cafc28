"""How the pipeline wires GanEvaluator: its settings from the config, the optional baseline."""

import json

import pytest
from tfx.dsl.compiler import compiler

from components.gan_evaluator.settings import EvaluatorSettings
from pipeline import kubeflow_runner
from pipeline.pipeline import create_components, create_pipeline
from pipeline_config import KubeflowConfig, PipelineConfig


def evaluator_and_ids(config):
    components = create_components(config)
    evaluator = next(c for c in components if c.id == "GanEvaluator")
    return evaluator, [c.id for c in components]


def test_no_baseline_resolver_by_default():
    evaluator, ids = evaluator_and_ids(PipelineConfig())
    assert "latest_blessed_model_resolver" not in ids
    assert "baseline_model" not in evaluator.inputs


def settings_of(evaluator) -> EvaluatorSettings:
    return EvaluatorSettings.from_json(evaluator.exec_properties["settings"])


def test_the_evaluator_gets_the_configured_settings_as_one_property():
    config = PipelineConfig(
        output_root="/tmp/x",
        eval_metrics=("fid", "swd"),
        eval_thresholds=(("precision/random_embedding", "min", 0.1),),
        eval_cache_statistics=True,
    )
    evaluator, _ = evaluator_and_ids(config)
    assert list(evaluator.exec_properties) == ["settings"]
    settings = settings_of(evaluator)
    assert settings == EvaluatorSettings.of(config)
    assert settings.eval_metrics == ("fid", "swd")
    assert settings.eval_extractors == ("random_embedding",)
    assert settings.eval_thresholds == (("precision/random_embedding", "min", 0.1),)
    assert settings.eval_cache_dir == f"{config.pipeline_root}/gan_evaluator_cache"
    assert settings.variant == config.variant
    uncached, _ = evaluator_and_ids(config.with_overrides(eval_cache_statistics=False))
    assert settings_of(uncached).eval_cache_dir == ""


def test_settings_read_back_refuse_missing_and_unknown_names():
    stored = json.loads(EvaluatorSettings.of(PipelineConfig()).to_json())
    del stored["eval_num_samples"]
    with pytest.raises(ValueError, match=r"missing \['eval_num_samples'\]"):
        EvaluatorSettings.from_json(json.dumps(stored))
    with pytest.raises(ValueError, match=r"unknown \['num_samples'\]"):
        EvaluatorSettings.from_json(json.dumps({**stored, "eval_num_samples": 1, "num_samples": 1}))


def test_the_gate_against_real_vs_real_follows_the_config():
    # 2 x 1500 fits the built-in set's 3,214 training images: one half per comparison side.
    default = settings_of(evaluator_and_ids(PipelineConfig(output_root="/tmp/x"))[0])
    assert default.eval_feature_subset_size == 1500
    assert default.eval_min_precision_fraction == 0.5
    assert default.eval_min_recall_fraction == 0.3
    stricter = settings_of(
        evaluator_and_ids(
            PipelineConfig(
                output_root="/tmp/x", eval_min_precision_fraction=0.8, eval_min_recall_fraction=0.0
            )
        )[0]
    )
    assert stricter.eval_min_precision_fraction == 0.8
    assert stricter.eval_min_recall_fraction == 0.0
    with pytest.raises(ValueError, match="min_recall_fraction"):
        create_components(PipelineConfig(eval_min_recall_fraction=-0.1))


def test_the_switch_adds_a_latest_blessed_model_resolver_feeding_the_baseline(tmp_path):
    config = PipelineConfig(output_root=str(tmp_path), eval_compare_with_baseline=True)
    evaluator, ids = evaluator_and_ids(config)
    resolver = "latest_blessed_model_resolver"
    assert ids.index("Trainer") < ids.index(resolver) < ids.index("GanEvaluator")
    assert evaluator.inputs["baseline_model"].producer_component_id == resolver
    ir = compiler.Compiler().compile(create_pipeline(config))
    nodes = {node.pipeline_node.node_info.id: node.pipeline_node for node in ir.nodes}
    assert "baseline_model" in nodes["GanEvaluator"].inputs.inputs
    assert nodes["GanEvaluator"].inputs.inputs["baseline_model"].min_count == 0


def test_a_bad_primary_metric_fails_when_the_pipeline_is_built():
    with pytest.raises(ValueError, match="primary metric"):
        create_components(PipelineConfig(eval_primary_metric="fid/inception_ttur"))


def test_the_baseline_resolver_compiles_for_kubeflow(tmp_path):
    kubeflow = KubeflowConfig(spec_path=str(tmp_path / "job.json"))
    config = kubeflow.pipeline_config(PipelineConfig(eval_compare_with_baseline=True))
    job = kubeflow_runner.compile_pipeline(config, kubeflow)
    tasks = job["pipelineSpec"]["root"]["dag"]["tasks"]
    baseline = tasks["GanEvaluator"]["inputs"]["artifacts"]["baseline_model"]
    producer = baseline["taskOutputArtifact"]["producerTask"]
    assert producer.startswith("latest_blessed_model_resolver")
