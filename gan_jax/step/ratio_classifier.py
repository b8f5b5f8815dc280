"""A classifier of real against G samples fit after training, read by the samplers as the log
density ratio in place of the GAN's D (config `eval.sampler_ratio="classifier"`).

A classifier c trained to convergence to tell data (label 1) from a fixed G's samples (label 0),
in equal numbers, has the logit log p_data(x) / p_G(x) at its optimum (Goodfellow et al. 2014,
Prop. 1, for a D against a fixed G). Grover et al. (2019, "Bias correction of learned generative
models using likelihood-free importance weighting", Sec. 3) fit such a classifier to a trained
generative model's samples and correct the model by its ratio. The GAN's own D is no such
classifier: it was trained against a moving G, and on the grid it reads the modes' mass ratios at a
slope of 0.56-0.70 (experiments/paper_tables, grid steps 18-19). Fit to the fixed final G, a fresh
classifier read by the same samplers gave a lower KL at a higher HQ there (grid step 20).

The fit is pure and runs under `jit` (and `vmap` over a sweep's runs): one pool of G samples drawn
once, then `lax.scan` over Adam steps on minibatches of the pool and of fresh real samples. The
pool spares G's forward pass at every step: on PacGAN's G (4 x 400) a 40,000-step fit took 84 s
with the pool against 220 s drawing from G at every step, at the same sampler numbers (this
project's 2-core CPU). The pool holds up to `POOL_SIZE` samples within `POOL_BYTES`: all 500,000
for 2D points (4 MB), ~43,000 for 28 x 28 images (an MLP on flattened pixels is a weak reader of
images, but it runs).
"""

from collections.abc import Callable

import jax
import jax.numpy as jnp
import optax
from jax import lax

from gan_jax.parts.models.mlp import MLP

HIDDEN_SIZES = (128, 128, 128)  # ReLU layers
BATCH_SIZE = 512  # real and G samples each, per step
LEARNING_RATE = 2e-3  # Adam, on a cosine to FINAL_RATE_FRACTION of it over the fit
FINAL_RATE_FRACTION = 0.05
POOL_SIZE = 500_000  # G samples the minibatches are drawn from, at most
POOL_BYTES = 128 * 2**20  # and at most this much memory (per run) for them
POOL_CHUNK = 5_000  # G samples per call while the pool fills: memory holds one chunk's activations


NETWORK = MLP(hidden_sizes=HIDDEN_SIZES, output_size=1, activation="relu")


def classifier_logit(params, x: jax.Array) -> jax.Array:
    """The classifier's logit of each sample, (m, *shape) -> (m,): its estimate of
    log p_data(x) / p_G(x) (equal class weights in the loss: no offset at the optimum)."""
    return NETWORK.apply(params, x.reshape(x.shape[0], -1))[:, 0]


def classifier_loss(params, real, fake):
    """The logistic loss of real (label 1) against G's samples (label 0), equal weights."""
    return jnp.mean(jax.nn.softplus(-classifier_logit(params, real))) + jnp.mean(
        jax.nn.softplus(classifier_logit(params, fake))
    )


def pool_capacity(sample: jax.ShapeDtypeStruct) -> int:
    """How many G samples of `sample`'s shape (one sample, batch axis 1) the pool holds:
    `POOL_SIZE`, or fewer when they would take more than `POOL_BYTES`."""
    per_sample = sample.size * sample.dtype.itemsize
    return max(min(POOL_SIZE, POOL_BYTES // per_sample), 1)


def fit_ratio_classifier(
    generate: Callable,
    draw_latent: Callable,
    draw_real: Callable,
    key: jax.Array,
    steps: int,
    pool_size: int | None = None,
) -> tuple[dict, jax.Array]:
    """Fits a classifier of `draw_real`'s samples against G's (`generate(draw_latent(key, m))`)
    for `steps` Adam steps and returns its parameters (for `classifier_logit`) and the loss of
    each step, (steps,). G is read as given (inference mode) and is not changed. The pool holds
    `pool_size` G samples (None: `pool_capacity` of G's sample shape), whole chunks of
    `POOL_CHUNK`."""
    pool_key, init_key, steps_key = jax.random.split(key, 3)
    if pool_size is None:
        pool_size = pool_capacity(jax.eval_shape(generate, draw_latent(pool_key, 1)))
    chunk = min(POOL_CHUNK, pool_size)
    pool = lax.map(
        lambda k: generate(draw_latent(k, chunk)), jax.random.split(pool_key, pool_size // chunk)
    )
    pool = lax.stop_gradient(pool.reshape(-1, *pool.shape[2:]))
    params = NETWORK.init(init_key, jnp.zeros((1, pool[0].size), pool.dtype))
    schedule = optax.cosine_decay_schedule(LEARNING_RATE, steps, FINAL_RATE_FRACTION)
    optimizer = optax.adam(schedule)

    def step(carry, step_key):
        params, opt_state = carry
        real_key, fake_key = jax.random.split(step_key)
        real = draw_real(real_key, BATCH_SIZE)
        fake = pool[jax.random.randint(fake_key, (BATCH_SIZE,), 0, pool.shape[0])]
        loss, grads = jax.value_and_grad(classifier_loss)(params, real, fake)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), loss

    (params, _), losses = lax.scan(
        step, (params, optimizer.init(params)), jax.random.split(steps_key, steps)
    )
    return params, losses
