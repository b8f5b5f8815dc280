"""Why the published GAN row collapses and ours does not (issue 23, item 2): the GAN of the
literature sweep with the choices of the code behind the published rows (Metz et al.'s
unrolled-GAN notebook, copied by VEEGAN's and GDPP's 2D code), one at a time, 5 seeds each:

- gan_minimax: G minimises -L_D, the saturating minimax loss (the notebook's
  `g_train_opt.minimize(-unrolled_loss)` with k = 0), instead of the non-saturating loss;
- gan_orthogonal: every dense layer starts orthogonal with gain 1.4 (the notebook's
  `tf.orthogonal_initializer(gain=1.4)`), instead of flax's LeCun normal;
- gan_notebook: both, on the ring and the grid;
- gan_notebook_r1: both, on the notebook's ring scale (radius 1, sigma 0.01; 8 distinct centres,
  where the notebook's `linspace(0, 2 pi, 8)` gives 7, one of double weight).

  python -m gan_jax.main --config=experiments/literature_2d/gan_probe.py --workdir=runs/gan_probe

The reference is the main sweep's gan-ring / gan-grid (the same runs for seeds 0-4).
"""

import ml_collections

from configs import literature

PROBES = (
    "gan_minimax-ring",
    "gan_notebook-ring",
    "gan_notebook_r1-ring",
    "gan_orthogonal-ring",
    "gan_notebook-grid",
)


def get_config() -> ml_collections.ConfigDict:
    return literature.probe_sweep(PROBES)
