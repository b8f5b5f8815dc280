"""Regularisers on G's side, found by name (`config.g_regularizer.name`), weighted by the dynamic
`config.g_regularizer.weight`, added to G's loss: the G-side twin of `penalties.py`.

Each is `regularizer(inputs, key) -> (scalar, aux)`, `inputs` a `RegularizerInputs` (the step's
latent batch, G's samples, the real batch, D's inputs built from them, the opponent D's last
hidden features and G's helper network, all differentiable in G's side's parameters) and `aux`
a dict of scalar metrics named "g/..." ("g/regularizer" the unweighted value). G minimises
loss + weight * regulariser. "none" returns an exact 0 and no metrics, so a run without a
regulariser computes what it computed before this extension point existed.
"""

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import lax


class RegularizerInputs(NamedTuple):
    """What a G-side regulariser may read, each differentiable in G's side's parameters."""

    z: jax.Array  # the step's latent batch, (n, latent_dim)
    fake: jax.Array  # G(z), (n, *data shape)
    real: jax.Array  # the step's real batch, (n, *data shape)
    d_real: jax.Array  # D's input built from the real batch (the pairing's; `real` for a GAN)
    d_fake: jax.Array  # D's input built from the fake batch
    d_features: Callable  # D's input -> the opponent D's last hidden features (m, h)
    encode: Callable  # x -> G's helper network's code of x (ALI's E, VEEGAN's F), (n, latent_dim)
    code_log_prob: Callable  # (x, z) -> log F(z | x) per sample, (n,): a stochastic helper's


def no_regularizer(inputs: RegularizerInputs, key):
    del inputs, key
    return jnp.zeros(()), {}


def mode_seeking(inputs: RegularizerInputs, key, eps: float = 1e-5):
    """Mode seeking (Mao et al. 2019, "Mode Seeking GANs", Eq. 3) for an unconditional G: the
    batch's two halves are the pairs (z1, z2),

        L_ms = 1 / (mean|G(z1) - G(z2)| / mean|z1 - z2| + eps),

    means over every element of the half-batch, as the authors' code (HelenMao/MSGAN,
    `loss_lz = 1 / (lz + eps)`, eps = 1e-5) computes it; Eq. 3 maximises the ratio, the code and
    this minimise its inverse. DSGAN (Yang et al. 2019, "Diversity-Sensitive Conditional GANs",
    Eq. 2) is the same ratio maximised with a bound; the inverse keeps this one bounded below.
    An odd batch leaves its last sample out.
    """
    del key
    half = inputs.z.shape[0] // 2
    fake = inputs.fake.reshape(inputs.fake.shape[0], -1)
    out_distance = jnp.mean(jnp.abs(fake[:half] - fake[half : 2 * half]))
    z_distance = jnp.mean(jnp.abs(inputs.z[:half] - inputs.z[half : 2 * half]))
    ratio = out_distance / z_distance
    value = 1.0 / (ratio + eps)
    return value, {"g/regularizer": value, "g/mode_seeking_ratio": ratio}


def _eigh_jvp_gap_floor(scale: float):
    """`jnp.linalg.eigh` whose derivative stays finite on repeated eigenvalues.

    The exact eigenvector derivative is dV = V (F * V^T dA V), F_ij = 1 / (w_j - w_i), infinite
    where two eigenvalues coincide (jax computes it so: NaN / Inf on a degenerate spectrum, and
    D's features of a collapsed or low-rank batch give exactly that). Here
    F_ij = g / (g^2 + delta^2), g = w_j - w_i, delta = `scale` * max|w| (Lorentzian broadening,
    as in differentiable-SVD work, e.g. Wang et al. 2021, "Robust Differentiable SVD"): equal to
    the exact value up to a factor 1 / (1 + (delta / g)^2) where the gap g is well above
    delta, 0 where g = 0. Eigenvalues' derivatives (diag of V^T dA V) are exact.
    """

    @jax.custom_jvp
    def eigh(a):
        return jnp.linalg.eigh(a)

    @eigh.defjvp
    def eigh_jvp(primals, tangents):
        (a,), (a_dot,) = primals, tangents
        w, v = eigh(a)
        a_dot = 0.5 * (a_dot + a_dot.T)
        gap = w[None, :] - w[:, None]
        delta = scale * lax.stop_gradient(jnp.max(jnp.abs(w))) + 1e-30
        f = gap / (gap**2 + delta**2)
        projected = v.T @ a_dot @ v
        return (w, v), (jnp.diagonal(projected), v @ (f * projected))

    return eigh


# Gaps below 1e-6 of the spectrum's scale are damped; a float32 eigh resolves ~1e-7 of it.
safe_eigh = _eigh_jvp_gap_floor(1e-6)


def _normalised_rows(features):
    phi = features.reshape(features.shape[0], -1)
    return phi / jnp.maximum(jnp.linalg.norm(phi, axis=-1, keepdims=True), 1e-12)


def _kernel_spectrum(phi):
    """Eigenvalues (ascending) and unit eigenvectors of L = phi phi^T, eigendecomposed whole."""
    return safe_eigh(phi @ phi.T)


def _gram_spectrum(phi):
    """The same as `_kernel_spectrum` for phi of n rows and h < n columns, from the h x h Gram
    matrix: phi^T phi = V diag(w) V^T gives L's nonzero eigenpairs (w, phi V / sqrt(w)) (the
    SVD of phi), at (h / n)^3 of the cost (GDPP's 2D D: h = 128 features of n = 512 samples, a
    step ~7x faster here; benchmarks/README.md). L's other n - h eigenvalues are 0 and come
    first, with zero vectors for eigenvectors: whole, they are any basis of L's null space,
    and the loss weighs them by real eigenvalues of 0. sqrt(w) is floored at 1e-6 of the
    largest w (float32 noise), so a rank-deficient batch's vectors shrink instead of blowing up.
    """
    n, h = phi.shape
    w, v = safe_eigh(phi.T @ phi)
    floor = 1e-6 * lax.stop_gradient(jnp.max(jnp.abs(w))) + 1e-30
    vectors = (phi @ v) / jnp.sqrt(jnp.maximum(w, floor))
    values = jnp.concatenate([jnp.zeros((n - h,), w.dtype), w])
    return values, jnp.concatenate([jnp.zeros((n, n - h), vectors.dtype), vectors], axis=1)


def _dpp_kernel_spectrum(features):
    """Eigenvalues (ascending) and eigenvectors of L = phi phi^T, phi = the L2-normalised rows
    of `features` (GDPP, Elfeki et al. 2019, Eq. 4: L's (n, n) kernel of a batch), through the
    smaller of L and the Gram matrix phi^T phi (a choice by static shape)."""
    phi = _normalised_rows(features)
    n, h = phi.shape
    return _gram_spectrum(phi) if h < n else _kernel_spectrum(phi)


def gdpp_loss(fake_features, real_features, magnitude_weight: float = 1e-4):
    """GDPP (Elfeki et al. 2019, "GDPP: Learning Diverse Generations Using Determinantal Point
    Processes", Eq. 4-6) between a fake and a real batch's D features:

        L_g = magnitude_weight * mean_i (lambda_fake_i - lambda_real_i)^2
              - sum_i lambda_hat_real_i cos(v_fake_i, v_real_i),

    lambda, v the eigenvalues (ascending) and unit eigenvectors of each batch's kernel
    L = phi phi^T on L2-normalised features, lambda_hat the real ones min-max normalised to
    [0, 1]. As the authors' code (M-Elfeki/GDPP, also facebookresearch/pytorch_GAN_zoo's
    `GDPPLoss`): the magnitude term is an MSE weighted by 1e-4 "to make the two losses
    operating in comparable ranges", cos is the plain dot product of unit eigenvectors (their
    arbitrary signs included), and a flat real spectrum (max = min) is left unnormalised.
    Eigenvectors come from `safe_eigh`, whose gradient stays finite on repeated eigenvalues.

    Returns (loss, magnitude term, structure term), scalars.
    """
    return gdpp_loss_of_spectra(
        _dpp_kernel_spectrum(fake_features),
        _dpp_kernel_spectrum(real_features),
        magnitude_weight,
    )


def gdpp_loss_of_spectra(fake_spectrum, real_spectrum, magnitude_weight: float = 1e-4):
    """`gdpp_loss` from the (eigenvalues, eigenvectors) of each batch's kernel."""
    (fake_values, fake_vectors), (real_values, real_vectors) = fake_spectrum, real_spectrum
    magnitude = magnitude_weight * jnp.mean((fake_values - real_values) ** 2)
    low, high = jnp.min(real_values), jnp.max(real_values)
    spread = high - low
    flat = spread < 1e-10
    weights = jnp.where(flat, real_values, (real_values - low) / jnp.where(flat, 1.0, spread))
    structure = -jnp.sum(weights * jnp.sum(fake_vectors * real_vectors, axis=0))
    return magnitude + structure, magnitude, structure


def gdpp(inputs: RegularizerInputs, key):
    """GDPP's loss (`gdpp_loss`) on the opponent D's last hidden features of the real and the
    fake batch as D sees them. Weight 1 is the authors' 2D setting up to a factor: their code
    averages the GAN and GDPP losses, (L_adv + L_g) / 2, which Adam's scale invariance makes
    the same updates as L_adv + L_g."""
    del key
    loss, magnitude, structure = gdpp_loss(
        inputs.d_features(inputs.d_fake), inputs.d_features(inputs.d_real)
    )
    return loss, {
        "g/regularizer": loss,
        "g/gdpp_magnitude": magnitude,
        "g/gdpp_structure": structure,
    }


def latent_reconstruction(inputs: RegularizerInputs, key):
    """VEEGAN's reconstruction of z (Srivastava et al. 2017, Alg. 1, lines 8-9, the l2 cost
    d(z, x_g) = ||z - F(x_g)||_2^2 with x_g = G(z)): E_z ||z - F(G(z))||^2, summed over the
    latent dimensions, averaged over the batch; its gradient trains both G and the
    reconstructor F (G's helper network, `model.encoder`)."""
    del key
    error = inputs.z - inputs.encode(inputs.fake)
    value = jnp.mean(jnp.sum(error**2, axis=-1))
    return value, {"g/regularizer": value}


def latent_reconstruction_nll(inputs: RegularizerInputs, key):
    """VEEGAN's reconstruction of z for a stochastic reconstructor F_theta(z|x) (Srivastava et
    al. 2017, Sec. 3: the cross-entropy -E_z log F_theta(z | G(z)), of which ||z - F(G(z))||^2
    is the fixed-scale special case): the negative log-likelihood of z under F(G(z)), summed
    over the latent dimensions, averaged over the batch. Trains G and F's loc and scale."""
    del key
    value = -jnp.mean(inputs.code_log_prob(inputs.fake, inputs.z))
    return value, {"g/regularizer": value}


REGULARIZERS = {
    "none": no_regularizer,
    "mode_seeking": mode_seeking,
    "gdpp": gdpp,
    "reconstruction": latent_reconstruction,
    "reconstruction_nll": latent_reconstruction_nll,
}
# What each regulariser reads beyond G's samples: config validation checks the run has it.
NEEDS_D_FEATURES = frozenset({"gdpp"})
# (VEEGAN takes exactly these: reconstructions of z through G's helper.)
NEEDS_ENCODER = frozenset({"reconstruction", "reconstruction_nll"})
# ... and a helper with a density (`encoder.STOCHASTIC_ENCODERS`).
NEEDS_STOCHASTIC_ENCODER = frozenset({"reconstruction_nll"})
# The D names (`config.model.d.name`) whose `apply(..., features=True)` returns D's last hidden
# features.
D_WITH_FEATURES = frozenset({"mlp", "dcgan"})
