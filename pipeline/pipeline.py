"""The DAG, wired once: CelebA folder -> examples -> TFDV -> Transform -> DCGAN -> evaluator -> Pusher.

Runners (local, Kubeflow) build it with `create_pipeline(config, ...)` and differ only in the
orchestrator and metadata connection they hand it.
"""
from __future__ import annotations

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

from tfx import v1 as tfx  # noqa: E402

from components.anomaly_gate import AnomalyGate  # noqa: E402
from components.celeba_example_gen.component import CelebAExampleGen  # noqa: E402
from components.celeba_example_gen.policy import IngestionPolicy  # noqa: E402
from components.gan_evaluator.component import GanEvaluator  # noqa: E402
from pipeline_config import PipelineConfig  # noqa: E402

PREPROCESSING_FN = "trainer_module.preprocessing.preprocessing_fn"
RUN_FN = "trainer_module.run.run_fn"


def create_transform(config: PipelineConfig, examples, schema) -> tfx.components.Transform:
    return tfx.components.Transform(
        examples=examples,
        schema=schema,
        preprocessing_fn=PREPROCESSING_FN,
        custom_config=config.transform_custom_config(),
        disable_statistics=not config.transform_statistics)


def create_components(config: PipelineConfig) -> list:
    example_gen = CelebAExampleGen(data_root=config.data_root,
                                   hash_buckets=config.hash_split_buckets,
                                   policy=IngestionPolicy.from_config(config))
    statistics_gen = tfx.components.StatisticsGen(examples=example_gen.outputs["examples"])
    schema_gen = tfx.components.ImportSchemaGen(schema_file=config.schema_file)
    example_validator = tfx.components.ExampleValidator(
        statistics=statistics_gen.outputs["statistics"], schema=schema_gen.outputs["schema"])
    anomaly_gate = AnomalyGate(anomalies=example_validator.outputs["anomalies"],
                               schema=schema_gen.outputs["schema"])
    transform = create_transform(config, example_gen.outputs["examples"],
                                 anomaly_gate.outputs["checked_schema"])
    trainer = tfx.components.Trainer(
        run_fn=RUN_FN,
        examples=transform.outputs["transformed_examples"],
        transform_graph=transform.outputs["transform_graph"],
        train_args=tfx.proto.TrainArgs(num_steps=config.train_steps),
        eval_args=tfx.proto.EvalArgs(num_steps=0),
        custom_config=config.trainer_custom_config())
    # The latest blessed model, as TFX's templates resolve it; off by default (docs/evaluation.md).
    baseline_resolver = [tfx.dsl.Resolver(
        strategy_class=tfx.dsl.experimental.LatestBlessedModelStrategy,
        model=tfx.dsl.Channel(type=tfx.types.standard_artifacts.Model),
        model_blessing=tfx.dsl.Channel(type=tfx.types.standard_artifacts.ModelBlessing),
    ).with_id("latest_blessed_model_resolver")] if config.eval_compare_with_baseline else []
    evaluator = GanEvaluator(
        model=trainer.outputs["model"],
        transformed_examples=transform.outputs["transformed_examples"],
        transform_graph=transform.outputs["transform_graph"],
        baseline_model=baseline_resolver[0].outputs["model"] if baseline_resolver else None,
        z_dim=config.z_dim,
        generator_variant=config.variant,
        eval_split=config.eval_split,
        num_samples=config.eval_num_samples,
        max_real_images=config.eval_max_real_images,
        batch_size=config.eval_batch_size,
        embedding_seed=config.embedding_seed,
        extractors=config.eval_extractors,
        inception_ttur_path=config.eval_inception_ttur_path,
        inception_keras_weights=config.eval_inception_keras_weights,
        metrics=config.eval_metrics,
        primary_metric=config.eval_primary_metric,
        feature_subset_size=config.eval_feature_subset_size,
        image_subset_size=config.eval_image_subset_size,
        kid_subsets=config.eval_kid_subsets,
        kid_subset_size=config.eval_kid_subset_size,
        swd_patches_per_image=config.eval_swd_patches_per_image,
        ms_ssim_pairs=config.eval_ms_ssim_pairs,
        cache_dir=(os.path.join(config.pipeline_root, "gan_evaluator_cache")
                   if config.eval_cache_statistics else ""),
        thresholds=config.eval_thresholds,
        max_fd_ratio_to_untrained=config.max_fd_ratio_to_untrained,
        min_precision_fraction=config.eval_min_precision_fraction,
        min_recall_fraction=config.eval_min_recall_fraction,
        baseline_fd_tolerance=config.baseline_fd_tolerance,
        grid_size=config.sample_grid_size)
    pusher = tfx.components.Pusher(
        model=trainer.outputs["model"],
        model_blessing=evaluator.outputs["blessing"],
        push_destination=tfx.proto.PushDestination(
            filesystem=tfx.proto.PushDestination.Filesystem(
                base_directory=config.serving_model_dir)))
    return [example_gen, statistics_gen, schema_gen, example_validator, anomaly_gate, transform,
            trainer, *baseline_resolver, evaluator, pusher]


def create_pipeline(config: PipelineConfig, metadata_connection_config=None) -> tfx.dsl.Pipeline:
    return tfx.dsl.Pipeline(
        pipeline_name=config.pipeline_name,
        pipeline_root=config.pipeline_root,
        components=create_components(config),
        enable_cache=config.enable_cache,
        metadata_connection_config=metadata_connection_config,
        beam_pipeline_args=list(config.beam_pipeline_args))
