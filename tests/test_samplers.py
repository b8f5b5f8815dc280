"""Samplers over a trained G and D (gan_jax/step/samplers.py): DRS (Azadi et al. 2019) and
MH-GAN (Turner et al. 2019), checked on a 1D toy whose density ratio is known in closed form
(a D whose logit is exactly log p_data / p_G), then wired through eval, logs, the report and
`restore(...).sample(sampler=...)`."""

import math
import types

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest
from conftest import make_tiny_config
from scipy import stats

import gan_jax
from gan_jax.loop import progress
from gan_jax.loop.run import train_and_evaluate
from gan_jax.loop.workdir import read_metrics
from gan_jax.metrics import declared
from gan_jax.results import report
from gan_jax.step import ratio_classifier, samplers
from gan_jax.step.config import ConfigError, validate
from gan_jax.step.experiment import dynamic_params, make_experiment
from gan_jax.step.train import init_state, make_evaluate

# The toy: G draws N(0, 1), the data is N(1, 0.5^2), D's logit is the exact log ratio.
MU, SD = 1.0, 0.5


def _log_normal(x, mean, sd):
    return -0.5 * ((x - mean) / sd) ** 2 - jnp.log(sd)


def _log_ratio(x):
    flat = x.reshape(x.shape[0], -1)[:, 0]
    return _log_normal(flat, MU, SD) - _log_normal(flat, 0.0, 1.0)


TOY = samplers.SamplerModel(
    draw_latent=lambda key, m: jax.random.normal(key, (m, 1)),
    generate=lambda z: z,
    logit=_log_ratio,
    draw_real=lambda key, m: MU + SD * jax.random.normal(key, (m, 1)),
)
# max_x p_data / p_G: the log ratio -2 (x - 1)^2 + log 2 + x^2 / 2 peaks at x = 4/3.
LOG_M = -2 * (1 / 3) ** 2 + math.log(2) + (4 / 3) ** 2 / 2
N, CANDIDATES = 2_000, 20
OPTIONS = samplers.SamplerOptions(candidates=CANDIDATES)


@pytest.fixture(scope="module")
def drawn():
    """Each sampler's samples and diagnostics on the toy, jitted, one key."""
    return {
        name: jax.jit(lambda key, s=sampler: s(TOY, key, N, OPTIONS))(jax.random.PRNGKey(0))
        for name, sampler in samplers.SAMPLERS.items()
    }


def test_drs_eq8_with_gamma_zero_and_the_true_max_is_exact_rejection_sampling():
    x = np.linspace(-3, 3, 101, dtype=np.float32)[:, None]
    logits = _log_ratio(jnp.asarray(x))
    accept = jax.nn.sigmoid(samplers.drs_acceptance_logit(logits, LOG_M, 0.0))
    ratio = stats.norm(MU, SD).pdf(x[:, 0]) / stats.norm().pdf(x[:, 0]) / math.exp(LOG_M)
    np.testing.assert_allclose(accept, ratio, atol=2e-5)
    # Over G's samples the acceptance rate of rejection sampling is 1 / M.
    z = jax.random.normal(jax.random.PRNGKey(1), (200_000, 1))
    rate = jax.nn.sigmoid(samplers.drs_acceptance_logit(_log_ratio(z), LOG_M, 0.0)).mean()
    assert abs(float(rate) - math.exp(-LOG_M)) < 3e-3


def test_samplers_match_the_data_far_better_than_g(drawn):
    reference = np.random.default_rng(0).normal(MU, SD, 20_000)
    raw_g = np.random.default_rng(1).normal(0.0, 1.0, N)
    g_distance = stats.wasserstein_distance(raw_g, reference)  # ~1.0
    distances = {
        name: stats.wasserstein_distance(np.asarray(samples)[:, 0], reference)
        for name, (samples, _) in drawn.items()
    }
    # DRS's gamma (95th percentile of F) sharpens towards the ratio's peak; still 3x closer.
    assert distances["drs"] < g_distance / 3, distances
    # MH starts its chains at real samples: with an exact D it is stationary from the start.
    assert distances["mh"] < 0.05, distances
    assert stats.kstest(np.asarray(drawn["mh"][0])[:, 0], stats.norm(MU, SD).cdf).pvalue > 1e-3


def test_the_config_sets_the_samplers_options():
    config = make_tiny_config(**{"eval.sampler_candidates": 7, "eval.drs_gamma_quantile": 0.3})
    assert make_experiment(validate(config)).sampler_options == samplers.SamplerOptions(7, 0.3)
    config = make_tiny_config(**{"eval.drs_gamma_rule": "budget", "eval.sampler_logit_scale": 1.5})
    assert make_experiment(validate(config)).sampler_options == samplers.SamplerOptions(
        drs_gamma_rule="budget", logit_scale=1.5
    )


def test_platt_fit_is_sklearns_logistic_regression_and_recovers_a_known_temperature():
    """Real logits ~ N(1, 1) and G's ~ N(-1, 1): the posterior is sigmoid(2 l), so a = 2, b = 0;
    the fit equals an unpenalised scikit-learn LogisticRegression on the same points."""
    from sklearn.linear_model import LogisticRegression

    keys = jax.random.split(jax.random.PRNGKey(3))
    real = 1.0 + jax.random.normal(keys[0], (20_000,))
    fake = -1.0 + jax.random.normal(keys[1], (20_000,))
    a, b = jax.jit(samplers.platt_fit)(real, fake)
    points = np.concatenate([real, fake]).astype(np.float64)[:, None]
    reference = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000).fit(
        points, np.r_[np.ones(20_000), np.zeros(20_000)]
    )
    np.testing.assert_allclose(float(a), reference.coef_[0, 0], rtol=1e-5)
    np.testing.assert_allclose(float(b), reference.intercept_[0], atol=1e-5)
    assert abs(float(a) - 2.0) < 0.05 and abs(float(b)) < 0.03
    # A tempered logit (a quarter of it) is read four times sharper: the same posterior.
    a_tempered, _ = samplers.platt_fit(real / 4, fake / 4)
    np.testing.assert_allclose(float(a_tempered), 4 * float(a), rtol=1e-4)


@pytest.mark.parametrize("mean, spread", [(10.0, 20.0), (1_000.0, 1_000.0)])
def test_platt_fit_of_logits_spread_over_many_units_is_still_the_maximum_likelihood(mean, spread):
    """A confident D's logits span tens or thousands of units; plain Newton from the identity
    overshoots there (a = -5e5 on the first case), the standardised fit does not."""
    from sklearn.linear_model import LogisticRegression

    keys = jax.random.split(jax.random.PRNGKey(0))
    real = mean + spread * jax.random.normal(keys[0], (10_000,))
    fake = -mean + spread * jax.random.normal(keys[1], (10_000,))
    a, b = jax.jit(samplers.platt_fit)(real, fake)
    points = np.concatenate([real, fake]).astype(np.float64)
    center, scale = points.mean(), points.std()
    reference = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000).fit(
        ((points - center) / scale)[:, None], np.r_[np.ones(10_000), np.zeros(10_000)]
    )
    np.testing.assert_allclose(float(a), reference.coef_[0, 0] / scale, rtol=1e-5)


def test_platt_fit_stays_finite_on_separable_classes_and_refuses_an_inverted_d():
    a, b = samplers.platt_fit(jnp.linspace(0.1, 2.0, 50), jnp.linspace(-2.0, -0.1, 50))
    assert np.isfinite(float(a)) and np.isfinite(float(b)) and float(a) > 1.0
    keys = jax.random.split(jax.random.PRNGKey(1))  # D scores G above the data: a < 0 fits
    a, b = samplers.platt_fit(
        -1.0 + jax.random.normal(keys[0], (1_000,)), 1.0 + jax.random.normal(keys[1], (1_000,))
    )
    assert (float(a), float(b)) == (1.0, 0.0)  # D read as trained


def test_a_platt_calibrated_sampler_reads_a_tempered_d_as_the_d_it_tempers():
    """Calibration undoes a temperature on D: D's last layer scaled by 1/4 (its logit a quarter
    of D's) and D read through the same Platt fit give one logit, and a 4x larger fitted scale."""
    config = validate(make_tiny_config(**{"eval.sampler_calibration": "platt"}))
    exp = make_experiment(config)
    state = init_state(exp, jax.random.PRNGKey(0), dynamic_params(config))
    last = max(state.d_params["params"], key=lambda name: name)  # the output layer

    def last_layer_times(factor):
        params = jax.tree.map(lambda p: p, state.d_params)
        params["params"][last] = jax.tree.map(lambda p: p * factor, params["params"][last])
        return params

    x = jax.random.normal(jax.random.PRNGKey(1), (64, 2))
    np.testing.assert_allclose(
        exp.discriminator.apply(last_layer_times(0.25), x),
        exp.discriminator.apply(state.d_params, x) / 4,
        rtol=1e-5,
    )
    # The untrained D may rank G above the data, which the fit refuses (a <= 0): turn it round.
    sign = (
        1.0
        if float(samplers.model_of(exp, state.g_params, state.d_params).logit_scale) != 1.0
        else -1.0
    )
    model = samplers.model_of(exp, state.g_params, last_layer_times(sign))
    model_tempered = samplers.model_of(exp, state.g_params, last_layer_times(sign / 4))
    assert float(model.logit_scale) != 1.0  # a fitted temperature, not the fallback
    np.testing.assert_allclose(model_tempered.logit_scale, 4 * model.logit_scale, rtol=1e-3)
    np.testing.assert_allclose(model_tempered.logit(x), model.logit(x), rtol=1e-3, atol=1e-5)


def test_every_sampler_reads_d_logit_times_the_logit_scale():
    config = validate(make_tiny_config(**{"eval.sampler_logit_scale": 2.5}))
    exp = make_experiment(config)
    d_params = exp.discriminator.init(jax.random.PRNGKey(0), jnp.zeros((exp.batch_size, 2)))
    x = jax.random.normal(jax.random.PRNGKey(1), (8, 2))
    model = samplers.model_of(exp, None, d_params)
    np.testing.assert_allclose(
        model.logit(x), 2.5 * exp.discriminator.apply(d_params, x), rtol=1e-6
    )


@pytest.mark.parametrize("quantile", [0.3, 0.95])
def test_drs_acceptance_rate_at_a_gamma_quantile_matches_numpy(quantile):
    # Accepted with probability sigmoid(F^ - gamma), gamma the quantile of F^ over the pool:
    # the expected rate, recomputed here in float64 from D's logits of the same pool.
    options = samplers.SamplerOptions(candidates=CANDIDATES, drs_gamma_quantile=quantile)
    key = jax.random.PRNGKey(2)
    _, diagnostics = jax.jit(lambda k: samplers.drs(TOY, k, N, options))(key)
    z, _ = samplers.draw_pool(TOY, jax.random.split(key)[0], N, CANDIDATES)
    f_hat = _f_hat(_log_ratio(z))
    expected = np.mean(1 / (1 + np.exp(-(f_hat - np.quantile(f_hat, quantile)))))
    # 40,000 Bernoulli draws: the rate's standard error is below 0.0025.
    assert abs(float(diagnostics["acceptance_rate"]) - expected) < 0.01, expected
    assert float(diagnostics["fill_share"]) == 0.0


def test_drs_without_a_gamma_shift_accepts_with_probability_exp_of_the_logit_gap():
    # gamma = 0 (rule "zero"): sigmoid(F(x)) = e^s / (1 - e^(s - eps) + e^s), s the logit minus
    # the pool's max, which is e^s up to eps: rejection sampling with M = e^max.
    logits = jnp.tile(jnp.log(jnp.array([1.0, 0.5, 0.25])), 20_000)
    zero = samplers.SamplerOptions(drs_gamma_rule="zero")
    accepted = np.asarray(samplers.drs_accepted(logits, jax.random.PRNGKey(0), zero, 10))
    rates = accepted.reshape(-1, 3).mean(axis=0)
    # 20,000 draws each: standard errors below 0.0036.
    np.testing.assert_allclose(rates, [1.0, 0.5, 0.25], atol=0.015)


def _f_hat(logits):
    """F^ = F + gamma of Eq. 8 over a pool, in float64."""
    shifted = np.asarray(logits, np.float64) - np.max(logits)
    return shifted - np.log(-np.expm1(shifted - samplers.DRS_EPSILON))


def test_drs_budget_rule_is_exact_rejection_when_the_pool_is_large_enough():
    # The toy's rejection sampling accepts 1 / M ~ 0.26 of G's samples: a pool of 20 per sample
    # holds far more than N acceptances, so the rule keeps gamma = 0 and DRS draws exactly what
    # rule "zero" draws with the same key.
    budget = samplers.SamplerOptions(candidates=CANDIDATES, drs_gamma_rule="budget")
    zero = budget._replace(drs_gamma_rule="zero")
    key = jax.random.PRNGKey(6)
    by_budget, stats_budget = jax.jit(lambda k: samplers.drs(TOY, k, N, budget))(key)
    by_zero, _ = jax.jit(lambda k: samplers.drs(TOY, k, N, zero))(key)
    np.testing.assert_array_equal(by_budget, by_zero)
    assert abs(float(stats_budget["acceptance_rate"]) - math.exp(-LOG_M)) < 0.01


def test_drs_budget_rule_relaxes_gamma_just_enough_to_fill_a_small_pool():
    # 2 candidates per sample: rejection sampling would accept ~0.26 x 2 N < N, so gamma goes
    # below 0 until the expected acceptances, sum sigmoid(F^ - gamma), equal N (recomputed in
    # float64 from the same pool); the draws then fill the request with few plain G samples.
    options = samplers.SamplerOptions(candidates=2, drs_gamma_rule="budget")
    z, logits = samplers.draw_pool(TOY, jax.random.PRNGKey(7), N, 2)
    f_hat = _f_hat(logits)
    gamma = float(samplers.gamma_for_budget(jnp.asarray(f_hat, jnp.float32), options, N))
    assert gamma < 0
    expected = np.sum(1 / (1 + np.exp(-(f_hat - gamma))))
    assert expected == pytest.approx(N, rel=1e-3)
    _, diagnostics = jax.jit(lambda k: samplers.drs(TOY, k, N, options))(jax.random.PRNGKey(8))
    # 4,000 Bernoulli draws around a mean of N: the fill's standard error is ~0.011.
    assert float(diagnostics["acceptance_rate"]) == pytest.approx(0.5, abs=0.03)
    assert float(diagnostics["fill_share"]) < 0.05


def test_a_lower_drs_gamma_quantile_accepts_more_and_corrects_less(drawn):
    mild = samplers.SamplerOptions(candidates=CANDIDATES, drs_gamma_quantile=0.3)
    samples, diagnostics = jax.jit(lambda k: samplers.drs(TOY, k, N, mild))(jax.random.PRNGKey(0))
    assert float(diagnostics["acceptance_rate"]) > float(drawn["drs"][1]["acceptance_rate"])
    # Less sharpening towards the ratio's peak at 4/3: a wider spread than at the 0.95 quantile.
    assert np.std(np.asarray(samples)) > np.std(np.asarray(drawn["drs"][0]))


def test_mh_acceptance_rate_matches_its_closed_form(drawn):
    # At stationarity (x ~ p_data, x' ~ p_G) a step accepts with E[min(1, w(x') / w(x))],
    # w = p_data / p_G; integrated on a grid.
    grid = np.linspace(-6, 6, 1_201)
    step = grid[1] - grid[0]
    p_data, p_g = stats.norm(MU, SD).pdf(grid), stats.norm().pdf(grid)
    w = p_data / p_g
    accept = np.minimum(1.0, w[None, :] / w[:, None])  # [x, x']
    expected = float(p_data @ accept @ p_g) * step**2
    assert abs(float(drawn["mh"][1]["acceptance_rate"]) - expected) < 0.015, expected


def test_first_accepted_takes_accepted_in_order_then_fills_in_order():
    accepted = jnp.array([False, True, False, True, False, False])
    np.testing.assert_array_equal(samplers.first_accepted(accepted, 2), [1, 3])
    np.testing.assert_array_equal(samplers.first_accepted(accepted, 4), [1, 3, 0, 2])


@pytest.mark.parametrize("name", sorted(samplers.SAMPLERS))
def test_samplers_have_fixed_shapes_and_are_deterministic_in_their_key(name):
    image_toy = TOY._replace(  # samples of shape (2, 2, 1): MH's selects broadcast over them
        draw_latent=lambda key, m: jax.random.normal(key, (m, 4)),
        generate=lambda z: z.reshape(-1, 2, 2, 1),
        draw_real=lambda key, m: MU + SD * jax.random.normal(key, (m, 2, 2, 1)),
    )
    sampler = jax.jit(
        lambda key: samplers.SAMPLERS[name](image_toy, key, 7, samplers.SamplerOptions(3))
    )
    first, diagnostics = sampler(jax.random.PRNGKey(3))
    again, _ = sampler(jax.random.PRNGKey(3))
    other, _ = sampler(jax.random.PRNGKey(4))
    assert first.shape == (7, 2, 2, 1)
    assert all(jnp.shape(v) == () for v in diagnostics.values())
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    if "fill_share" in diagnostics:  # 7 x 3 candidates: what was not accepted was filled
        rate, fill = float(diagnostics["acceptance_rate"]), float(diagnostics["fill_share"])
        assert fill == pytest.approx(max(0.0, 1 - 3 * rate), abs=1e-6)


def test_mh_restarts_chains_that_accept_nothing():
    # A D that prefers real samples to every G sample: no proposal is ever accepted from the
    # real start, so every chain restarts from G and returns a G sample.
    hostile = TOY._replace(
        logit=lambda x: jnp.where(x[:, 0] > 50, 100.0, -100.0),
        draw_real=lambda key, m: jnp.full((m, 1), 100.0),
    )
    samples, diagnostics = samplers.mh(
        hostile, jax.random.PRNGKey(5), 64, samplers.SamplerOptions(4)
    )
    assert float(diagnostics["restart_share"]) == 1.0
    assert float(diagnostics["acceptance_rate"]) == 0.0
    assert np.all(np.abs(np.asarray(samples)) < 10)  # G's samples, not the real ones


@pytest.fixture(scope="module")
def sampled_run(tmp_path_factory):
    workdir = str(tmp_path_factory.mktemp("samplers"))
    config = make_tiny_config(
        num_steps=10,
        **{"eval.samplers": ("drs", "mh"), "eval.sampler_candidates": 3, "eval.num_samples": 64},
    )
    train_and_evaluate(config, workdir, progress=False)
    return config, workdir


def test_a_run_logs_each_samplers_metrics_under_its_prefix(sampled_run):
    _, workdir = sampled_run
    final = read_metrics(f"{workdir}/metrics.jsonl")[-1]
    for name in ("drs", "mh"):
        for key in (
            "modes_covered",
            "high_quality_pct",
            "reverse_kl",
            "acceptance_rate",
            "logit_scale",
        ):
            assert f"{name}/{key}" in final, (name, key)
    line = progress.metrics_text([final], declared.MIXTURE)
    assert "drs/acceptance_rate=" in line and "mh/restart_share=" in line
    run = types.SimpleNamespace(
        name="r", variant="v", assignments={}, config=types.SimpleNamespace(seed=0)
    )
    row = report.run_row(run, workdir, [])
    assert row["final_drs/reverse_kl"] == final["drs/reverse_kl"]
    assert report.variant_prefixes([row]) == ["drs", "mh"]


def test_samplers_from_a_step_leave_them_out_before_it_and_change_nothing_else(
    sampled_run, tmp_path
):
    """`eval.samplers_from_step`: the evals before it log the raw (and EMA) G only, the evals
    from it on log exactly what a run evaluating the samplers at every eval logs."""
    config, every_eval = sampled_run
    workdir = str(tmp_path / "late")
    late = config.copy_and_resolve_references()
    late.eval.samplers_from_step = 10
    train_and_evaluate(late, workdir, progress=False)
    before, after = read_metrics(f"{workdir}/metrics.jsonl")
    reference = {row["step"]: row for row in read_metrics(f"{every_eval}/metrics.jsonl")}
    assert (before["step"], after["step"]) == (0, 10)
    assert not any(key.startswith(("drs/", "mh/")) for key in before)
    assert before == {k: v for k, v in reference[0].items() if not k.startswith(("drs/", "mh/"))}
    assert after.keys() == reference[10].keys()
    for key in after:
        if key != "steps_per_sec":  # the wall clock
            np.testing.assert_array_equal(after[key], reference[10][key], err_msg=key)


@pytest.fixture(scope="module")
def restored(sampled_run):
    return gan_jax.restore(sampled_run[1])


def test_samplers_leave_the_raw_g_metrics_bit_identical(sampled_run, restored):
    final = read_metrics(f"{sampled_run[1]}/metrics.jsonl")[-1]
    plain = restored.experiment._replace(samplers=())
    metrics, _ = jax.device_get(jax.jit(make_evaluate(plain))(restored.state))
    assert {"drs/reverse_kl", "mh/reverse_kl"} <= set(final)
    for key, value in metrics.items():  # metrics.jsonl stores NaN as None
        np.testing.assert_array_equal(np.asarray(final[key], float), value, err_msg=key)


def test_restore_samples_through_a_sampler(restored):
    for name in ("drs", "mh"):
        samples = restored.sample(16, seed=1, sampler=name)
        assert samples.shape == (16, 2)
        np.testing.assert_array_equal(samples, restored.sample(16, seed=1, sampler=name))
    with pytest.raises(ValueError, match=r"^sample\(sampler='nope'\): unknown sampler; choose"):
        restored.sample(4, sampler="nope")
    with pytest.raises(ValueError, match=r"a sampler corrects the raw G"):
        restored.sample(4, sampler="drs", ema=True)
    # A run whose D mixes the batch cannot be read per sample: one line naming the call.
    mixing = restored.config.copy_and_resolve_references()
    mixing.model.d.minibatch_stddev = True
    unfit = gan_jax.TrainedGAN(mixing, restored.experiment, restored.state)
    for call, message in (
        (lambda: unfit.sample(4, sampler="drs"), r"^sample\(sampler='drs'\): this run's D does"),
        (lambda: unfit.ratio_reading(2), r"^ratio_reading\(seed=2\): this run's D does not fit"),
    ):
        with pytest.raises(ValueError, match=message + ".*minibatch features mix the batch"):
            call()


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"eval.samplers": ("drs", "nope")}, r"'nope' is unknown; choose from \['drs', 'mh'\]"),
        ({"eval.samplers": ("mh", "mh")}, "names a sampler twice"),
        ({"eval.samplers": (1,)}, "must be a tuple of names"),
        ({"eval.sampler_candidates": 0}, "must be an integer >= 1"),
        ({"eval.drs_gamma_quantile": 1.0}, r"drs_gamma_quantile=1.0 is invalid: must be a number"),
        ({"eval.drs_gamma_quantile": 0.0}, "must be a number in"),
        ({"eval.drs_gamma_rule": "median"}, r"drs_gamma_rule='median' is invalid: choose one of"),
        ({"eval.sampler_logit_scale": 0.0}, "sampler_logit_scale=0.0 is invalid: must be a fin"),
        ({"eval.sampler_logit_scale": float("nan")}, "must be a finite number > 0"),
        ({"eval.sampler_calibration": "isotonic"}, r"sampler_calibration='isotonic' is inval"),
        ({"eval.samplers_from_step": -1}, r"samplers_from_step=-1 is invalid: must be an integer"),
        ({"eval.samplers_from_step": 21}, r"must be <= num_steps \(20\): the final eval"),
        ({"eval.sampler_ratio": "kde"}, r"sampler_ratio='kde' is invalid: choose one of"),
        ({"eval.ratio_classifier_steps": 0}, r"ratio_classifier_steps=0 is invalid: must be an"),
        ({"eval.samplers": ("drs",), "model.d.minibatch_kernels": 2}, "minibatch features mix"),
        ({"eval.samplers": ("mh",), "model.d.minibatch_stddev": True}, "each sample alone"),
        ({"eval.samplers": ("drs",), "objective": "began"}, "'began' has an energy D"),
        (
            {"eval.samplers": ("drs",), "pairing": "ali", "model.encoder.name": "mlp"},
            "D judges pairing='ali''s \\(x, z\\) pairs",
        ),
    ],
)
def test_sampler_config_errors_are_one_line(overrides, message):
    config = make_tiny_config(**overrides)
    if config.objective == "began":
        config.model.d = ml_collections.ConfigDict(dict(name="autoencoder", hidden_sizes=(16,)))
    with pytest.raises(ConfigError, match=message) as error:
        validate(config)
    assert "\n" not in str(error.value)


def _linear_packed_d(pack: int, dim: int = 2):
    """A PacGAN D with no hidden layer: D~(x_1..x_m) = sum_i w_i . x_i + b, additive in its
    slots, as the optimal packed D's logit is (Lin et al. 2018, Sec. 4)."""
    from gan_jax.parts.models.mlp import MLPDiscriminator

    d = MLPDiscriminator(hidden_sizes=(), pack=pack)
    params = d.init(jax.random.PRNGKey(3), jnp.zeros((pack, dim)))
    kernel = np.asarray(params["params"]["Dense_0"]["kernel"], np.float64)[:, 0]
    bias = float(params["params"]["Dense_0"]["bias"][0])
    return d, params, kernel.reshape(pack, dim), bias


@pytest.mark.parametrize("pack", [2, 3])
def test_packed_logit_of_an_additive_d_is_its_mean_slot_weight_plus_the_partners(pack):
    d, params, weights, bias = _linear_packed_d(pack)
    x = jax.random.normal(jax.random.PRNGKey(0), (11, 2))
    partners = jax.random.normal(jax.random.PRNGKey(1), (4, pack - 1, 2))
    got = samplers.packed_logit(lambda v: d.apply(params, v), x, partners)
    # By hand: in slot s, x meets weights[s] and the partners fill the other slots in order;
    # averaged over slots and partner packs.
    x64, p64 = np.asarray(x, np.float64), np.asarray(partners, np.float64)
    want = np.zeros(x.shape[0])
    for partner_pack in p64:
        for slot in range(pack):
            others = [w for i, w in enumerate(weights) if i != slot]
            want += (
                x64 @ weights[slot]
                + sum(w @ p for w, p in zip(others, partner_pack, strict=True))
                + bias
            )
    want /= len(p64) * pack
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-5, atol=1e-5)
    # The sample's part is the mean slot weight: differences between samples carry no partner.
    np.testing.assert_allclose(
        np.asarray(got - got[0]), (x64 - x64[0]) @ weights.mean(axis=0), rtol=1e-5, atol=1e-5
    )


def test_packed_logit_with_one_partner_is_the_mean_of_both_orders():
    from gan_jax.parts.models.mlp import MLPDiscriminator

    d = MLPDiscriminator(hidden_sizes=(8,), pack=2)
    params = d.init(jax.random.PRNGKey(4), jnp.zeros((2, 2)))
    x = jax.random.normal(jax.random.PRNGKey(5), (6, 2))
    y = jax.random.normal(jax.random.PRNGKey(6), (2,))
    got = samplers.packed_logit(lambda v: d.apply(params, v), x, y[None, None])
    for i in range(6):  # a second computation: D on the two packs, one sample at a time
        first = d.apply(params, jnp.stack([x[i], y]))[0]
        second = d.apply(params, jnp.stack([y, x[i]]))[0]
        np.testing.assert_allclose(float(got[i]), (first + second) / 2, rtol=1e-5, atol=1e-6)


PACKED = {"model.d.pack": 2, "eval.sampler_candidates": 3, "eval.num_samples": 64}


@pytest.fixture(scope="module")
def packed_run(tmp_path_factory):
    workdir = str(tmp_path_factory.mktemp("packed_samplers"))
    config = make_tiny_config(num_steps=10, **{**PACKED, "eval.samplers": ("drs", "mh")})
    train_and_evaluate(config, workdir, progress=False)
    return workdir


def test_samplers_over_a_packed_d_change_no_training_number(packed_run, tmp_path):
    config = make_tiny_config(num_steps=10, **{**PACKED, "eval.samplers": ()})
    train_and_evaluate(config, str(tmp_path), progress=False)
    plain = read_metrics(f"{tmp_path}/metrics.jsonl")
    sampled = read_metrics(f"{packed_run}/metrics.jsonl")
    assert len(plain) == len(sampled) >= 2
    for row, with_samplers in zip(plain, sampled, strict=True):
        for key, value in row.items():
            if key in ("wall_time", "steps_per_sec") or key.endswith("_time_s"):
                continue
            assert with_samplers[key] == value, key


def test_a_packed_d_run_is_read_through_the_samplers(packed_run):
    final = read_metrics(f"{packed_run}/metrics.jsonl")[-1]
    for name in ("drs", "mh"):
        assert 0 <= final[f"{name}/high_quality_pct"] <= 100, name
        assert 0 < final[f"{name}/acceptance_rate"] <= 1, name
    gan = gan_jax.restore(packed_run)
    exp = gan.experiment
    # The model's logit is packed_logit over G partners drawn with the key it was given.
    key = jax.random.PRNGKey(9)
    model = samplers.model_of(exp, gan.state.g_params, gan.state.d_params, partners_key=key)
    drawn = model.generate(model.draw_latent(key, samplers.PACK_PARTNERS))
    x = model.generate(model.draw_latent(jax.random.PRNGKey(2), 5))
    want = samplers.packed_logit(
        lambda v: exp.discriminator.apply(gan.state.d_params, v),
        x,
        drawn.reshape(samplers.PACK_PARTNERS, 1, 2),
    )
    np.testing.assert_allclose(np.asarray(model.logit(x)), np.asarray(want), rtol=1e-6)
    samples = gan.sample(16, seed=1, sampler="drs")
    assert samples.shape == (16, 2)
    np.testing.assert_array_equal(samples, gan.sample(16, seed=1, sampler="drs"))


def test_a_ratio_classifier_fit_to_g_learns_the_toys_log_density_ratio():
    """The classifier of real (N(1, 0.5^2)) against G (N(0, 1)) samples learns the closed-form
    log ratio where both have mass, and MH reading it draws from the data."""
    params, losses = jax.jit(
        lambda key: ratio_classifier.fit_ratio_classifier(
            TOY.generate, TOY.draw_latent, TOY.draw_real, key, steps=1_000, pool_size=50_000
        )
    )(jax.random.PRNGKey(0))

    def logit(x):
        return ratio_classifier.classifier_logit(params, x)

    assert losses.shape == (1_000,)
    # At the optimum the loss is 2 log 2 - 2 JS(p_data, p_G), by quadrature here.
    x = np.linspace(-8, 8, 20_001)
    p, q = stats.norm(MU, SD).pdf(x), stats.norm().pdf(x)
    m = (p + q) / 2
    js = 0.5 * np.trapezoid(p * np.log(p / m) + q * np.log(q / m), x)
    assert abs(float(losses[-300:].mean()) - (2 * math.log(2) - 2 * js)) < 0.02
    x = jnp.linspace(-0.5, 2.0, 51)[:, None]
    fitted, exact = np.asarray(logit(x)), np.asarray(_log_ratio(x))
    # A constant offset is harmless (DRS's max shift and MH's differences cancel it).
    offset = np.mean(fitted - exact)
    assert np.max(np.abs(fitted - offset - exact)) < 0.35, np.c_[x[:, 0], fitted - offset, exact]
    model = TOY._replace(logit=logit)
    samples, _ = jax.jit(lambda key: samplers.mh(model, key, N, OPTIONS))(jax.random.PRNGKey(1))
    reference = np.random.default_rng(0).normal(MU, SD, 20_000)
    assert stats.wasserstein_distance(np.asarray(samples)[:, 0], reference) < 0.06


@pytest.fixture(scope="module")
def classifier_run(tmp_path_factory):
    """A run whose D has a minibatch layer, which the samplers cannot read per sample, read
    through a classifier fit to G instead."""
    workdir = str(tmp_path_factory.mktemp("ratio_classifier"))
    config = make_tiny_config(
        num_steps=10,
        **{
            "model.d.minibatch_stddev": True,
            "eval.samplers": ("drs", "mh"),
            "eval.sampler_candidates": 3,
            "eval.num_samples": 64,
            "eval.sampler_ratio": "classifier",
            "eval.ratio_classifier_steps": 20,
        },
    )
    train_and_evaluate(config, workdir, progress=False)
    return config, workdir


def test_samplers_read_through_a_ratio_classifier_whatever_d_is(classifier_run):
    """The run logs each sampler's metrics and the fit's loss; the samplers' model reads the
    classifier fit with the key `model_of` folds (D's parameters are not read at all), and the
    D readings that cannot be read per sample validate once they are not read."""
    config, workdir = classifier_run
    final = read_metrics(f"{workdir}/metrics.jsonl")[-1]
    for name in ("drs", "mh"):
        assert final[f"{name}/logit_scale"] == 1.0  # the classifier read as fit
        assert 0.5 < final[f"{name}/ratio_loss"] < 1.5  # logistic loss of 20 steps from 2 log 2
        assert 0 < final[f"{name}/acceptance_rate"] <= 1 and f"{name}/modes_covered" in final
    assert final["drs/ratio_loss"] == final["mh/ratio_loss"]  # one fit per eval, both read it
    exp = make_experiment(validate(config))
    assert exp.sampler_options.ratio == "classifier"
    restored = gan_jax.restore(workdir)
    key = jax.random.PRNGKey(4)
    model = samplers.model_of(exp, restored.state.g_params, None, partners_key=key)
    params, losses = ratio_classifier.fit_ratio_classifier(
        model.generate, model.draw_latent, model.draw_real, jax.random.fold_in(key, 2), steps=20
    )
    x = jax.random.normal(jax.random.PRNGKey(5), (32, 2))
    np.testing.assert_allclose(model.logit(x), ratio_classifier.classifier_logit(params, x))
    np.testing.assert_allclose(model.ratio_diagnostics["ratio_loss"], losses.mean(), rtol=1e-6)
    # The eval program before `eval.samplers_from_step` fits no classifier (its 20-step scan).
    fits = [
        "length=20" in str(jax.make_jaxpr(make_evaluate(exp, with_samplers))(restored.state))
        for with_samplers in (True, False)
    ]
    assert fits == [True, False]
    samples = restored.sample(16, seed=1, sampler="drs")
    assert samples.shape == (16, 2)
    np.testing.assert_array_equal(samples, restored.sample(16, seed=1, sampler="drs"))
    # The classifier is fit once per seed and kept; what it draws is the model_of-built sampler's.
    reading = restored.ratio_reading(1)
    assert restored.ratio_reading(1) is reading and 0.5 < reading.diagnostics["ratio_loss"] < 1.5
    restored.sample(8, seed=1, sampler="mh")
    assert restored.ratio_reading(1) is reading
    direct = samplers.model_of(
        restored.experiment,
        restored.state.g_params,
        restored.state.d_params,
        partners_key=jax.random.fold_in(jax.random.PRNGKey(1), 1),
    )
    drawn, _ = jax.jit(lambda k: samplers.drs(direct, k, 16, restored.experiment.sampler_options))(
        jax.random.PRNGKey(1)
    )
    np.testing.assert_allclose(samples, drawn, rtol=1e-5, atol=1e-6)
    with pytest.raises(ConfigError, match="minibatch features mix"):  # D read as trained
        validate(make_tiny_config(**{**_overrides(config), "eval.sampler_ratio": "d"}))
    classifier = {"eval.samplers": ("drs",), "eval.sampler_ratio": "classifier"}
    began = make_tiny_config(objective="began", **classifier)
    began.model.d = ml_collections.ConfigDict(dict(name="autoencoder", hidden_sizes=(16,)))
    validate(began)  # an energy D
    validate(make_tiny_config(pairing="ali", **{"model.encoder.name": "mlp", **classifier}))


def _overrides(config) -> dict:
    return {
        "model.d.minibatch_stddev": config.model.d.minibatch_stddev,
        "eval.samplers": config.eval.samplers,
    }
