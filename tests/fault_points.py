"""Points inside each component where the kill tests stop a run, by construction.

A fault point is a function the component calls part-way through its work. The pipeline
worker (tests/pipeline_worker.py) wraps it when the test names a component in the
FAULT_POINT environment variable: its n-th call prints `fault point: <component>` on the
console and waits there, and the test, reading that line, kills the process with SIGKILL.
So the kill lands inside the component whatever the machine's speed, where a delay measured
on a reference run would land elsewhere on a machine twice as fast or twice as slow.
"""

import importlib
import os
import threading
from dataclasses import dataclass

ENVIRONMENT_VARIABLE = "FAULT_POINT"
LINE = "fault point: "


@dataclass(frozen=True)
class FaultPoint:
    module: str
    attribute: str  # a function, or Class.method
    call: int  # stop at this call of it
    where: str  # what is done and what is not when the run stops there

    def install(self, component: str) -> None:
        owner = importlib.import_module(self.module)
        *classes, name = self.attribute.split(".")
        for class_name in classes:
            owner = getattr(owner, class_name)
        original = getattr(owner, name)
        calls = [0]

        def stop_at_the_nth_call(*args, **kwargs):
            calls[0] += 1
            if calls[0] == self.call:
                print(f"{LINE}{component}: {self.where}", flush=True)
                threading.Event().wait()  # until killed
            return original(*args, **kwargs)

        setattr(owner, name, stop_at_the_nth_call)


# Each function is looked up in its module at call time (not imported by name elsewhere), so
# the wrapper is what the component calls; the first call of each in the run's process is the
# component's.
POINTS = {
    "CelebAExampleGen": FaultPoint(
        "components.celeba_example_gen.executor",
        "image_example",
        20,
        "19 of the 64 images read and converted",
    ),
    # Not preprocessing_fn itself: TFX reloads the module that holds it, undoing the wrapper.
    "Transform": FaultPoint(
        "trainer_module.pixels",
        "quantize",
        1,
        "the preprocessing graph being traced (its faces quantized to uint8)",
    ),
    "Trainer": FaultPoint(
        "trainer_module.export",
        "export_generator",
        1,
        "trained, the last checkpoint written, the generator not yet exported",
    ),
    # Not the FD itself: the Trainer's quality probe computes FDs too.
    "GanEvaluator": FaultPoint(
        "components.gan_evaluator.evaluation",
        "Evaluation.score",
        1,
        "the real images embedded, the trained generator not yet scored",
    ),
    "Pusher": FaultPoint(
        "tfx.utils.io_utils",
        "copy_file",
        1,
        "the serving version's variables copied, its saved_model.pb not yet",
    ),
}


def install_from_environment() -> None:
    """In the worker: the point the test asked for, if any."""
    component = os.environ.get(ENVIRONMENT_VARIABLE)
    if component:
        POINTS[component].install(component)
