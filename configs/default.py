"""The base config every other config overrides: the Metz et al. 2016 ring protocol.

Run: python -m gan_jax.main --config=configs/default.py --workdir=runs/default
Override any field: --config.unroll.steps=10 --config.data.name=grid
"""

import ml_collections


def optimizer(name: str, **hparams) -> ml_collections.ConfigDict:
    """One player's optimizer config: `name` (gan_jax/parts/optim.py), its dynamic
    hyperparameters, and a learning-rate schedule, static: `schedule` ("constant", "linear" or
    "cosine") scales the updates from 1 down to `schedule_final` over the player's first
    `schedule_steps` updates (D makes n_d_steps per step), then holds it."""
    return ml_collections.ConfigDict(
        dict(name=name, **hparams, schedule="constant", schedule_steps=0, schedule_final=1.0)
    )


def _adam(learning_rate: float) -> ml_collections.ConfigDict:
    # eps_root > 0 keeps Adam differentiable at v = 0 (sqrt has an infinite slope there), which
    # second-order unrolling needs; 1e-8 changes no forward number that matters.
    return optimizer("adam", learning_rate=learning_rate, b1=0.5, b2=0.999, eps=1e-8, eps_root=1e-8)


def get_config() -> ml_collections.ConfigDict:
    config = ml_collections.ConfigDict()
    config.seed = 0
    config.num_steps = 25_000
    config.batch_size = 512
    config.eval_every = 1_000
    config.checkpoint_every = 5_000
    # Besides the newest 3 checkpoints, keep every one over this last fraction of num_steps (0.2:
    # the last fifth, where steadiness is judged), to read a sampler or a metric at each of them
    # afterwards: gan_jax.restore(run, step=...). 0 keeps the newest 3 only.
    config.keep_checkpoints_over_last = 0.0

    # Image sets: tfds_dir holds prepared tfds data (python -m gan_jax.parts.data.prepare),
    # image_size resizes square images once at load (None: the set's own size). Mixtures (None: the
    # set's default): ring radius (2), grid spacing (2), std (ring 0.02, grid 0.05), and
    # num_points for a finite data set drawn once from PRNGKey(points_seed) (PacGAN's protocol).
    placeholder = ml_collections.config_dict.placeholder
    config.data = ml_collections.ConfigDict(
        dict(
            name="ring",
            tfds_dir=placeholder(str),
            image_size=placeholder(int),
            radius=placeholder(float),
            spacing=placeholder(float),
            std=placeholder(float),
            num_points=placeholder(int),
            points_seed=placeholder(int),
        )
    )
    config.objective = "nonsaturating"
    config.loss = ml_collections.ConfigDict()  # the objective's dynamic scalars, e.g. margin
    # A gradient penalty on D ("none", "gp" for WGAN-GP, "r1"); its weight is dynamic.
    config.penalty = ml_collections.ConfigDict(dict(name="none", weight=0.0))
    # A regulariser added to G's loss (gan_jax/parts/regularizers.py: "none", "mode_seeking",
    # "gdpp", "reconstruction" for VEEGAN); its weight is dynamic.
    config.g_regularizer = ml_collections.ConfigDict(dict(name="none", weight=0.0))
    # What D judges (gan_jax/parts/pairings.py): "none" (samples), or (x, z) pairs for "ali"
    # (ALI / BiGAN) and "veegan", built with G's helper network model.encoder.
    config.pairing = "none"
    config.n_d_steps = 1
    config.update_order = "alternating"
    # Fixes for oscillation (gan_jax/step/game.py), composable with every objective: consensus
    # optimisation (its weight gamma is dynamic) and extragradient steps ("none" or
    # "extragradient"). Optimistic steps are optimizers: optim.*.name = "optimistic_adam".
    config.consensus = ml_collections.ConfigDict(dict(enabled=False, weight=10.0))
    # An exponential moving average of G's weights (Yazici et al. 2019; Karras et al. 2018),
    # evaluated beside the raw G at every eval (metrics under "ema/"); its decay is dynamic.
    config.ema = ml_collections.ConfigDict(dict(enabled=False, decay=0.999))
    config.extrapolation = "none"

    config.unroll = ml_collections.ConfigDict(
        dict(steps=0, second_order=True, fresh_batches=False, remat=False)
    )
    config.model = ml_collections.ConfigDict()
    config.model.g = ml_collections.ConfigDict(
        dict(name="mlp", latent_dim=256, hidden_sizes=(128, 128), activation="tanh")
    )
    config.model.d = ml_collections.ConfigDict(
        dict(
            name="mlp",
            hidden_sizes=(128,),
            activation="tanh",
            minibatch_kernels=0,  # > 0: minibatch discrimination (Salimans et al. 2016)
            minibatch_kernel_dim=5,
            minibatch_stddev=False,  # minibatch standard deviation (Karras et al. 2018)
            pack=1,  # PacGAN: D judges `pack` samples at once (Lin et al. 2018)
        )
    )
    # G's helper network E(x) -> z, trained with G (ALI's encoder, VEEGAN's reconstructor):
    # "none", or "mlp" with hidden_sizes and activation (gan_jax/parts/models/encoder.py).
    config.model.encoder = ml_collections.ConfigDict(dict(name="none"))
    config.optim = ml_collections.ConfigDict()
    config.optim.g = _adam(1e-3)
    config.optim.d = _adam(1e-4)

    # inception_weights: pytorch-fid's FID-Inception weights file (pt_inception-2015-12-05-
    # 6726825d.pth), for FID and KID as papers report them (image runs; None: none logged).
    # samplers: samplers over the trained G and D (gan_jax/step/samplers.py: "drs", "mh"),
    # evaluated beside the raw G at every eval (metrics under "<sampler>/"); each takes
    # sampler_candidates G draws per sample (DRS's pool per sample, MH's proposals per chain);
    # drs_gamma_rule: how DRS sets its gamma over a pool (samplers.DRS_GAMMA_RULES): "quantile",
    # "budget" (the expected acceptances equal the samples asked for) or "zero" (exact rejection);
    # drs_gamma_quantile: the "quantile" rule's quantile of F^ over its pool (Azadi et al. 2019's
    # code: 0.95; lower accepts more and corrects G less); sampler_logit_scale: every sampler
    # reads D's logit times this as the log density ratio (1: as trained); sampler_calibration:
    # "none" or "platt" (a temperature fitted at every eval on real and G samples, Turner et al.
    # 2019; the scale then multiplies it; samplers.CALIBRATIONS); samplers_from_step:
    # the samplers are evaluated only at evals from this step on (0: every eval), since with many
    # candidates they cost most of an eval (e.g. 20,000 of 25,000 steps: the last fifth only);
    # sampler_ratio: what the samplers read as log p_data / p_G (samplers.RATIOS): "d", the GAN's
    # D, or "classifier", a classifier of real against G samples fit to G at every eval with
    # samplers for ratio_classifier_steps Adam steps (gan_jax/step/ratio_classifier.py).
    config.eval = ml_collections.ConfigDict(
        dict(
            num_samples=2_500,
            plot_samples=1_000,
            inception_weights=ml_collections.config_dict.placeholder(str),
            samplers=(),
            sampler_candidates=20,
            drs_gamma_rule="quantile",
            drs_gamma_quantile=0.95,
            sampler_logit_scale=1.0,
            sampler_calibration="none",
            samplers_from_step=0,
            sampler_ratio="d",
            ratio_classifier_steps=40_000,
        )
    )
    return config
