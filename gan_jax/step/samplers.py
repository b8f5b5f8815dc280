"""Samplers over a trained G and D: the discriminator corrects G's samples after training.

Both read D's logit D~(x) as an estimate of log p_data(x) / p_G(x): at the optimum of the
cross-entropy D loss, D(x) = sigmoid(D~(x)) = p_data / (p_data + p_G) (Goodfellow et al. 2014,
Prop. 1). For the cross-entropy objectives (minimax, non-saturating) that is what D was trained
towards; for others (hinge, WGAN critics) a logit is no density ratio and a sampler is a
heuristic there.

D calibration (`SamplerOptions.calibration`, config `eval.sampler_calibration`, registry
`CALIBRATIONS`): "none" (the default) reads D's logit as trained, the plain reading of "the
trained G and D"; with the cross-entropy objectives the logit is what the samplers need at D's
optimum. "platt" fits a temperature at every eval, as Turner et al. (2019) calibrate D
before MH-GAN: the a of the logistic regression P(real | x) = sigmoid(a D~(x) + b) over
`CALIBRATION_SAMPLES` real and as many G samples (`platt_fit`), and the samplers read a D~ (b is
a constant shift, which DRS's max and MH's logit differences cancel). Their real samples are
held out; ours are draws from the data set, which for a finite set (PacGAN's 100,000 points)
are D's training points, so a D that memorised them would be read as sharper than it is. Azadi et
al. (2019) instead train D further after G is done; that is not done here (a classifier fit
from scratch to G is, below). A fixed temperature is
`SamplerOptions.logit_scale` (config `eval.sampler_logit_scale`), applied on top of the fitted
one: on the grid a trained D's mean logit per mode tracks the log ratio of the mode masses at a
slope of about 0.6 (experiments/paper_tables/drs_ceiling.py), and a fixed scale of 1.5 balanced
the modes better there.

A PacGAN D (`model.d.pack = m`, Lin et al. 2018) judges m samples at once; at its optimum,
D(x_1..x_m) = prod p_data(x_i) / (prod p_data(x_i) + prod p_G(x_i)) (Lin et al., Sec. 4), so its
logit is additive, sum_i log p_data(x_i) / p_G(x_i). `model_of` reads such a D per sample by
packing each sample with fixed G samples as partners, in every slot, and averaging: the log
ratio of the sample plus one constant shared by every sample, which DRS's max shift and MH's
logit differences cancel (`packed_logit`).

What is read as the log ratio (`SamplerOptions.ratio`, config `eval.sampler_ratio`, registry
`RATIOS`): "d", the GAN's D as above, or "classifier": a classifier fit from scratch to the fixed
G at every eval with samplers (`ratio_classifier`; Grover et al. 2019), which needs no particular
D (any objective, pairing or minibatch layer) and is read per sample at the cost of a small MLP.

Every sampler is `sampler(model, key, n, options) -> (samples, diagnostics)`: pure and
jittable with fixed shapes, `options` a `SamplerOptions` (`options.candidates` G draws per
returned sample; MH: 2 `candidates` + 1, its restart chains being computed for every chain),
`samples` of shape (n, *data shape) and `diagnostics` a dict of scalars ("acceptance_rate",
...). A new sampler is one such function and one `SAMPLERS` entry; a setting it needs is one
`SamplerOptions` field and one config field under `eval.`.
"""

import functools
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import lax

from gan_jax.parts.models.mlp import apply_generator
from gan_jax.step import ratio_classifier


class SamplerModel(NamedTuple):
    """What a sampler may call: G's latent prior and G, D's per-sample logit, the data."""

    draw_latent: Callable  # (key, m) -> z, (m, latent_dim)
    generate: Callable  # z -> samples (m, *data shape), G in inference mode
    logit: Callable  # samples (m, *data shape) -> (m,), D's logit per sample, as samplers read it
    draw_real: Callable  # (key, m) -> real samples (m, *data shape)
    # The factor on D's logit that `logit` applies (the fixed scale times a fitted one), a scalar
    # array: each sampler's "logit_scale" in an eval's metrics.
    logit_scale: jax.Array | float = 1.0
    # What reading the ratio reported (`Ratio.fit`), logged under each sampler's prefix, e.g. a
    # fitted classifier's final loss; None: nothing.
    ratio_diagnostics: dict | None = None


# Partner packs for a packed D: more lower the estimate's noise, each costing one D call per
# slot over the whole batch. With 8, on grid step 12's PacGAN2 (experiments/paper_tables), a
# sample's estimate varies across partner draws by 0.15 (std), against 1.27 across samples.
PACK_PARTNERS = 8


def packed_logit(apply_d, x, partners):
    """A packed D's logit of each sample alone: the mean over partner packs and slots of D's
    logit of the sample packed with the partners.

    Args:
      apply_d: D's logit function over packed batches, (n * m, *data shape) -> (n,), a pack being
        m consecutive samples.
      x: the samples, (n, *data shape).
      partners: (P, m - 1, *data shape), P partner packs of m - 1 samples each.

    Returns:
      (n,): (1 / (P m)) sum_p sum_slot D~(x with partners[p] around it, x in that slot). For an
      additive D~(x_1..x_m) = sum_i a_i(x_i) + b this is mean_i a_i(x) plus a constant shared by
      every sample.
    """
    pack = partners.shape[1] + 1

    def one_pack(partner_pack):
        total = jnp.zeros(x.shape[0], jnp.float32)
        for slot in range(pack):  # m is small and static: one D call per slot
            around = [jnp.broadcast_to(p, x.shape) for p in partner_pack]
            slots = around[:slot] + [x] + around[slot:]
            total = total + apply_d(jnp.stack(slots, axis=1).reshape(-1, *x.shape[1:]))
        return total / pack

    # lax.map, not vmap: memory holds one partner pack's batch, not P of them.
    return jnp.mean(lax.map(one_pack, partners), axis=0)


# Real and G samples each that a calibration fits on. At 10,000 the fitted temperature varies by
# ~1.3 % (std over 40 draws) for logits ~ N(+-1, 1) (a = 2) and ~2.7 % for N(+-0.3, 1) (a = 1).
CALIBRATION_SAMPLES = 10_000
PLATT_NEWTON_STEPS = 30  # Newton from (0, 0) converges in ~6-10 on non-separable classes


def platt_fit(real_logits, fake_logits):
    """(a, b) of Platt scaling (Platt 1999): the maximum-likelihood logistic regression
    P(real | x) = sigmoid(a l(x) + b) on logits l of real samples (label 1) and G's (label 0), by
    Newton's method under `jit`. The problem is convex in (a, b). Newton runs on the standardised
    logits from (0, 0), where its steps stay in range (from the identity, logits spread over tens
    of units send plain Newton far off: a = -5e5 for N(+-10, 20)), and the result is mapped back.
    When the logits separate the classes the likelihood has no maximum (a grows at every step): a
    tiny ridge keeps each step finite, and a result that is not finite or not positive (D ranking
    G above the data) falls back to (1, 0), D as trained."""
    logits = jnp.concatenate([real_logits, fake_logits]).astype(jnp.float32)
    labels = jnp.concatenate([jnp.ones_like(real_logits), jnp.zeros_like(fake_logits)])
    center, spread = jnp.mean(logits), jnp.maximum(jnp.std(logits), 1e-12)
    standard = (logits - center) / spread
    features = jnp.stack([standard, jnp.ones_like(standard)], axis=1)  # (N, 2): l', 1
    ridge = 1e-6 * logits.shape[0] * jnp.eye(2)

    def newton(_, weights):
        p = jax.nn.sigmoid(features @ weights)
        gradient = features.T @ (p - labels)
        hessian = (features * (p * (1 - p))[:, None]).T @ features + ridge
        return weights - jnp.linalg.solve(hessian, gradient)

    slope, intercept = lax.fori_loop(0, PLATT_NEWTON_STEPS, newton, jnp.zeros(2))
    a, b = slope / spread, intercept - slope * center / spread  # a l + b = slope l' + intercept
    usable = jnp.isfinite(a) & jnp.isfinite(b) & (a > 0)
    return jnp.where(usable, a, 1.0), jnp.where(usable, b, 0.0)


def no_calibration(logit, generate, draw_latent, draw_real, key):
    """D's logit as trained: a factor of 1."""
    return jnp.ones((), jnp.float32)


def platt_calibration(logit, generate, draw_latent, draw_real, key):
    """Platt's a (`platt_fit`) on `CALIBRATION_SAMPLES` real and as many G samples."""
    real_key, fake_key = jax.random.split(key)
    real = draw_real(real_key, CALIBRATION_SAMPLES)
    fake = generate(draw_latent(fake_key, CALIBRATION_SAMPLES))
    return platt_fit(logit(real), logit(fake))[0]


# How a sampler's D is calibrated: (logit, generate, draw_latent, draw_real, key) -> the factor on
# the logit. A new calibration is one such function and one entry.
CALIBRATIONS: dict[str, Callable] = {"none": no_calibration, "platt": platt_calibration}


def d_ratio(exp, d_params, generate, draw_latent, draw_real, key, partners_key):
    """The GAN's D as the log density ratio: its logit per sample, a packed D (pack m > 1) read
    by `packed_logit` with `PACK_PARTNERS` packs of m - 1 partners drawn from G with
    `partners_key`, the same partners for every sample. They are G samples because the
    candidates are: a pack of G samples is what D saw as fake in training. Its state: D's
    parameters and the partners (None for an unpacked D)."""
    pack = getattr(exp.discriminator, "pack", 1)
    if pack == 1:
        return (d_params, None), None
    drawn = generate(draw_latent(partners_key, PACK_PARTNERS * (pack - 1)))
    partners = drawn.reshape(PACK_PARTNERS, pack - 1, *drawn.shape[1:])
    return (d_params, partners), None


def d_logit(exp, state, x):
    """`d_ratio`'s reading of samples `x`: D's logit, per sample through the partners if packed."""
    d_params, partners = state

    def apply_d(batch):
        return exp.discriminator.apply(d_params, batch)

    return apply_d(x) if partners is None else packed_logit(apply_d, x, partners)


RATIO_LOSS_STEPS = 1_000  # the fit's last steps whose mean loss a classifier reading reports


def classifier_ratio(exp, d_params, generate, draw_latent, draw_real, key, partners_key):
    """A classifier of real against G's samples fit to this G (`ratio_classifier`, for
    `exp.sampler_options.ratio_classifier_steps` steps) as the log density ratio; D is unused.
    Its state: the classifier's parameters. Reports "ratio_loss", the fit's mean loss over its
    last `RATIO_LOSS_STEPS` steps (2 log 2: it tells G from the data no better than chance;
    lower: it tells them apart)."""
    steps = exp.sampler_options.ratio_classifier_steps
    params, losses = ratio_classifier.fit_ratio_classifier(
        generate, draw_latent, draw_real, key, steps
    )
    return params, {"ratio_loss": jnp.mean(losses[-RATIO_LOSS_STEPS:])}


def classifier_logit(exp, state, x):
    """`classifier_ratio`'s reading of samples `x`: the fitted classifier's logit."""
    return ratio_classifier.classifier_logit(state, x)


class Ratio(NamedTuple):
    """A reading of log p_data / p_G: `fit(exp, d_params, generate, draw_latent, draw_real, key,
    partners_key)` -> (its state, a pytree; its diagnostics: a dict of scalars or None), and
    `logit(exp, state, x)` -> (m,) per-sample log ratios of samples x (m, *data shape); `reads_d`:
    whether it reads the GAN's D (which must then give a logit per sample,
    `gan_jax.step.config.sampler_unfit_reason`). The fit and the reading are apart so that a
    fitted state can be kept and read again (`gan_jax.restore(w).sample` fits once per seed)."""

    fit: Callable
    logit: Callable
    reads_d: bool


# What the samplers read as the log density ratio. A new reading is two functions and one entry.
RATIOS: dict[str, Ratio] = {
    "d": Ratio(d_ratio, d_logit, reads_d=True),
    "classifier": Ratio(classifier_ratio, classifier_logit, reads_d=False),
}


class RatioReading(NamedTuple):
    """A fitted reading of the log ratio (`read_ratio`), a pytree: a jitted function can return
    it and a later one read it."""

    state: object  # `Ratio.fit`'s state: D's parameters and partners, or a classifier's
    scale: jax.Array  # the factor on its logit: the fixed `logit_scale` times the fitted one
    diagnostics: dict | None  # what the fit reported (a classifier's final loss), or None


def read_ratio(exp, g_params, d_params, dataset=None, partners_key=None) -> RatioReading:
    """Fits `RATIOS[exp.sampler_options.ratio]` and its `CALIBRATIONS` entry to G at `g_params`
    and D at `d_params` (the keys and arguments of `model_of`, which calls it)."""
    dataset = exp.dataset if dataset is None else dataset
    generate, draw_latent = _generator_of(exp, g_params)
    key = jax.random.PRNGKey(0) if partners_key is None else partners_key
    options = exp.sampler_options
    ratio = RATIOS[options.ratio]
    state, diagnostics = ratio.fit(
        exp, d_params, generate, draw_latent, dataset.sample, jax.random.fold_in(key, 2), key
    )
    calibrate = CALIBRATIONS[options.calibration]
    fitted = calibrate(
        functools.partial(ratio.logit, exp, state),
        generate,
        draw_latent,
        dataset.sample,
        jax.random.fold_in(key, 1),
    )
    return RatioReading(state, options.logit_scale * fitted, diagnostics)


def _generator_of(exp, g_params):
    """(generate(z), draw_latent(key, m)) of `exp`'s G at `g_params`, in inference mode."""

    def generate(z):
        return apply_generator(exp.generator, g_params, z, train=False)[0]

    def draw_latent(key, m):
        return jax.random.normal(key, (m, exp.generator.latent_dim))

    return generate, draw_latent


def model_of(
    exp, g_params, d_params, dataset=None, partners_key=None, reading: RatioReading | None = None
) -> SamplerModel:
    """The `SamplerModel` of an `Experiment`'s G and D at `g_params` / `d_params` (the raw G:
    D was trained against it, not against an EMA of it); real samples from `dataset` (None:
    `exp.dataset`, which a jitted MH then holds as a constant: cheap for the 2D mixtures, large
    for an image set).

    The log density ratio is read from `RATIOS[exp.sampler_options.ratio]`: the GAN's D (a
    packed D per sample through partner packs drawn from G with `partners_key`; None:
    `jax.random.PRNGKey(0)`) or a classifier fit to G (with a key folded from `partners_key`).
    Its logit is read times `exp.sampler_options.logit_scale` (1: as read) and times the factor
    its `calibration` fits (with another key folded from `partners_key`). With `reading` (a
    `read_ratio` of the same G and D, kept from before) nothing is fit again.
    """
    dataset = exp.dataset if dataset is None else dataset
    generate, draw_latent = _generator_of(exp, g_params)
    if reading is None:
        reading = read_ratio(exp, g_params, d_params, dataset, partners_key)
    ratio_logit = RATIOS[exp.sampler_options.ratio].logit

    def logit(x):
        return reading.scale * ratio_logit(exp, reading.state, x)

    return SamplerModel(
        draw_latent=draw_latent,
        generate=generate,
        logit=logit,
        draw_real=dataset.sample,
        logit_scale=reading.scale,
        ratio_diagnostics=reading.diagnostics,
    )


# Azadi et al. 2019's practical scheme sets gamma per batch of candidates to a percentile of
# F^(x) = F(x) + gamma, so that share of candidates has F(x) <= 0; public DRS code uses the 95th.
DRS_GAMMA_QUANTILE = 0.95
DRS_EPSILON = 1e-6  # Eq. 8's epsilon: keeps log(1 - exp(.)) finite at the max logit


class SamplerOptions(NamedTuple):
    """A run's sampler settings (config `eval.sampler_candidates`, `eval.drs_gamma_rule`,
    `eval.drs_gamma_quantile`, `eval.sampler_logit_scale`, `eval.sampler_calibration`)."""

    candidates: int = 20  # G draws per returned sample
    # The "quantile" rule's gamma: this quantile of F^ over the pool. Lower accepts more: a milder
    # correction of G, closer to G's mode balance when D's logit is not the exact log ratio.
    drs_gamma_quantile: float = DRS_GAMMA_QUANTILE
    # How DRS sets gamma over its pool: a name in `DRS_GAMMA_RULES`.
    drs_gamma_rule: str = "quantile"
    # Every sampler reads D's logit times this as the log density ratio: 1 reads D as trained; a
    # D that under-states the ratio (a tempered logit) is read sharper with a scale > 1, the
    # temperature of a Platt fit (Turner et al. 2019, without its offset, which DRS's
    # max and MH's logit differences cancel).
    logit_scale: float = 1.0
    # How D's logit is calibrated before that factor: a name in `CALIBRATIONS` ("platt": a fitted
    # temperature, at every eval).
    calibration: str = "none"
    # What is read as the log density ratio: a name in `RATIOS` ("d": the GAN's D; "classifier":
    # a classifier fit to G at every eval with samplers, for this many steps).
    ratio: str = "d"
    ratio_classifier_steps: int = 40_000


def drs_acceptance_logit(logits, max_logit, gamma):
    """F(x) of Azadi et al. 2019, Eq. 8:
    F(x) = D~(x) - D~*_M - log(1 - exp(D~(x) - D~*_M - eps)) - gamma; a sample is accepted
    with probability sigmoid(F(x)). With gamma = 0 and D~*_M = log M, M = max p_data / p_G,
    sigmoid(F(x)) = p_data(x) / (M p_G(x)), exact rejection sampling (up to eps)."""
    shifted = logits - max_logit
    return shifted - jnp.log(-jnp.expm1(shifted - DRS_EPSILON)) - gamma


def gamma_at_quantile(unshifted, options: SamplerOptions, n: int):
    """Azadi et al.'s practical gamma: the `options.drs_gamma_quantile` quantile of F^ over the
    pool (their code: the 95th percentile)."""
    return jnp.quantile(unshifted, options.drs_gamma_quantile)


def gamma_zero(unshifted, options: SamplerOptions, n: int):
    """gamma = 0: rejection sampling with M = e^(max logit), exact when D's logit is the log
    density ratio and the pool holds its max; a pool too small for it returns filled samples."""
    return jnp.zeros((), unshifted.dtype)


# Bisection steps for `gamma_for_budget`: the bracket is (max F^ - min F^ + 100) wide, so 60
# halvings leave it below 1e-13 of a logit unit, past float32's resolution.
BUDGET_BISECTION_STEPS = 60


def gamma_for_budget(unshifted, options: SamplerOptions, n: int):
    """Exact rejection sampling (gamma = 0) when the pool's expected number of acceptances there,
    sum_x sigmoid(F^(x)), is at least n, the samples asked for; else the gamma < 0 at which that sum
    equals n: the least relaxation of the correction whose expected acceptances fill the request
    from the pool (the drawn count falls a little short about half the time; "fill_share" reports
    the plain G samples that make it up). A fixed quantile accepts a fixed share of the pool
    whatever its size, so it shifts gamma away from 0 even when the pool could afford exact
    sampling, and it caps how strongly a rare mode is weighted up. The gamma is found by bisection
    (the sum falls as gamma rises)."""

    def expected(gamma):
        return jnp.sum(jax.nn.sigmoid(unshifted - gamma))

    def halve(_, bracket):
        low, high = bracket
        middle = (low + high) / 2
        too_many = expected(middle) > n
        return jnp.where(too_many, middle, low), jnp.where(too_many, high, middle)

    bracket = (jnp.min(unshifted) - 50.0, jnp.max(unshifted) + 50.0)
    low, high = lax.fori_loop(0, BUDGET_BISECTION_STEPS, halve, bracket)
    return jnp.minimum((low + high) / 2, 0.0)


# DRS's rules for gamma, `rule(F^ over the pool, options, n) -> gamma` (config
# `eval.drs_gamma_rule`); a new rule is one function and one entry.
DRS_GAMMA_RULES: dict[str, Callable] = {
    "quantile": gamma_at_quantile,
    "budget": gamma_for_budget,
    "zero": gamma_zero,
}


def drs_accepted(logits, key, options: SamplerOptions, n: int):
    """DRS's accept / reject draw over a pool's logits (Azadi et al. 2019, Eq. 8): each entry is
    accepted when a uniform draw is below sigmoid(F(x)), D~*_M the pool's max logit and gamma
    set by `options.drs_gamma_rule` (`DRS_GAMMA_RULES`) for n samples asked for. Returns a bool
    vector like `logits`."""
    unshifted = drs_acceptance_logit(logits, jnp.max(logits), 0.0)
    gamma = DRS_GAMMA_RULES[options.drs_gamma_rule](unshifted, options, n)
    return jax.random.uniform(key, logits.shape) < jax.nn.sigmoid(unshifted - gamma)


def draw_pool(model: SamplerModel, key, n: int, candidates: int):
    """`candidates` batches of n latents and D's logits of their samples, flat in draw order:
    (n * candidates, latent_dim) and (n * candidates,). One batch at a time (`lax.map`), so
    memory holds n samples, not the pool's."""

    def draw(batch_key):
        z = model.draw_latent(batch_key, n)
        return z, model.logit(model.generate(z))

    z, logits = lax.map(draw, jax.random.split(key, candidates))
    return z.reshape(n * candidates, -1), logits.reshape(n * candidates)


def first_accepted(accepted, n: int):
    """Indices of the first `n` accepted entries of the bool vector `accepted` in order, then
    (when fewer than n are accepted) the first rejected ones in order: fixed shape (n,)."""
    return jnp.argsort(~accepted, stable=True)[:n]


def drs(model: SamplerModel, key, n: int, options: SamplerOptions):
    """Discriminator rejection sampling (Azadi et al. 2019, Alg. 1 and Eq. 8) with fixed shapes.

    Draws a pool of n * `options.candidates` samples from G; D~*_M is the pool's max logit (the
    paper's burn-in estimate and running max, with the pool as burn-in); gamma is set by
    `options.drs_gamma_rule` (`DRS_GAMMA_RULES`: by default the `options.drs_gamma_quantile`
    quantile of F^(x) = F(x) + gamma over the pool); each candidate is accepted when a uniform
    draw is below sigmoid(F(x)). Returns the first n accepted in draw order. When fewer than n
    are accepted the rest is filled with the first rejected candidates in draw order, i.e. plain
    G samples, so a short pool degrades towards G and never towards D's favourite mode;
    "fill_share" reports how much.

    Returns:
      samples (n, *data shape) and {"acceptance_rate": accepted / pool size, "fill_share":
      filled / n}.
    """
    pool_key, accept_key = jax.random.split(key)
    z, logits = draw_pool(model, pool_key, n, options.candidates)
    accepted = drs_accepted(logits, accept_key, options, n)
    num_accepted = jnp.sum(accepted)
    samples = model.generate(z[first_accepted(accepted, n)])
    return samples, {
        "acceptance_rate": num_accepted / accepted.size,
        "fill_share": jnp.maximum(n - num_accepted, 0) / n,
    }


def _independence_chain(model: SamplerModel, key, start, start_logit, steps: int):
    """`steps` independence Metropolis-Hastings steps of n chains at once from `start` with G's
    samples as proposals (Turner et al. 2019, Alg. 1): x' is accepted with probability
    min(1, (1/D(x_k) - 1) / (1/D(x') - 1)) = min(1, exp(D~(x') - D~(x_k))) for D = sigmoid(D~).

    Returns the chains' final samples and how many proposals each accepted, (n,).
    """

    def step(carry, step_key):
        current, current_logit, accepts = carry
        z_key, u_key = jax.random.split(step_key)
        proposal = model.generate(model.draw_latent(z_key, current.shape[0]))
        proposal_logit = model.logit(proposal)
        log_u = jnp.log(jax.random.uniform(u_key, current_logit.shape))
        accept = log_u < proposal_logit - current_logit
        wide = accept.reshape(accept.shape + (1,) * (current.ndim - 1))
        return (
            jnp.where(wide, proposal, current),
            jnp.where(accept, proposal_logit, current_logit),
            accepts + accept,
        ), None

    zeros = jnp.zeros(start_logit.shape, jnp.int32)
    (final, _, accepts), _ = lax.scan(
        step, (start, start_logit, zeros), jax.random.split(key, steps)
    )
    return final, accepts


def mh(model: SamplerModel, key, n: int, options: SamplerOptions):
    """Metropolis-Hastings GAN (Turner et al. 2019, Alg. 1): n independence MH chains of
    K = `options.candidates` proposals from G each, every chain started at a real sample (so it
    starts in the stationary distribution when D is exact: no burn-in). A chain that accepts none of
    its K proposals would return its real sample; as in Alg. 1 it is restarted from a G sample
    and run for K fresh proposals (computed for all chains, kept for those: fixed shapes).

    Returns:
      samples (n, *data shape) and {"acceptance_rate": accepted proposals / (n K) over the
      first chains, "restart_share": the share of chains restarted}.
    """
    candidates = options.candidates
    real_key, restart_key, chain_key = jax.random.split(key, 3)
    # The first chains and every chain's restart run as one batch of 2n chains.
    starts = jnp.concatenate(
        [model.draw_real(real_key, n), model.generate(model.draw_latent(restart_key, n))]
    )
    final, accepts = _independence_chain(model, chain_key, starts, model.logit(starts), candidates)
    stuck = accepts[:n] == 0
    samples = jnp.where(stuck.reshape(stuck.shape + (1,) * (final.ndim - 1)), final[n:], final[:n])
    return samples, {
        "acceptance_rate": jnp.sum(accepts[:n]) / (n * candidates),
        "restart_share": jnp.mean(stuck),
    }


SAMPLERS: dict[str, Callable] = {"drs": drs, "mh": mh}
