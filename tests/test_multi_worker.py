"""Multi-worker training: two worker processes under MultiWorkerMirroredStrategy, talking gRPC on
free loopback ports, as a cluster (Vertex AI, Kubeflow) runs them with TF_CONFIG.

Each worker is a subprocess (tests/multi_worker_worker.py): the strategy must be created before
TensorFlow starts in the process. The two-worker run is compared with one worker training the
same two replicas (MirroredStrategy over two logical CPUs) on the same global batch: the
replicas get the same halves of each batch and draw the same z (the random generator splits
by replica id), and a sum of two values is the same in either order, so the losses and
weights must agree to float rounding, where any wrong sharding or scaling shows at once. (One
device, with one replica, would differ by design: other z, BatchNorm over the whole batch;
tests/test_mirrored_strategy.py compares that case with its tolerance.)
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from margins import largest_relative_difference, measured, tolerance_used
from multi_worker_worker import PER_REPLICA

from trainer_module import distribution, run

WORKER = Path(__file__).with_name("multi_worker_worker.py")
TIMEOUT = 600  # seconds for a whole run; the runs here take 15 to 30 s each
STEPS = 4  # checkpoints at steps 2 and 4


def free_ports(count: int) -> list:
    """Ports the kernel hands out on 127.0.0.1, held together so that they differ."""
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


class Worker:
    """A worker process with its output in files (TensorFlow's logs would fill a pipe).
    `started` lists them all, for `stop_leftovers` to end any a failed test left waiting."""

    started = []

    def __init__(self, name: str, args: list, log_dir: Path, tf_config=None):
        self.out, self.err = log_dir / f"{name}.out", log_dir / f"{name}.err"
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
        env.pop("TF_CONFIG", None)
        if tf_config:
            env["TF_CONFIG"] = json.dumps(tf_config)
        with open(self.out, "w") as out, open(self.err, "w") as err:
            self.process = subprocess.Popen(
                [sys.executable, str(WORKER), *map(str, args)], stdout=out, stderr=err, env=env
            )
        Worker.started.append(self)

    def wait(self, timeout: float = TIMEOUT) -> int:
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise

    def stdout(self) -> str:
        return self.out.read_text()

    def stderr(self) -> str:
        return self.err.read_text()

    def result(self) -> dict:
        assert self.wait() == 0, self.stderr()[-3000:]
        return {**json.loads(self.stdout().strip().splitlines()[-1]), "stdout": self.stdout()}


def start_cluster(log_dir: Path, args: list, pause_worker_after: int = 0) -> list:
    """[chief, worker]: the cluster Vertex AI sets up for two worker pools of one replica."""
    log_dir.mkdir(parents=True, exist_ok=True)
    chief_port, worker_port = free_ports(2)
    cluster = {"chief": [f"127.0.0.1:{chief_port}"], "worker": [f"127.0.0.1:{worker_port}"]}
    return [
        Worker(
            "chief",
            args + [0],
            log_dir,
            {"cluster": cluster, "task": {"type": "chief", "index": 0}},
        ),
        Worker(
            "worker",
            args + [pause_worker_after],
            log_dir,
            {"cluster": cluster, "task": {"type": "worker", "index": 0}},
        ),
    ]


def wait_for(worker: Worker, text: str, timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while text not in worker.stdout():
        assert worker.process.poll() is None, worker.stderr()[-3000:]
        assert time.monotonic() < deadline, f"no {text!r} within {timeout} s"
        time.sleep(0.2)


@pytest.fixture(scope="module", autouse=True)
def stop_leftovers():
    """A worker whose peer failed can wait in an all-reduce; none outlives the module."""
    yield
    for worker in Worker.started:
        if worker.process.poll() is None:
            worker.process.kill()
            worker.process.wait()


@pytest.fixture(scope="module")
def records(module_tmp):
    """16 Transform-format images with an eval split: one global batch of 16 per epoch."""
    from test_trainer_quality import transformed_examples

    root = module_tmp("records")
    transformed_examples(root, 16)
    return root


@pytest.fixture(scope="module")
def runs(module_tmp, records):
    root = module_tmp("multi_worker")
    one_worker = Worker(
        "one_worker", ["mirrored", records, root / "one_worker", STEPS], root
    ).result()
    whole = [
        worker.result()
        for worker in start_cluster(
            root / "whole", ["multi_worker", records, root / "whole" / "checkpoints", STEPS]
        )
    ]

    killed_dir = root / "killed" / "checkpoints"
    chief, worker = start_cluster(
        root / "killed", ["multi_worker", records, killed_dir, STEPS], pause_worker_after=2
    )
    wait_for(worker, "paused after step 2")  # after the checkpoint of step 2
    worker.process.send_signal(signal.SIGKILL)
    worker.wait()
    killed = {
        "chief_exit": chief.wait(timeout=120),
        "chief_stderr": chief.stderr(),
        "checkpoints": sorted(os.listdir(killed_dir)),
    }
    resumed = [
        worker.result()
        for worker in start_cluster(root / "resumed", ["multi_worker", records, killed_dir, STEPS])
    ]
    return {
        "root": root,
        "one_worker": one_worker,
        "whole": whole,
        "killed": killed,
        "resumed": resumed,
    }


@pytest.mark.slow
def test_each_worker_trains_on_its_own_half_of_every_global_batch(runs):
    """The DATA-sharded global batch: the chief's replica gets its first half, the other
    worker's the second, as the two replicas of one worker do; with the seeded shuffle too,
    whose order every worker must draw alike."""
    one, (chief, worker) = runs["one_worker"], runs["whole"]
    assert chief["replicas"] == worker["replicas"] == one["replicas"] == 2
    assert (chief["task"], worker["task"]) == ("chief:0", "worker:0")
    assert len(set(one["images"])) == 16
    assert chief["images"] == one["images"][:8] and worker["images"] == one["images"][8:]
    for step, images in enumerate(one["shuffled_images"]):
        assert chief["shuffled_images"][step] + worker["shuffled_images"][step] == images, step
    assert one["shuffled_images"][0] != one["images"]  # shuffled indeed


# Float rounding between the two set-ups: the same sums in another order across processes
# (the collective all-reduce against MirroredStrategy's in-process one). Measured 2026-12-07
# (docs/tests.md, Margins; AMD EPYC AVX-512 / oneDNN capped at AVX2): losses and variables equal
# to the last bit at every step, on both; after the resume, the per-replica batch-norm means
# use 0.116 / 0.116 of the tolerance. The tolerance leaves room for another CPU's kernels, far
# below what a wrong shard or scale moves (a whole batch's half: losses apart in the 2nd decimal).
REL = 1e-6


def weights(result) -> dict:
    """{variable name: its copies on this worker's replicas, stacked}."""
    import numpy as np

    with np.load(result["weights_file"]) as saved:
        return {name: saved[name] for name in saved.files}


def assert_same_weights(got: dict, expected: dict) -> None:
    """Every variable by name, element by element, naming the first that differs."""
    import numpy as np

    assert list(got) == list(expected)
    measured(
        "variables, share of the tolerance used",
        max(
            tolerance_used(got[name], value, rtol=REL, atol=1e-7)
            for name, value in expected.items()
        ),
        1.0,
    )
    for name, value in expected.items():
        np.testing.assert_allclose(got[name], value, rtol=REL, atol=1e-7, err_msg=name)


@pytest.mark.slow
def test_two_workers_give_the_losses_and_weights_of_one_worker_with_two_replicas(runs):
    """The losses of every step and every variable (both networks' weights and batch-norm
    statistics, both optimizers' slots and step counts, the weight average): the chief's
    replica holds what the first of one worker's two replicas holds, the other worker's what
    the second holds. Every variable but batch norm's moving statistics is the same on all
    replicas; those are kept per replica, each from its own half of the batch."""
    one, (chief, worker) = runs["one_worker"], runs["whole"]
    assert sorted(map(int, one["losses_per_step"])) == list(range(1, STEPS + 1))
    measured(
        "losses at every step, 2 workers against 1 worker, largest relative difference",
        largest_relative_difference(chief["losses_per_step"], one["losses_per_step"]),
        REL,
    )
    for step, losses in one["losses_per_step"].items():
        assert chief["losses_per_step"][step] == pytest.approx(losses, rel=REL), step
        assert worker["losses_per_step"][step] == chief["losses_per_step"][step], step
    replicas, chiefs, workers = weights(one), weights(chief), weights(worker)
    assert len(replicas) > 50 and all(len(copies) == 2 for copies in replicas.values())
    assert_same_weights(chiefs, {name: copies[:1] for name, copies in replicas.items()})
    assert_same_weights(workers, {name: copies[1:] for name, copies in replicas.items()})
    per_replica = [name for name in replicas if name.endswith(PER_REPLICA)]
    assert per_replica and all("moving_" in name for name in per_replica), per_replica
    for name, copies in replicas.items():
        if name not in per_replica:
            assert (copies[0] == copies[1]).all(), name
            assert (workers[name] == chiefs[name]).all(), name
    assert chief["g_steps"] == worker["g_steps"] == chief["average_updates"] == STEPS


@pytest.mark.slow
def test_only_the_chief_writes_the_checkpoints_the_others_delete_theirs(runs):
    """Both workers save at steps 2 and 4 (the save reads the distributed variables, a
    collective op both join), the chief into the checkpoint folder, the other worker into a
    folder of its own, deleted after each save."""
    chief, worker = runs["whole"]
    directory = runs["root"] / "whole" / "checkpoints"
    assert chief["chief"] and not worker["chief"]
    assert chief["checkpoints_written"] == [str(directory / "ckpt-2"), str(directory / "ckpt-4")]
    assert [Path(path).name for path in worker["checkpoints_written"]] == ["ckpt-2", "ckpt-4"]
    for path in worker["checkpoints_written"]:
        assert Path(path).parent.parent.name == "workertemp_worker_0", path
        assert not Path(path).parent.parent.exists()
    assert worker["latest"] == chief["latest"] == str(directory / "ckpt-4")
    assert sorted(os.listdir(directory)) == [
        "checkpoint",
        "ckpt-2.data-00000-of-00001",
        "ckpt-2.index",
        "ckpt-4.data-00000-of-00001",
        "ckpt-4.index",
    ]
    assert sorted(os.listdir(directory.parent)) == [
        "checkpoints",
        "chief.err",
        "chief.out",
        "weights_chief_0.npz",
        "weights_worker_0.npz",
        "worker.err",
        "worker.out",
    ]  # the weights: what each worker saved for the test


@pytest.mark.slow
def test_a_worker_killed_mid_run_stops_the_job_and_a_restart_resumes_from_the_chiefs_checkpoint(
    runs,
):
    """kill -9 of the other worker while the chief waits for it in step 3's all-reduce: the
    chief fails (the collective is aborted) rather than hang, leaving the checkpoint of step 2.
    Both workers started again restore it and end where the uninterrupted run ended: the
    losses of steps 3 and 4 and every variable, except that batch norm's moving statistics,
    kept per replica, are equal only as their mean over the replicas. A checkpoint holds a
    sync-on-read variable's mean over the replicas and a restore gives each replica that mean
    (TensorFlow's rule), where the uninterrupted replicas kept their own; the update is linear,
    so the mean goes on alike. (The export re-estimates those statistics anyway.)"""
    import numpy as np

    killed, resumed, whole = runs["killed"], runs["resumed"], runs["whole"]
    assert killed["chief_exit"] != 0
    assert "UnavailableError" in killed["chief_stderr"]
    assert killed["checkpoints"] == ["checkpoint", "ckpt-2.data-00000-of-00001", "ckpt-2.index"]
    for worker, uninterrupted in zip(resumed, whole):
        assert "at step 2" in worker["stdout"].split("Resuming from ", 1)[1].splitlines()[0]
        assert worker["g_steps"] == worker["average_updates"] == STEPS
        assert sorted(map(int, worker["losses_per_step"])) == [3, 4]  # the steps it trained
        for step, losses in worker["losses_per_step"].items():
            assert losses == pytest.approx(uninterrupted["losses_per_step"][step], rel=REL), step

    def replicas(results) -> dict:
        """{variable name: the copies of every replica of both workers}."""
        saved = [weights(result) for result in results]
        return {name: np.concatenate([copies[name] for copies in saved]) for name in saved[0]}

    got, expected = replicas(resumed), replicas(whole)
    mirrored = [name for name in expected if not name.endswith(PER_REPLICA)]
    assert_same_weights(
        {name: got[name] for name in mirrored}, {name: expected[name] for name in mirrored}
    )
    assert_same_weights(
        {name: got[name].mean(axis=0) for name in expected if name not in mirrored},
        {name: value.mean(axis=0) for name, value in expected.items() if name not in mirrored},
    )


@pytest.mark.slow
def test_the_trainer_executor_on_two_workers_trains_together_and_exports_once(module_tmp, records):
    """TFX's Trainer executor, as the Vertex AI Trainer's job runs it on each replica, with
    distribute_strategy="multi_worker": both replicas pass the executor's check that run_fn
    left a model, which the chief alone wrote; nothing of the other worker's is left."""
    import tensorflow as tf

    root = module_tmp("executor")
    workers = start_cluster(root / "logs", ["executor", records, root / "out", 3])
    chief, worker = [w.result() for w in workers]
    for result in (chief, worker):
        assert "Training on 2 replicas" in result["stdout"]
    serving = Path(chief["model"]) / "Format-Serving"
    sample = tf.saved_model.load(str(serving)).signatures["sample"]
    images = sample(count=tf.constant(4), seed=tf.constant(1, tf.int64))["images"].numpy()
    assert images.shape == (4, 64, 64, 3) and images.std() > 0
    assert (Path(chief["model_run"]) / "discriminator" / "saved_model.pb").exists()
    assert sorted(os.listdir(chief["model"])) == ["Format-Serving"]
    [checkpoints] = os.listdir(chief["checkpoint_root"])
    assert "ckpt-3.index" in os.listdir(Path(chief["checkpoint_root"]) / checkpoints)
    leftovers = [
        path
        for path, folders, _ in os.walk(root / "out")
        for name in folders
        if name.startswith("workertemp")
    ]
    assert leftovers == []


# --- Without a cluster ----------------------------------------------------------------------


def test_the_strategy_names_are_checked():
    with pytest.raises(ValueError, match="distribute_strategy must be one of"):
        distribution.choose_strategy("parameter_server")


def test_the_vertex_trainers_own_keys_are_left_out_of_the_settings():
    from pipeline_config import PipelineConfig
    from trainer_module.settings import TrainerSettings

    settings = TrainerSettings.of(PipelineConfig())
    custom_config = {
        **settings.to_custom_config(),
        **{key: "set by the Vertex AI Trainer" for key in run.CLOUD_TRAINER_KEYS},
    }
    assert run.trainer_settings(custom_config) == settings


@pytest.mark.parametrize("name", ["multi_worker", "auto"])
def test_a_multi_worker_strategy_asked_for_after_tensorflow_started_says_why(name):
    """In a process where TensorFlow already ran an op (a Trainer run in-process after other
    components), the strategy cannot be created; the error says what to do. "auto" asks for it
    too when TF_CONFIG names two workers."""
    code = (
        "import tf_environment, tensorflow as tf; tf.constant(1.0) + 1.0\n"
        "from trainer_module.run import choose_strategy\n"
        f"choose_strategy({name!r})"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        cwd=Path(__file__).resolve().parent.parent,
        env={
            **os.environ,
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "TF_CONFIG": json.dumps(
                {
                    "cluster": {"worker": ["127.0.0.1:1", "127.0.0.1:2"]},
                    "task": {"type": "worker", "index": 0},
                }
            ),
        },
    )
    assert done.returncode != 0
    assert "must be created before TensorFlow runs anything in the process" in done.stderr
