"""The mode-collapse literature on one protocol: VEEGAN's (Srivastava et al. 2017, Table 1) and
GDPP's (Elfeki et al. 2019, Table 1) 2D benchmark, one method per config argument.

  python -m gan_jax.main --config=configs/literature.py:gdpp-ring --workdir=runs/gdpp_ring
  python -m gan_jax.main --config=configs/literature.py:ali-grid --workdir=runs/ali_grid

The argument is `<method>-<data>`, method one of METHODS, data "ring" (8 Gaussians) or "grid"
(25). The protocol: G and D 2 x 128 tanh MLPs, z in R^256, batch 512, Adam with G lr 1e-3 and
D lr 1e-4 (b1 0.5), 25,000 steps, metrics on 2,500 samples (high quality: within 3 sigma of the
nearest mode). The methods, each the project's config of it with the protocol's networks:

- gan: configs/gan.py, the non-saturating GAN, simultaneous updates (Metz et al.'s baseline);
- ali: configs/ali.py, an encoder E (2 x 128 tanh) and D on (x, z) pairs;
- unrolled: configs/unrolled.py, k = 5, second order;
- veegan: configs/veegan.py, a reconstructor F (2 x 128 tanh), D on (x, z) pairs;
- wgan_gp: configs/wgan_gp.py's algorithm (5 critic steps, lambda 10, Adam 1e-4 with b1 0.5,
  b2 0.9 for both, Gulrajani et al.'s rates; the papers do not give theirs);
- gdpp: configs/gdpp.py, the DPP loss on D's last hidden features;
- pacgan2, pacgan4: configs/pacgan.py with D packing 2 or 4 of the 512 samples (the batch
  stays 512 samples: 256 or 128 packs);
- mode_seeking: configs/mode_seeking.py, weight 1.

GAN_PROBES are the GAN with the published code's choices, one at a time (gan_minimax: G
minimises -L_D; gan_orthogonal: orthogonal init with gain 1.4; gan_notebook: both;
gan_notebook_r1: both on a ring of radius 1, sigma 0.01; ring only), to find why
the published GAN row collapses and ours does not (experiments/literature_2d/gan_probe.py).
VEEGAN_PROBES do the same for VEEGAN, far below its published row here (veegan_dim_mean: the
reconstruction ||z - F(G(z))||^2 averaged over z's 256 dimensions instead of summed, i.e. weight
1/256; veegan_stochastic: F a Normal with a learned scale, trained on the likelihood of z;
veegan_stochastic_fast_d: that with D at 1e-3; experiments/literature_2d/veegan_probe.py).
WGAN_GP_PROBES: wgan_gp_g_fast, WGAN-GP with G at the protocol's 1e-3
(experiments/literature_2d/wgan_gp_probe.py).

Discriminator rejection sampling (Azadi et al. 2019) is evaluated at every eval (metrics under
"drs/") on the methods whose D scores samples: not ALI / VEEGAN (D scores (x, z) pairs). PacGAN's
D is read per sample by packing each with fixed G samples (`gan_jax.step.samplers.packed_logit`).
A sampler changes no training number.
"""

import importlib

import ml_collections

from gan_jax.step.config import set_field

DATA = ("ring", "grid")
# method -> (config module, overrides of it); the protocol's networks are set for all.
METHODS: dict[str, tuple[str, dict]] = {
    "gan": ("gan", {}),
    "ali": ("ali", {}),
    "unrolled": ("unrolled", {}),
    "veegan": ("veegan", {}),
    "wgan_gp": ("wgan_gp", {}),
    "gdpp": ("gdpp", {}),
    "pacgan2": ("pacgan", {"model.d.pack": 2}),
    "pacgan4": ("pacgan", {"model.d.pack": 4}),
    "mode_seeking": ("mode_seeking", {}),
}
# The GAN as the published rows' code trained it, one difference at a time (Metz et al.'s
# unrolled-GAN notebook, which VEEGAN's and GDPP's 2D code copy): G minimises -L_D (the
# saturating minimax loss), every dense layer starts orthogonal with gain 1.4, or both.
NOTEBOOK_INIT = {"model.g.orthogonal_gain": 1.4, "model.d.orthogonal_gain": 1.4}
GAN_PROBES: dict[str, tuple[str, dict]] = {
    "gan_minimax": ("gan", {"objective": "minimax"}),
    "gan_orthogonal": ("gan", NOTEBOOK_INIT),
    "gan_notebook": ("gan", {"objective": "minimax", **NOTEBOOK_INIT}),
    # and on the notebook's ring scale (radius 1, sigma 0.01; its centres are 8 equal-weight
    # ones here, where the notebook's linspace(0, 2 pi, 8) puts two on one point)
    "gan_notebook_r1": (
        "gan",
        {"objective": "minimax", **NOTEBOOK_INIT, "data.radius": 1.0, "data.std": 0.01},
    ),
}
# VEEGAN with its reconstruction term at the adversarial term's scale: summed over 256 latent
# dimensions it is ~250 at best (a 2D sample cannot carry 256 numbers), against ~1 for the
# adversarial term, so it may drown the term that moves G towards the data.
# veegan_stochastic: F a Normal with a learned scale (Alg. 1, line 5, z ~ F(x)), trained on the
# negative log-likelihood of z; a deterministic F puts real codes on a 2D manifold of R^256 that
# D tells from the prior's z at once. veegan_stochastic_fast_d: that, with D at G's rate 1e-3, as
# in the authors' 2D notebook.
STOCHASTIC_F = {"model.encoder.name": "gaussian_mlp", "g_regularizer.name": "reconstruction_nll"}
VEEGAN_PROBES: dict[str, tuple[str, dict]] = {
    "veegan_dim_mean": ("veegan", {"g_regularizer.weight": 1 / 256}),
    "veegan_stochastic": ("veegan", STOCHASTIC_F),
    "veegan_stochastic_fast_d": ("veegan", {**STOCHASTIC_F, "optim.d.learning_rate": 1e-3}),
}
# WGAN-GP at the protocol's G rate (1e-3; D stays at Gulrajani et al.'s 1e-4): its HQ on both
# data sets is far under the published row (experiments/literature_2d/wgan_gp_probe.py).
WGAN_GP_PROBES: dict[str, tuple[str, dict]] = {
    "wgan_gp_g_fast": ("wgan_gp", {"optim.g.learning_rate": 1e-3}),
}
# Their D does not score one sample alone.
WITHOUT_DRS = ("ali", "veegan", *VEEGAN_PROBES)


def get_config(arg: str = "gan-ring") -> ml_collections.ConfigDict:
    method, _, data_name = arg.partition("-")
    methods = {**METHODS, **GAN_PROBES, **VEEGAN_PROBES, **WGAN_GP_PROBES}
    if method not in methods or data_name not in DATA:
        raise ValueError(
            f"configs/literature.py:{arg}: use <method>-<data>, method one of {list(methods)}, "
            f"data one of {list(DATA)}"
        )
    module_name, overrides = methods[method]
    config = importlib.import_module(f"configs.{module_name}").get_config()
    config.data.name = data_name
    config.num_steps = 25_000
    config.batch_size = 512
    config.eval.num_samples = 2_500
    config.model.g.latent_dim = 256
    config.model.g.hidden_sizes = (128, 128)
    config.model.g.activation = "tanh"
    config.model.d.hidden_sizes = (128, 128)
    config.model.d.activation = "tanh"
    config.model.g.orthogonal_gain = None  # flax's default init unless a method sets it
    config.model.d.orthogonal_gain = None
    for field, value in overrides.items():
        set_field(config, field, value, where=f"configs/literature.py:{arg}")
    if method not in WITHOUT_DRS:
        config.eval.samplers = ("drs",)
    return config


def probe_sweep(probes: tuple[str, ...], seeds: int = 5) -> ml_collections.ConfigDict:
    """A sweep over the given `<method>-<data>` arguments, `seeds` seeds each (the probes of
    experiments/literature_2d)."""
    config = get_config()
    config.sweep = ml_collections.ConfigDict(
        dict(seeds=seeds, configs=tuple(f"literature:{probe}" for probe in probes))
    )
    return config
