"""The seed's recipe: what the article trains, where the Trainer's defaults differ from it.

    PipelineConfig().with_overrides(**SEED_RECIPE)

gives it back: its networks (variant "seed", G twice the default's width), its noisy labels and
its batch of 128; its optimiser, Adam(2e-4, 0.5), and its z, N(0, 1) of 100, are the default's
already. Why each default differs: docs/trainer.md, "The networks and the defaults". Kept apart
from settings.py so that it can be read without TensorFlow (the benchmarks and the tests name
the seed's width from here).
"""

SEED_GENERATOR_FILTERS = 1024  # the seed's G (and the DCGAN paper's): its first feature maps

SEED_RECIPE = {
    "variant": "seed",
    "generator_filters": SEED_GENERATOR_FILTERS,
    "batch_size": 128,
    "real_label_noise": 0.5,
    "fake_label_noise": 0.25,
}
