"""Metz et al. 2016 (Unrolled GANs), Sec. 3.3 and Table 2, as a sweep: mode collapse on
stacked MNIST (three MNIST digits as the RGB channels, 1,000 modes) with a discriminator
1/4 and 1/2 the width of G, unrolled k in {0, 1, 5, 10} steps. For a GPU; needs MNIST prepared
for tfds (python -m gan_jax.parts.data.prepare --data=mnist):

  python -m gan_jax.main --config=configs/metz_stacked_mnist.py --workdir=runs/metz_stacked_mnist \
      --config.data.tfds_dir=~/tensorflow_datasets

  # one variant, e.g. on a smaller machine:
  python -m gan_jax.main --config=configs/metz_stacked_mnist.py:single \
      --config.unroll.steps=5 --config.model.d.base_features=16 --workdir=runs/metz_k5_quarter

Grid: model.d.base_features in (16, 32) against G's 64 (D 1/4 and 1/2 of G's width) x
unroll.steps in (0, 1, 5, 10), 5 seeds each: 40 runs, 8 compiled groups. G: z (100) -> 7x7x256
-> 14x14x128 -> 28x28x3 (configs/mnist_dcgan.py's G, three channels); D: 28x28x3 -> 14x14xF
-> 7x7x2F -> logit. Non-saturating loss, Adam lr 2e-4 (beta1 0.5; eps_root 1e-8, which the
second-order unroll through Adam needs), simultaneous updates, batch 64, second-order unrolling
(Metz et al.'s default). The architecture and step count are this project's DCGAN recipe, not a
copy of Metz et al.'s (their appendix has theirs); the protocol (data, D's relative size, k,
modes and KL) is the paper's.

Metrics at every eval on 10,000 samples: modes covered (of 1,000) and KL(model || uniform)
over the samples whose three channels all lie on the manifold of real MNIST digits in the
MNIST classifier's feature space (`gan_jax.metrics.images.recognized_stacks`, so noise and an
untrained G count ~0 modes), high_quality_pct (the share of such samples), and FD, KID,
precision / recall / density / coverage against 10,000 held-out real stacks.
"""

import ml_collections

from configs import default, mnist_dcgan

G_FEATURES = 64
D_FRACTIONS = (4, 2)  # D's width is G's divided by these: 1/4 and 1/2 of G


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    """The sweep; `arg="single"` gives one run (k = 0, D 1/4) to override from the command
    line."""
    config = mnist_dcgan.get_config()
    config.data.name = "stacked_mnist"
    config.update_order = "simultaneous"
    config.batch_size = 64
    config.num_steps = 50_000
    config.eval_every = 2_500
    config.checkpoint_every = 5_000
    config.model.g = ml_collections.ConfigDict(
        dict(name="dcgan", latent_dim=100, base_features=G_FEATURES, upsample="transpose")
    )
    config.model.d = ml_collections.ConfigDict(
        dict(name="dcgan", base_features=G_FEATURES // D_FRACTIONS[0])
    )
    config.optim.g = default._adam(2e-4)
    config.optim.d = default._adam(2e-4)
    config.unroll.steps = 0
    config.unroll.second_order = True
    config.eval.num_samples = 10_000
    config.eval.plot_samples = 64
    if arg == "single":
        return config
    if arg is not None:
        raise ValueError(f"configs/metz_stacked_mnist.py:{arg}: the only option is 'single'")
    config.sweep = ml_collections.ConfigDict(
        dict(
            seeds=5,
            grid=dict(
                model=dict(d=dict(base_features=tuple(G_FEATURES // f for f in D_FRACTIONS))),
                unroll=dict(steps=(0, 1, 5, 10)),
            ),
            baseline="model.d.base_features=16,unroll.steps=0",
        )
    )
    return config
