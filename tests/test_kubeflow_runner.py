"""The Kubeflow Pipelines / Vertex AI compile, the KFP submission, and the image's Dockerfile.

The compiled PipelineJob is read back as JSON and checked for what a cluster run depends on. The
submission goes to a stand-in for the KFP API server on 127.0.0.1 that records what kfp.Client
sends; it serves for a bounded time and stops by itself.
"""

import tf_environment

import dataclasses
import email
import functools
import http.server
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

import pytest
import yaml

import pipeline_config
from components.celeba_example_gen.policy import IngestionPolicy
from components.gan_evaluator.settings import EvaluatorSettings
from pipeline import kfp_submit, kubeflow_runner
from pipeline_config import KubeflowConfig, PipelineConfig
from trainer_module.settings import TrainerSettings

REPO_ROOT = Path(__file__).resolve().parent.parent

# Each component's input channels and the task producing them: the DAG's edges.
INPUT_PRODUCERS = {
    "CelebAExampleGen": {},
    "StatisticsGen": {"examples": "CelebAExampleGen", "schema": "ImportSchemaGen"},
    "ImportSchemaGen": {},
    "ExampleValidator": {"statistics": "StatisticsGen", "schema": "ImportSchemaGen"},
    "AnomalyGate": {"anomalies": "ExampleValidator", "schema": "ImportSchemaGen"},
    "Transform": {"examples": "CelebAExampleGen", "schema": "AnomalyGate"},
    "Trainer": {"examples": "Transform", "transform_graph": "Transform"},
    "GanEvaluator": {
        "model": "Trainer",
        "transformed_examples": "Transform",
        "transform_graph": "Transform",
    },
    "Pusher": {"model": "Trainer", "model_blessing": "GanEvaluator"},
}
BEAM_COMPONENTS = ("CelebAExampleGen", "StatisticsGen", "Transform")

# kfp.Client's notice about server versions, and its generated client's urllib3 calls.
pytestmark = [
    pytest.mark.filterwarnings("ignore:This client only works:FutureWarning"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:kfp_server_api"),
]


def cluster_config(tmp_path) -> KubeflowConfig:
    """Settings that differ from the defaults, so the spec shows they were used."""
    return KubeflowConfig(
        image="registry.test/celeba-dcgan:1",
        spec_path=str(tmp_path / "job.json"),
        beam_runner="dataflow",
        gcp_project="test-project",
        gcp_region="europe-west4",
        trainer_gpu_count=2,
        trainer_gpu_type="nvidia.com/gpu",
        trainer_cpu=6.0,
        trainer_memory_gb=24.0,
    ).with_overrides(
        output_root="gs://test-bucket/celeba-dcgan",
        data_root="gs://test-bucket/celeba",
        train_steps=1234,
    )


@pytest.fixture(scope="module")
def kubeflow(module_tmp):
    return cluster_config(module_tmp("kubeflow"))


@pytest.fixture(scope="module")
def compiled(kubeflow):
    """The PipelineJob as the runner wrote it to disk."""
    kubeflow_runner.compile_pipeline(kubeflow.pipeline_config(), kubeflow)
    return json.loads(Path(kubeflow.spec_path).read_text())


def tasks(job):
    return job["pipelineSpec"]["root"]["dag"]["tasks"]


def container(job, task_name):
    component = job["pipelineSpec"]["components"][tasks(job)[task_name]["componentRef"]["name"]]
    executors = job["pipelineSpec"]["deploymentSpec"]["executors"]
    return executors[component["executorLabel"]]["container"]


def parameter(job, task_name, name):
    """A constant exec property of a task; the spec writes integers as strings."""
    constant = tasks(job)[task_name]["inputs"]["parameters"][name]["runtimeValue"]["constantValue"]
    [(kind, value)] = constant.items()
    return int(value) if kind == "intValue" else value


def contains_in_order(args, expected):
    """True when `expected` appears in `args` as one unbroken run."""
    size = len(expected)
    return any(args[i : i + size] == list(expected) for i in range(len(args) - size + 1))


# --- The compiled spec ------------------------------------------------------------------------


def test_every_component_is_compiled_with_its_upstream_edges(compiled):
    assert set(tasks(compiled)) == set(INPUT_PRODUCERS)
    for name, producers in INPUT_PRODUCERS.items():
        task = tasks(compiled)[name]
        inputs = task.get("inputs", {}).get("artifacts", {})
        assert {
            key: spec["taskOutputArtifact"]["producerTask"] for key, spec in inputs.items()
        } == producers, name
        assert set(task.get("dependentTasks", [])) == set(producers.values()), name


def test_every_executor_runs_the_configured_image(compiled, kubeflow):
    executors = compiled["pipelineSpec"]["deploymentSpec"]["executors"]
    assert len(executors) == len(INPUT_PRODUCERS)
    assert {executor["container"]["image"] for executor in executors.values()} == {kubeflow.image}


def test_the_beam_steps_get_the_configured_runner_arguments(compiled, kubeflow):
    beam_args = kubeflow.beam_pipeline_args()
    assert "--runner=DataflowRunner" in beam_args
    for name in BEAM_COMPONENTS:
        assert contains_in_order(container(compiled, name)["args"], beam_args), name
    # ExampleGen's driver resolves the input span on the cluster with the same arguments.
    driver = container(compiled, "CelebAExampleGen")["lifecycle"]["preCacheCheck"]
    assert contains_in_order(driver["args"], beam_args)


def test_the_trainer_gets_its_hyperparameters_and_a_gpu_node(compiled, kubeflow):
    config = kubeflow.pipeline_config()
    custom_config = json.loads(parameter(compiled, "Trainer", "custom_config"))
    assert custom_config == TrainerSettings.of(config).to_custom_config()
    train_args = json.loads(parameter(compiled, "Trainer", "train_args"))
    assert train_args == {"num_steps": kubeflow.overrides["train_steps"]}
    assert container(compiled, "Trainer")["resources"] == {
        "cpuLimit": 6.0,
        "memoryLimit": 24.0,
        "accelerator": {"type": "nvidia.com/gpu", "count": "2"},
    }
    others = set(INPUT_PRODUCERS) - {"Trainer"}
    assert not [name for name in others if "resources" in container(compiled, name)]


def test_the_gan_evaluator_gets_its_settings_as_one_parameter(compiled, kubeflow):
    config = kubeflow.pipeline_config()
    stored = parameter(compiled, "GanEvaluator", "settings")
    assert EvaluatorSettings.from_json(stored) == EvaluatorSettings.of(config)
    assert EvaluatorSettings.of(config).eval_cache_dir.startswith(kubeflow.output_root + "/")


def test_storage_comes_from_the_kubeflow_config(compiled, kubeflow):
    config = kubeflow.pipeline_config()
    assert compiled["runtimeConfig"]["gcsOutputDirectory"] == config.pipeline_root
    assert config.pipeline_root.startswith(kubeflow.output_root + "/")
    assert parameter(compiled, "CelebAExampleGen", "input_base") == kubeflow.overrides["data_root"]
    # A gs:// data root is taken to be in the published layout: CelebA's own splits.
    splits = json.loads(parameter(compiled, "CelebAExampleGen", "input_config"))["splits"]
    assert [(split["name"], split["pattern"]) for split in splits] == [
        ("train", "img_align_celeba/*"),
        ("eval", "img_align_celeba/*"),
        ("test", "img_align_celeba/*"),
    ]
    destination = json.loads(parameter(compiled, "Pusher", "push_destination"))
    assert destination["filesystem"]["base_directory"] == config.serving_model_dir


def test_caching_follows_the_pipeline_config(compiled, tmp_path):
    assert all(task["cachingOptions"]["enableCache"] for task in tasks(compiled).values())
    kubeflow = cluster_config(tmp_path)
    uncached = kubeflow_runner.compile_pipeline(
        kubeflow.pipeline_config(PipelineConfig(enable_cache=False)), kubeflow
    )
    assert not [name for name, task in tasks(uncached).items() if "cachingOptions" in task]


def test_a_stated_layout_overrides_the_remote_default():
    from components.celeba_example_gen.component import CelebAExampleGen

    example_gen = CelebAExampleGen(
        data_root="gs://test-bucket/flat",
        hash_buckets=(6, 2, 2),
        policy=IngestionPolicy.of(PipelineConfig()),
        use_partition_file=False,
        use_image_dir=False,
    )
    input_config = json.loads(example_gen.exec_properties["input_config"])
    output_config = json.loads(example_gen.exec_properties["output_config"])
    assert input_config["splits"] == [{"name": "images", "pattern": "*"}]
    assert [split["hash_buckets"] for split in output_config["split_config"]["splits"]] == [6, 2, 2]


# --- Multi-worker training -------------------------------------------------------------------


def executor_class_path(job, task_name) -> str:
    args = container(job, task_name)["args"]
    return args[args.index("--executor_class_path") + 1]


def class_path(executor_spec) -> str:
    return f"{executor_spec.executor_class.__module__}.{executor_spec.executor_class.__name__}"


def test_several_workers_train_as_one_vertex_ai_custom_job(compiled, tmp_path):
    """trainer_worker_count > 1: the Trainer is TFX's Vertex AI Trainer, whose pod starts a
    custom job of a chief and the other workers (Vertex AI sets their TF_CONFIG), and run_fn
    reads multi-worker training from the same custom_config."""
    from tfx import v1 as tfx

    from trainer_module import run

    vertex = tfx.extensions.google_cloud_ai_platform
    kubeflow = dataclasses.replace(
        cluster_config(tmp_path),
        trainer_worker_count=3,
        trainer_gpu_type="NVIDIA_TESLA_T4",
        trainer_gpu_count=2,
        trainer_machine_type="n1-standard-16",
    )
    job = kubeflow_runner.compile_pipeline(kubeflow.pipeline_config(), kubeflow)
    assert executor_class_path(job, "Trainer") == class_path(vertex.Trainer.EXECUTOR_SPEC)
    assert executor_class_path(compiled, "Trainer") == class_path(
        tfx.components.Trainer.EXECUTOR_SPEC
    )  # one worker: the Trainer's own pod trains
    assert "resources" not in container(job, "Trainer")  # the pod only starts the job, waits

    custom_config = json.loads(parameter(job, "Trainer", "custom_config"))
    training_args = custom_config[vertex.TRAINING_ARGS_KEY]
    pools = training_args["job_spec"]["worker_pool_specs"]
    assert [pool["replica_count"] for pool in pools] == [1, 2]  # the chief, the other workers
    for pool in pools:
        assert pool["machine_spec"] == {
            "machine_type": "n1-standard-16",
            "accelerator_count": 2,
            "accelerator_type": "NVIDIA_TESLA_T4",
        }
        assert pool["container_spec"] == {"image_uri": kubeflow.image}
    assert training_args["job_spec"]["scheduling"] == {"restart_job_on_worker_restart": True}
    assert training_args["project"] == "test-project"
    assert custom_config[vertex.ENABLE_VERTEX_KEY] is True
    assert custom_config[vertex.VERTEX_REGION_KEY] == "europe-west4"

    settings = run.trainer_settings(custom_config)  # what run_fn reads on every replica
    assert settings == TrainerSettings.of(kubeflow.pipeline_config())
    assert settings.distribute_strategy == "multi_worker"
    assert set(custom_config) - set(settings.to_custom_config()) == set(run.CLOUD_TRAINER_KEYS)
    assert tasks(job)["Trainer"]["dependentTasks"] == tasks(compiled)["Trainer"]["dependentTasks"]
    for consumer in ("GanEvaluator", "Pusher"):
        assert tasks(job)[consumer]["inputs"] == tasks(compiled)[consumer]["inputs"], consumer


def test_workers_are_asked_for_on_the_command_line_with_a_vertex_accelerator_name(tmp_path):
    args = kubeflow_runner.parse_args(["--workers", "4"])
    assert kubeflow_runner.kubeflow_config_from_args(args).trainer_worker_count == 4
    kubeflow = dataclasses.replace(cluster_config(tmp_path), trainer_worker_count=2)
    assert kubeflow.trainer_gpu_type == "nvidia.com/gpu"  # Kubernetes' name, not Vertex AI's
    with pytest.raises(ValueError, match="accelerator name such as NVIDIA_TESLA_T4"):
        kubeflow_runner.compile_pipeline(kubeflow.pipeline_config(), kubeflow)


# --- The Beam arguments for each runner -----------------------------------------------------


def test_beam_arguments_for_dataflow_flink_and_direct():
    dataflow = (
        KubeflowConfig(image="img:1", gcp_project="p", gcp_region="r", beam_runner="dataflow")
        .with_overrides(output_root="gs://b/root")
        .beam_pipeline_args()
    )
    for arg in (
        "--runner=DataflowRunner",
        "--project=p",
        "--region=r",
        "--temp_location=gs://b/root/beam/temp",
        "--staging_location=gs://b/root/beam/staging",
        "--sdk_container_image=img:1",
        "--sdk_location=container",
    ):
        assert arg in dataflow
    flink = KubeflowConfig(
        beam_runner="flink",
        flink_master="jm:8081",
        flink_environment_type="EXTERNAL",
        flink_environment_config="localhost:50000",
    ).beam_pipeline_args()
    for arg in (
        "--runner=FlinkRunner",
        "--flink_master=jm:8081",
        "--environment_type=EXTERNAL",
        "--environment_config=localhost:50000",
    ):
        assert arg in flink
    assert "--runner=DirectRunner" in KubeflowConfig(beam_runner="direct").beam_pipeline_args()
    with pytest.raises(ValueError, match="beam_runner"):
        KubeflowConfig(beam_runner="spark").beam_pipeline_args()


def test_the_cluster_config_changes_only_storage_data_steps_beam_and_schema_path():
    kubeflow = KubeflowConfig()
    config, local = kubeflow.pipeline_config(), PipelineConfig()
    changed = {
        field.name
        for field in dataclasses.fields(PipelineConfig)
        if getattr(config, field.name) != getattr(local, field.name)
    }
    assert changed == {
        "output_root",
        "data_root",
        "synthetic_num_images",
        "train_steps",
        "beam_pipeline_args",
        "schema_file",
    }
    assert config.schema_file == "/pipeline/schema/schema.pbtxt"  # inside the image
    assert config.beam_pipeline_args == kubeflow.beam_pipeline_args()
    assert (config.data_root, config.synthetic_num_images) == (kubeflow.overrides["data_root"], 0)


# --- Entry points: the script and the TFX CLI -------------------------------------------------


def test_the_script_writes_the_job_and_the_kfp_package(tmp_path, capsys):
    spec_path = tmp_path / "out" / "celeba.json"
    assert kubeflow_runner.main(["--spec-path", str(spec_path)]) == 0
    job = json.loads(spec_path.read_text())
    package = yaml.safe_load(spec_path.with_suffix(".yaml").read_text())
    assert package == job["pipelineSpec"]
    assert container(job, "Trainer")["image"] == KubeflowConfig().image
    printed = capsys.readouterr().out
    assert str(spec_path) in printed and str(spec_path.with_suffix(".yaml")) in printed


def test_the_tfx_cli_vertex_handler_compiles_the_runner(tmp_path, monkeypatch):
    """`tfx pipeline create --engine vertex --pipeline_path
    pipeline/kubeflow_runner.py`."""
    from tfx.tools.cli import labels
    from tfx.tools.cli.handler import vertex_handler

    monkeypatch.setattr(sys, "path", list(sys.path))  # the handler and the script both edit it
    monkeypatch.setenv("VERTEX_HOME", str(tmp_path / "vertex_home"))
    monkeypatch.setattr(
        pipeline_config,
        "KubeflowConfig",
        functools.partial(KubeflowConfig, spec_path=str(tmp_path / "job.json")),
    )
    vertex_handler.VertexHandler(
        {
            labels.ENGINE_FLAG: "vertex",
            labels.PIPELINE_DSL_PATH: str(REPO_ROOT / "pipeline" / "kubeflow_runner.py"),
        }
    ).create_pipeline()
    job = json.loads((tmp_path / "vertex_home" / "celeba-dcgan" / "pipeline.json").read_text())
    assert set(tasks(job)) == set(INPUT_PRODUCERS)


# --- Submission to Kubeflow Pipelines -------------------------------------------------------


class FakeKfpApi:
    """The KFP v2beta1 API reduced to the calls kfp.Client makes to upload and run a pipeline:
    pipelines, versions, experiments and runs kept in memory, every request recorded."""

    def __init__(self):
        self.requests = []  # (method, path, query)
        self.uploads = []  # (path, query, uploaded file bytes)
        self.runs = []  # the run bodies
        self.pipelines = {}  # display name -> id
        self.versions = {}  # pipeline id -> version ids, oldest first
        self.experiments = {}  # display name -> id

    def answer(self, method, path, query, body, content_type):
        self.requests.append((method, path, query))
        route = (method, re.sub(r"/pipelines/[^/]+/versions$", "/pipelines/ID/versions", path))
        if route == ("GET", "/apis/v2beta1/healthz"):
            return {"multi_user": False}
        if route == ("GET", "/apis/v2beta1/pipelines"):
            name = filtered_name(query)
            return (
                {"pipelines": [{"pipeline_id": self.pipelines[name], "display_name": name}]}
                if name in self.pipelines
                else {}
            )
        if route == ("POST", "/apis/v2beta1/pipelines/upload"):
            pipeline_id = self.pipelines[query["name"]] = f"pipeline-{len(self.pipelines) + 1}"
            self.add_version(pipeline_id, path, query, body, content_type)
            return {"pipeline_id": pipeline_id, "display_name": query["name"]}
        if route == ("POST", "/apis/v2beta1/pipelines/upload_version"):
            version_id = self.add_version(query["pipelineid"], path, query, body, content_type)
            return {
                "pipeline_id": query["pipelineid"],
                "pipeline_version_id": version_id,
                "display_name": query["name"],
            }
        if route == ("GET", "/apis/v2beta1/pipelines/ID/versions"):
            pipeline_id = path.split("/")[-2]
            return {
                "pipeline_versions": [
                    {"pipeline_id": pipeline_id, "pipeline_version_id": v}
                    for v in reversed(self.versions[pipeline_id])
                ],
                "total_size": len(self.versions[pipeline_id]),
            }
        if route == ("GET", "/apis/v2beta1/experiments"):
            name = filtered_name(query)
            return (
                {"experiments": [{"experiment_id": self.experiments[name], "display_name": name}]}
                if name in self.experiments
                else {}
            )
        if route == ("POST", "/apis/v2beta1/experiments"):
            name = json.loads(body)["display_name"]
            self.experiments[name] = f"experiment-{len(self.experiments) + 1}"
            return {"experiment_id": self.experiments[name], "display_name": name}
        if route == ("POST", "/apis/v2beta1/runs"):
            self.runs.append(json.loads(body))
            return {"run_id": f"run-{len(self.runs)}"}
        return None

    def add_version(self, pipeline_id, path, query, body, content_type):
        self.uploads.append((path, query, multipart_file(body, content_type, "uploadfile")))
        version_id = f"version-{sum(map(len, self.versions.values())) + 1}"
        self.versions.setdefault(pipeline_id, []).append(version_id)
        return version_id


def filtered_name(query):
    return json.loads(query["filter"])["predicates"][0]["stringValue"]


def multipart_file(body, content_type, field):
    message = email.message_from_bytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
    for part in message.get_payload():
        if part.get_param("name", header="content-disposition") == field:
            return part.get_payload(decode=True)
    raise AssertionError(f"no {field} in the upload")


@pytest.fixture
def kfp_api(monkeypatch, tmp_path):
    """Yields (url, api): a local server answering with `api`, stopped after the test or after
    60 s, whichever comes first."""
    import kfp

    monkeypatch.setattr(kfp.Client, "_LOCAL_KFP_CONTEXT", str(tmp_path / "no-context.json"))
    api = FakeKfpApi()

    class Handler(http.server.BaseHTTPRequestHandler):
        def handle_one(self):
            url = urllib.parse.urlsplit(self.path)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            answer = api.answer(
                self.command,
                url.path,
                dict(urllib.parse.parse_qsl(url.query)),
                body,
                self.headers.get("Content-Type", ""),
            )
            payload = json.dumps(answer if answer is not None else {"error": "not found"}).encode()
            self.send_response(200 if answer is not None else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = handle_one

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    server.timeout = 0.1
    deadline = time.monotonic() + 60
    stop = threading.Event()

    def serve():
        while not stop.is_set() and time.monotonic() < deadline:
            server.handle_request()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", api
    stop.set()
    thread.join(timeout=5)
    server.server_close()


def test_the_endpoint_gets_the_compiled_spec_and_a_run(kfp_api, tmp_path):
    url, api = kfp_api
    spec_path = tmp_path / "celeba.json"
    assert (
        kubeflow_runner.main(
            ["--spec-path", str(spec_path), "--endpoint", url, "--run-name", "first run"]
        )
        == 0
    )

    [(path, query, uploaded)] = api.uploads
    assert path == "/apis/v2beta1/pipelines/upload" and query["name"] == "celeba-dcgan"
    assert uploaded == spec_path.with_suffix(".yaml").read_bytes()
    assert yaml.safe_load(uploaded) == json.loads(spec_path.read_text())["pipelineSpec"]
    [run] = api.runs
    assert run["display_name"] == "first run"
    assert run["experiment_id"] == api.experiments["celeba-dcgan"]
    assert run["pipeline_version_reference"] == {
        "pipeline_id": "pipeline-1",
        "pipeline_version_id": "version-1",
    }
    pipeline_root = KubeflowConfig().pipeline_config().pipeline_root
    assert run["runtime_config"]["pipeline_root"] == pipeline_root


def test_a_second_submission_runs_a_new_version_of_the_same_pipeline(kfp_api, tmp_path):
    url, api = kfp_api
    package = tmp_path / "pipeline.yaml"
    package.write_text("pipelineInfo:\n  name: celeba-dcgan\n")
    submit = functools.partial(
        kfp_submit.submit,
        url,
        str(package),
        "celeba-dcgan",
        experiment="nightly",
        pipeline_root="gs://test-bucket/root",
    )
    first, second = submit(), submit()

    assert [path for path, _, _ in api.uploads] == [
        "/apis/v2beta1/pipelines/upload",
        "/apis/v2beta1/pipelines/upload_version",
    ]
    assert api.uploads[1][1]["pipelineid"] == first.pipeline_id == second.pipeline_id
    assert first.version_id != second.version_id
    assert [run["pipeline_version_reference"]["pipeline_version_id"] for run in api.runs] == [
        first.version_id,
        second.version_id,
    ]
    assert len(api.experiments) == 1


# --- The image --------------------------------------------------------------------------------


def dockerfile_instructions(text):
    """(INSTRUCTION, arguments) pairs: comments dropped, backslash continuations joined."""
    logical = re.sub(
        r"\\\n",
        " ",
        "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")),
    )
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1].strip())
        for line in logical.splitlines()
        if line.strip()
    ]


def test_the_dockerfile_builds_on_tfx_and_adds_the_project_and_the_pins():
    instructions = dockerfile_instructions((REPO_ROOT / "Dockerfile").read_text())
    assert instructions[0] == ("FROM", "tensorflow/tfx:1.16.0")
    env = " ".join(args for name, args in instructions if name == "ENV")
    assert "PYTHONPATH=/pipeline" in env.split()
    # TFX's container entrypoint loads TensorFlow before any project import: the image must set
    # what tf_environment sets (Keras 2 and, on x86-64 as the image is, oneDNN on)
    for name, value in tf_environment.VARIABLES.items():
        assert f"{name}={value}" in env.split()
    copies = [args.split() for name, args in instructions if name == "COPY"]
    assert ["requirements.lock", "/pipeline/requirements.lock"] in copies
    assert [".", "/pipeline"] in copies
    runs = " ".join(args for name, args in instructions if name == "RUN")
    assert "--constraint requirements.lock" in runs
    assert "trainer_module.run" in runs and "components.celeba_example_gen.executor" in runs


def test_the_docker_context_leaves_out_local_environments_and_outputs():
    ignored = {line.strip() for line in (REPO_ROOT / ".dockerignore").read_text().splitlines()}
    assert {".venv/", "outputs/", "data/generated/"} <= ignored


def python_paths_the_cluster_imports(job) -> dict:
    """Where a component names Python code in the compiled spec -> the dotted path: each
    executor's class and the Trainer's and Transform's functions."""
    paths = {
        f"{name} executor": executor_class_path(job, name)
        for name in tasks(job)
        if "--executor_class_path" in container(job, name)["args"]
    }
    paths["Trainer run_fn"] = parameter(job, "Trainer", "run_fn")
    paths["Transform preprocessing_fn"] = parameter(job, "Transform", "preprocessing_fn")
    return paths


@pytest.mark.slow  # a second Python that imports TFX and TensorFlow: 14 s
def test_the_specs_module_paths_resolve_in_the_images_layout(compiled, tmp_path):
    """The image holds the repository at /pipeline with PYTHONPATH=/pipeline (the Dockerfile's
    `COPY . /pipeline`); here a fresh clone stands for that folder. Every module path of ours in
    the compiled spec imports from it, from its files, and the Dockerfile's build-time check
    imports each of those modules too."""
    from fresh_clone import fresh_clone

    image_root = fresh_clone(tmp_path / "pipeline")
    paths = python_paths_the_cluster_imports(compiled)
    ours = {where: path for where, path in paths.items() if not path.startswith("tfx.")}
    assert {
        "CelebAExampleGen executor",
        "AnomalyGate executor",
        "GanEvaluator executor",
        "Trainer run_fn",
        "Transform preprocessing_fn",
    } <= set(ours)
    modules = sorted({path.rsplit(".", 1)[0] for path in ours.values()})
    code = (
        "import importlib, sys\n"
        "for path in sys.argv[1:]:\n"
        "    module, name = path.rsplit('.', 1)\n"
        "    getattr(importlib.import_module(module), name)\n"
        "    print(sys.modules[module].__file__)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, *ours.values()],
        cwd=image_root,
        env={**os.environ, "PYTHONPATH": str(image_root)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert all(Path(file).is_relative_to(image_root) for file in done.stdout.split()), done.stdout
    built = " ".join(
        args
        for name, args in dockerfile_instructions((REPO_ROOT / "Dockerfile").read_text())
        if name == "RUN"
    )
    assert all(module in built for module in modules), (modules, built)


def test_the_compiled_spec_is_a_valid_kfp_pipeline_spec(compiled):
    """Parsed by KFP's own protos, strictly (an unknown or mistyped field fails the parse), as
    the KFP API server and Vertex AI parse what they are sent."""
    from google.protobuf import json_format
    from kfp.pipeline_spec import pipeline_spec_pb2

    spec = json_format.ParseDict(compiled["pipelineSpec"], pipeline_spec_pb2.PipelineSpec())
    assert spec.pipeline_info.name == "celeba-dcgan"
    assert set(spec.root.dag.tasks) == set(INPUT_PRODUCERS)
    assert len(spec.deployment_spec) > 0 and spec.schema_version
    with pytest.raises(json_format.ParseError):  # the parse does refuse what KFP would
        json_format.ParseDict(
            {**compiled["pipelineSpec"], "rootDag": {}}, pipeline_spec_pb2.PipelineSpec()
        )
