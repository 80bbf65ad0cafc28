"""One declaration per setting: every PipelineConfig field reaches the pipeline, under its name.

Each field is changed on its own and the pipeline built from the config must differ in what it
hands its components (exec properties, custom_config, the pipeline's own arguments). A field
nobody reads fails here.
"""

import ast
import dataclasses
import json
import typing
from pathlib import Path

import pytest

from pipeline.pipeline import create_pipeline
from pipeline_config import PipelineConfig
from trainer_module.settings import TrainerSettings

# Outputs in a scratch folder; data in a folder without CelebA's partition file, so that the
# hash split's weights are used.
DEFAULT = PipelineConfig(output_root="/tmp/settings/out", data_root="/tmp/settings/no-data")

# Read by the local runner before the pipeline starts (it generates the built-in set).
RUNNER_FIELDS = {
    "synthetic_num_images": "config.synthetic_num_images",
    "synthetic_seed": "config.synthetic_seed",
}

# A valid different value where "the old one, changed" would not be one.
OTHER_VALUES = {
    "beam_pipeline_args": ("--runner=DirectRunner",),
    "hash_split_buckets": (7, 2, 1),
    "allowed_image_formats": ("PNG",),
    "crop_mode": "center_108",
    "image_size": 128,  # checked as the settings are built: a power of two from 32
    "loss": "least_squares",
    "variant": "paper",
    "distribute_strategy": "mirrored",
    "precision": "mixed_float16",
    "eval_split": "eval",
    "eval_extractors": ("random_embedding", "inception_keras"),
    "eval_metrics": ("fid",),
    "eval_primary_metric": "kid/random_embedding",
    "eval_thresholds": (("precision/random_embedding", "min", 0.1),),
    "attributes": ("Smiling", "Eyeglasses"),
}


def other_value(field: dataclasses.Field, value):
    if field.name in OTHER_VALUES:
        return OTHER_VALUES[field.name]
    hint = typing.get_type_hints(PipelineConfig)[field.name]
    if typing.get_origin(hint) is typing.Literal:  # a choice: another of its values
        return next(choice for choice in typing.get_args(hint) if choice != value)
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return value + 1
    if isinstance(value, str):
        return value + "_other"
    raise AssertionError(f"no other value for {field.name}={value!r}: add one to OTHER_VALUES")


def what_the_pipeline_hands_on(config: PipelineConfig) -> dict:
    pipeline = create_pipeline(config)
    handed = {
        "pipeline": [
            pipeline.pipeline_info.pipeline_name,
            pipeline.pipeline_info.pipeline_root,
            pipeline.enable_cache,
            pipeline.beam_pipeline_args,
        ]
    }
    for component in pipeline.components:
        handed[component.id] = {
            name: str(value) for name, value in component.exec_properties.items()
        }
    return json.loads(json.dumps(handed, default=str))


@pytest.mark.parametrize(
    "field",
    [f for f in dataclasses.fields(PipelineConfig) if f.name not in RUNNER_FIELDS],
    ids=lambda f: f.name,
)
def test_every_setting_reaches_the_pipeline(field):
    default = DEFAULT
    changed = default.with_overrides(
        **{field.name: other_value(field, getattr(default, field.name))}
    )
    assert what_the_pipeline_hands_on(changed) != what_the_pipeline_hands_on(default), (
        f"PipelineConfig.{field.name} reaches no component"
    )


def test_the_runner_only_settings_are_read_by_the_runner():
    source = (Path(__file__).resolve().parent.parent / "pipeline" / "run_local.py").read_text()
    for name, use in RUNNER_FIELDS.items():
        assert use in source, name
        default = DEFAULT
        changed = default.with_overrides(**{name: getattr(default, name) + 1})
        assert what_the_pipeline_hands_on(changed) == what_the_pipeline_hands_on(default), name


def test_trainer_settings_carry_the_config_names_and_values():
    config = PipelineConfig(batch_size=16, loss="least_squares", train_seed=3)
    settings = TrainerSettings.of(config)
    for field in dataclasses.fields(TrainerSettings):
        if field.name != "checkpoint_root":  # derived from the pipeline root
            assert getattr(settings, field.name) == getattr(config, field.name), field.name
    assert settings.checkpoint_root.startswith(config.pipeline_root)


def test_trainer_settings_travel_as_json_and_come_back_whole():
    settings = TrainerSettings.of(PipelineConfig(real_label=0.9))
    custom_config = json.loads(json.dumps(settings.to_custom_config()))  # as TFX stores it
    assert TrainerSettings.from_custom_config(custom_config) == settings
    missing = dict(custom_config)
    del missing["real_label"]
    with pytest.raises(ValueError, match=r"missing \['real_label'\]"):
        TrainerSettings.from_custom_config(missing)
    with pytest.raises(ValueError, match=r"unknown \['learning_rate'\]"):
        TrainerSettings.from_custom_config({**custom_config, "learning_rate": 1e-3})


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"conditional": True, "attributes": ()}, "needs attributes to be conditioned on"),
        ({"conditional": True, "conditioning": "hypernetwork"}, "conditioning must be one of"),
        (
            {"conditional": True, "conditioning": "auxiliary", "d_attribute_weight": 0.0},
            "d_attribute_weight must be > 0",
        ),
        (
            {
                "conditional": True,
                "conditioning": "auxiliary",
                "d_attribute_weight": 1.0,
                "mismatch_weight": 0.5,
            },
            "mismatch_weight needs a D that reads the codes",
        ),
    ],
)
def test_a_conditional_model_without_attributes_or_a_known_conditioning_stops_the_build(
    overrides, message
):
    with pytest.raises(ValueError, match=message):
        TrainerSettings.of(PipelineConfig(**overrides))


def test_every_setting_is_declared_once():
    """A field name is annotated in one class only: the section groups own their settings, the
    config and the settings objects compose them, nothing declares a setting again."""
    from components.celeba_example_gen.policy import IngestionPolicy
    from components.gan_evaluator.settings import EvaluatorSettings

    declared = {}
    for composed in (PipelineConfig, TrainerSettings, EvaluatorSettings, IngestionPolicy):
        for klass in composed.__mro__:
            for name in vars(klass).get("__annotations__", {}):
                declared.setdefault(name, set()).add(klass.__qualname__)
    twice = {name: sorted(owners) for name, owners in declared.items() if len(owners) > 1}
    assert twice == {}
    assert declared["batch_size"] == {"TrainerFields"}
    assert declared["z_dim"] == {"ModelShape"}  # the Trainer's and the evaluator's, once


def test_the_dcgan_takes_its_settings_without_defaults():
    """DCGAN's hyperparameters come from TrainerSettings only: no constructor default that could
    disagree with the config's."""
    import inspect

    from trainer_module.conditional_dcgan import ConditionalDCGAN
    from trainer_module.dcgan import DCGAN

    for model in (DCGAN, ConditionalDCGAN):
        parameters = [
            p
            for p in list(inspect.signature(model.__init__).parameters.values())[3:]
            if p.kind is not inspect.Parameter.VAR_KEYWORD
        ]  # the DCGAN's, passed on
        assert parameters and all(p.default is inspect.Parameter.empty for p in parameters)
        assert {p.name for p in parameters} <= {f.name for f in dataclasses.fields(TrainerSettings)}


CHOICES = ["variant", "loss", "conditioning", "distribute_strategy", "precision", "crop_mode"]


@pytest.mark.parametrize("name", CHOICES)
def test_a_mistyped_choice_stops_the_config_being_built_naming_the_field_and_its_values(name):
    """A choice is a Literal, checked once as the config is built (common.check_choices): not
    inside run_fn or Transform minutes later."""
    allowed = typing.get_args(typing.get_type_hints(PipelineConfig)[name])
    with pytest.raises(ValueError) as refused:
        PipelineConfig(**{name: "nonsense"})
    assert str(refused.value) == f"{name} must be one of {allowed}, not 'nonsense'"
    if name != "crop_mode":  # the Trainer's settings, read back in run_fn, check theirs too
        with pytest.raises(ValueError, match=f"^{name} must be one of"):
            dataclasses.replace(TrainerSettings.of(PipelineConfig()), **{name: "nonsense"})


def test_the_kubeflow_config_checks_its_beam_runner():
    from pipeline_config import KubeflowConfig

    with pytest.raises(
        ValueError,
        match=r"^beam_runner must be one of \('direct', 'dataflow', "
        r"'flink'\), not 'spark'$",
    ):
        KubeflowConfig(beam_runner="spark")


def test_the_code_acts_on_exactly_the_choices_the_settings_declare():
    """Each choice is declared once, as a Literal in pipeline_config.py; the code's own
    tables of them are read from there, or (the losses) must name the same ones."""
    import pipeline_config as choices
    from trainer_module import dcgan, distribution, networks, precision, preprocessing

    assert tuple(dcgan.LOSSES) == typing.get_args(choices.Loss)
    assert networks.VARIANTS == typing.get_args(choices.Variant)
    assert networks.CONDITIONINGS == typing.get_args(choices.Conditioning)
    assert distribution.STRATEGIES == typing.get_args(choices.DistributeStrategy)
    assert precision.PRECISIONS == typing.get_args(choices.Precision)
    assert preprocessing.CROP_MODES == typing.get_args(choices.CropMode)


def test_batch_size_reaches_the_trainers_batches_in_three_hops(tmp_path):
    """From the one line that declares it in pipeline_config.py to the batches the Trainer
    trains on, a setting changes hands three times: the Trainer component's custom_config
    (TrainerSettings.of, when the pipeline is built), run_fn's settings read back from it, and
    the dataset run_fn batches by them. Each hand-off is followed here with a value no default
    has."""
    import tensorflow_transform as tft
    from standalone import trainer_fn_args
    from test_trainer_quality import transformed_examples

    import pipeline_config
    from trainer_module import run

    source = Path(pipeline_config.__file__).read_text(encoding="utf-8")
    declared = [
        node
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", "") == "batch_size"
    ]
    assert len(declared) == 1  # set in one place, with its default

    config = DEFAULT.with_overrides(batch_size=7)
    hops = []
    trainer = next(node for node in create_pipeline(config).components if node.id == "Trainer")
    custom_config = json.loads(trainer.exec_properties["custom_config"])
    hops.append(("the Trainer's custom_config", custom_config["batch_size"]))
    settings = run.trainer_settings(custom_config)
    hops.append(("run_fn's TrainerSettings", settings.batch_size))
    fn_args = trainer_fn_args(*transformed_examples(tmp_path, 16), settings)
    dataset = run.image_dataset(
        fn_args.train_files,
        fn_args.data_accessor,
        tft.TFTransformOutput(fn_args.transform_graph_path),
        settings.batch_size,
        settings.image_size,
        settings.train_seed,
        settings.shuffle_buffer,
    )
    hops.append(("the Trainer's batches", int(next(iter(dataset)).shape[0])))
    assert hops == [(holder, 7) for holder, _ in hops]
    assert len(hops) <= 3
