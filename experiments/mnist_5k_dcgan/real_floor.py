"""The floor a DCGAN on mnist_5k is read against: the eval's metrics on *real* digits.

configs/mnist_5k_dcgan.py scores 2,000 generated digits against the 1,000 held-out ones in the
mnist_5k classifier's feature space. This scores, the same way, 2,000 digits of the train split
(drawn without replacement, seeds 0-2), so "FD within 3x of train vs held out" (issue 21) has its
denominator, and precision (the share of samples on the held-out digits' manifold) its ceiling.

  python experiments/mnist_5k_dcgan/real_floor.py
"""

import jax
import numpy as np

from gan_jax import metrics
from gan_jax.metrics.images import to_float_images
from gan_jax.parts import data

NUM_SAMPLES = 2_000  # configs/mnist_5k_dcgan.py's eval.num_samples
SHOWN = ("fd", "kid", "precision", "recall", "density", "coverage", "inception_score")


def main() -> None:
    mnist = data.make_dataset("mnist_5k")
    metric_fn = jax.jit(metrics.for_dataset(mnist, NUM_SAMPLES))
    train = np.asarray(mnist.images)
    print("| train digits (seed) | " + " | ".join(SHOWN) + " |")
    print("| --- |" + " --- |" * len(SHOWN))
    for seed in range(3):
        pick = np.random.default_rng(seed).choice(train.shape[0], NUM_SAMPLES, replace=False)
        scores = metric_fn(to_float_images(train[pick]))
        print(f"| 2,000 ({seed}) | " + " | ".join(f"{float(scores[k]):.3f}" for k in SHOWN) + " |")


if __name__ == "__main__":
    main()
