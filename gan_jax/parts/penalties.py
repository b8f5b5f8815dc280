"""Gradient penalties on D, found by name (`config.penalty.name`), weighted by the dynamic
`config.penalty.weight`, added to any logit objective's D loss.

Each is `penalty(discriminate, real, fake, key) -> scalar`, `discriminate(x) -> (n,)` logits,
one per sample: config validation refuses penalties with PacGAN packing or minibatch features,
where D's output for one sample depends on others.
"""

import jax
import jax.numpy as jnp


def _input_gradients(discriminate, x):
    """Per-sample gradients dD(x_i)/dx_i (D's outputs are summed: samples are independent)."""
    return jax.grad(lambda v: jnp.sum(discriminate(v)))(x)


def gradient_penalty(discriminate, real, fake, key):
    """WGAN-GP (Gulrajani et al. 2017, Eq. 3): E[(||grad D(x_hat)||_2 - 1)^2] on random
    interpolates x_hat = eps x + (1 - eps) x_fake, eps ~ U[0, 1] per sample."""
    eps = jax.random.uniform(key, (real.shape[0],) + (1,) * (real.ndim - 1))
    interpolates = eps * real + (1.0 - eps) * fake
    grads = _input_gradients(discriminate, interpolates).reshape(real.shape[0], -1)
    # sqrt(. + tiny), not norm(): norm's gradient is NaN where a sample's gradient is exactly 0
    norms = jnp.sqrt(jnp.sum(grads**2, axis=-1) + 1e-12)
    return jnp.mean((norms - 1.0) ** 2)


def r1_penalty(discriminate, real, fake, key):
    """R1 (Mescheder et al. 2018, Eq. 9): (1/2) E_x[||grad D(x)||^2] on real data; the weight
    is the paper's gamma."""
    del fake, key
    grads = _input_gradients(discriminate, real).reshape(real.shape[0], -1)
    return 0.5 * jnp.mean(jnp.sum(grads**2, axis=-1))


def no_penalty(discriminate, real, fake, key):
    del discriminate, real, fake, key
    return jnp.zeros(())


PENALTIES = {"none": no_penalty, "gp": gradient_penalty, "r1": r1_penalty}
