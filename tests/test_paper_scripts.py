"""The diagnostics of experiments/paper_tables (scripts run on trained sweeps) on hand-built
pools, where the answer is known."""

import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "experiments", "paper_tables"))

from drs_ceiling import ceiling_row, drs_row  # noqa: E402
from ratio_reading_check import mode_errors, real_losses  # noqa: E402

CENTERS = np.array([[0.0, 0.0], [2.0, 0.0], [0.0, 2.0], [2.0, 2.0]])


def _pool(counts):
    """Points at the centres, `counts[m]` of mode m (all high quality), and 5 far off."""
    points = [np.repeat(CENTERS[m : m + 1], c, axis=0) for m, c in enumerate(counts)]
    return np.concatenate(points + [np.full((5, 2), 10.0)])


def test_mode_errors_vanish_for_the_true_ratio_up_to_an_offset_and_show_one_mode_off():
    counts = np.array([100, 50, 25, 25])
    nearest = np.repeat(np.arange(4), counts)
    high_quality = np.ones(nearest.size, bool)
    true = np.log(1.0 / (4 * counts / counts.sum()))  # log(p_m / q_m), p uniform
    for offset in (0.0, 3.0):
        errors, found = mode_errors(true[nearest] + offset, nearest, high_quality, 4)
        np.testing.assert_allclose(found, true, atol=1e-12)
        np.testing.assert_allclose(errors, 0.0, atol=1e-12)
    # Mode 1 read 1 nat high: after centring it is 3/4 over, the others 1/4 under.
    logits = true[nearest] + np.where(nearest == 1, 1.0, 0.0)
    errors, _ = mode_errors(logits, nearest, high_quality, 4)
    np.testing.assert_allclose(errors, [-0.25, 0.75, -0.25, -0.25], atol=1e-12)


def test_mode_errors_read_the_log_mean_ratio_within_a_mode_and_skip_unvisited_modes():
    nearest = np.array([0, 0, 1, 1, 2])
    high_quality = np.array([True, True, True, True, False])  # mode 2's sample is off the disc
    logits = np.array([0.0, np.log(3.0), 0.0, 0.0, 5.0])  # mode 0 reads log mean(1, 3) = log 2
    errors, true = mode_errors(logits, nearest, high_quality, 3)
    assert np.isnan(true[2]) and np.isnan(errors[2])
    np.testing.assert_allclose(true[:2], np.log(1 / 1.5))  # each mode holds half: 1 / (3 / 2)
    np.testing.assert_allclose(errors[:2], [np.log(2.0) / 2, -np.log(2.0) / 2], atol=1e-12)


def test_ceiling_row_is_zero_for_a_balanced_pool_and_positive_when_a_mode_is_short():
    label, modes, hq, kl, _ = ceiling_row(_pool([30, 30, 30, 30]), CENTERS, 0.05, 20, 6)
    assert "ceiling" in label and modes == 4 and hq == 95.0  # ceil(0.93 * 20) of 20
    assert kl == 0.0
    # 19 HQ samples needed, mode 3 holds 1: water-filling gives 6, 6, 6, 1.
    _, modes, _, kl, _ = ceiling_row(_pool([30, 30, 30, 1]), CENTERS, 0.05, 20, 6)
    shares = np.array([6, 6, 6, 1]) / 19
    assert modes == 4
    np.testing.assert_allclose(kl, np.sum(shares * np.log(4 * shares)), rtol=1e-9)


def test_drs_row_keeps_only_the_mode_its_reading_favours_when_the_pool_affords_it():
    import jax

    from gan_jax.step.samplers import SamplerOptions

    pool = _pool([30, 30, 30, 30])  # 125 entries: modes 0-3 in order, then 5 far off
    reading = np.where(np.arange(len(pool)) < 30, 0.0, -30.0)  # only mode 0 at the max logit
    options = SamplerOptions(drs_gamma_rule="budget")
    label, modes, hq, kl, rate = drs_row(
        "DRS", pool, reading, jax.random.PRNGKey(0), options, 20, CENTERS, 0.05
    )
    # Mode 0's 30 entries are accepted with probability ~1 (30 >= 20 asked: gamma 0), the rest
    # with ~e^-30: the 20 kept are all mode 0's, perfectly placed; one mode of 4 is KL log 4.
    assert label == "DRS" and modes == 1 and hq == 100.0
    np.testing.assert_allclose(kl, np.log(4.0), rtol=1e-5)
    np.testing.assert_allclose(rate, 30 / 125, atol=1e-9)


def test_real_losses_tell_a_memorising_classifier_from_one_that_reads_the_mixture():
    import jax
    import jax.numpy as jnp

    from gan_jax.parts.data import mixtures

    data = mixtures.grid(num_points=50)
    points = jnp.asarray(data.points)

    def memorised(x):  # +20 on the data set's own points, 0 anywhere else
        hit = jnp.any(jnp.all(x[:, None, :] == points[None], axis=-1), axis=1)
        return jnp.where(hit, 20.0, 0.0)

    seen, held_out, se = real_losses(memorised, data, jax.random.PRNGKey(0), m=2_000)
    np.testing.assert_allclose(seen, np.log1p(np.exp(-20.0)), rtol=1e-4)
    np.testing.assert_allclose(held_out, np.log(2.0), rtol=1e-6)  # softplus(0)
    assert se < 1e-6  # both losses constant over their draws

    # A reading of the mixture itself (its distance to the nearest mode) scores both the same.
    def near_a_mode(x):
        return 5.0 - jnp.min(jnp.sum((x[:, None] - data.centers[None]) ** 2, -1), axis=1)

    seen, held_out, se = real_losses(near_a_mode, data, jax.random.PRNGKey(0), m=20_000)
    np.testing.assert_allclose(seen, held_out, rtol=1e-2)
    assert 0 < se and abs(held_out - seen) < 4 * se


def test_last_fifth_summary_reads_the_final_step_and_steadiness_over_every_kept_step(capsys):
    from last_fifth_check import summary

    rows = []
    for step in (20, 25):
        for run, modes in (("seed=0", 25.0), ("seed=1", 24.0 if step == 20 else 25.0)):
            for label, kl in (("raw G", 0.3), ("mh, classifier, 9 candidates", 0.03)):
                rows.append(dict(step=step, run=run, label=label, modes=modes, hq=95.0, kl=kl))
            rows.append(dict(step=step, run=run, label="ceiling", modes=25.0, hq=93.0, kl=0.0))
    summary(rows)
    lines = {
        line.split(" | ")[1]: line
        for line in capsys.readouterr().out.splitlines()
        if line.startswith("| re-read")
    }
    assert set(lines) == {"raw G", "raw G, mh sampler"}  # no ceiling row
    # Final step 25: every mode in both runs; seed=1 lost one at step 20: 1 of 2 steady.
    mh = lines["raw G, mh sampler"]
    assert "| 25 | 2 | 25.00 ± 0.00" in mh and "| 2 of 2 | 95.0 ± 0.0" in mh
    assert "| 0.030 ± 0.000" in mh and "| 1 of 2 |" in mh
    assert mh.endswith("| 1 of 2 | – | yes / yes / yes / no |")  # no timing in checkpoints
    assert lines["raw G"].endswith("yes / yes / no / no |")
