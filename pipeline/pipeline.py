"""The DAG, wired once: CelebA folder -> examples -> TFDV -> Transform -> DCGAN -> evaluator ->
Pusher.

Runners (local, Kubeflow) build it with `create_pipeline(config, ...)` and differ only in the
orchestrator and metadata connection they hand it.
"""

from __future__ import annotations

from tfx import v1 as tfx

import common as ids
from components.anomaly_gate import AnomalyGate
from components.celeba_example_gen.component import CelebAExampleGen
from components.celeba_example_gen.policy import IngestionPolicy
from components.gan_evaluator.component import GanEvaluator
from components.gan_evaluator.settings import EvaluatorSettings
from pipeline_config import PipelineConfig
from trainer_module.settings import TrainerSettings

PREPROCESSING_FN = "trainer_module.preprocessing.preprocessing_fn"
RUN_FN = "trainer_module.run.run_fn"


def create_transform(config: PipelineConfig, examples, schema) -> tfx.components.Transform:
    """Decode, crop and resize the faces to 64x64 PNGs; pass the attributes on."""
    return tfx.components.Transform(
        examples=examples,
        schema=schema,
        preprocessing_fn=PREPROCESSING_FN,
        custom_config=config.transform_custom_config(),
        disable_statistics=not config.transform_statistics,
    ).with_id(ids.TRANSFORM)


def create_components(config: PipelineConfig) -> list:
    # Reads the CelebA folder (images, attribute and partition lists) into tf.Examples, splits
    # them, sets bad files aside with a reason and stops the run when too many are bad.
    example_gen = CelebAExampleGen(
        data_root=config.data_root,
        hash_buckets=config.hash_split_buckets,
        policy=IngestionPolicy.of(config),
    ).with_id(ids.EXAMPLE_GEN)
    # The curated schema (schema/schema.pbtxt), not one inferred from the first data seen.
    schema_gen = tfx.components.ImportSchemaGen(schema_file=config.schema_file).with_id(
        ids.SCHEMA_GEN
    )
    # TFDV statistics of every split, and their check against the schema.
    statistics_gen = tfx.components.StatisticsGen(
        examples=example_gen.outputs["examples"], schema=schema_gen.outputs["schema"]
    ).with_id(ids.STATISTICS_GEN)
    example_validator = tfx.components.ExampleValidator(
        statistics=statistics_gen.outputs["statistics"], schema=schema_gen.outputs["schema"]
    ).with_id(ids.EXAMPLE_VALIDATOR)
    # Stops the run on anomalies: Transform reads the schema only through it.
    anomaly_gate = AnomalyGate(
        anomalies=example_validator.outputs["anomalies"], schema=schema_gen.outputs["schema"]
    ).with_id(ids.ANOMALY_GATE)
    transform = create_transform(
        config, example_gen.outputs["examples"], anomaly_gate.outputs["checked_schema"]
    )
    # The DCGAN (trainer_module/run.py: run_fn), exported as the generator's SavedModel.
    trainer = tfx.components.Trainer(
        run_fn=RUN_FN,
        examples=transform.outputs["transformed_examples"],
        transform_graph=transform.outputs["transform_graph"],
        train_args=tfx.proto.TrainArgs(num_steps=config.train_steps),
        eval_args=tfx.proto.EvalArgs(num_steps=0),
        custom_config=TrainerSettings.of(config).to_custom_config(),
    ).with_id(ids.TRAINER)
    # The latest blessed model, as TFX's templates resolve it; off by default (docs/evaluation.md).
    baseline_resolver = (
        [
            tfx.dsl.Resolver(
                strategy_class=tfx.dsl.experimental.LatestBlessedModelStrategy,
                model=tfx.dsl.Channel(type=tfx.types.standard_artifacts.Model),
                model_blessing=tfx.dsl.Channel(type=tfx.types.standard_artifacts.ModelBlessing),
            ).with_id(ids.BASELINE_RESOLVER)
        ]
        if config.eval_compare_with_baseline
        else []
    )
    # Scores the generator against real faces and the untrained generator; blesses it or not.
    evaluator = GanEvaluator(
        model=trainer.outputs["model"],
        transformed_examples=transform.outputs["transformed_examples"],
        transform_graph=transform.outputs["transform_graph"],
        baseline_model=baseline_resolver[0].outputs["model"] if baseline_resolver else None,
        settings=EvaluatorSettings.of(config),
    ).with_id(ids.EVALUATOR)
    # Copies a blessed model to the serving folder; an unblessed one stays where it is.
    pusher = tfx.components.Pusher(
        model=trainer.outputs["model"],
        model_blessing=evaluator.outputs["blessing"],
        push_destination=tfx.proto.PushDestination(
            filesystem=tfx.proto.PushDestination.Filesystem(base_directory=config.serving_model_dir)
        ),
    ).with_id(ids.PUSHER)
    return [
        example_gen,
        statistics_gen,
        schema_gen,
        example_validator,
        anomaly_gate,
        transform,
        trainer,
        *baseline_resolver,
        evaluator,
        pusher,
    ]


def create_pipeline(config: PipelineConfig, metadata_connection_config=None) -> tfx.dsl.Pipeline:
    return tfx.dsl.Pipeline(
        pipeline_name=config.pipeline_name,
        pipeline_root=config.pipeline_root,
        components=create_components(config),
        enable_cache=config.enable_cache,
        metadata_connection_config=metadata_connection_config,
        beam_pipeline_args=list(config.beam_pipeline_args),
    )
