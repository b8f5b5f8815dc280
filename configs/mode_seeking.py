"""Mode seeking GAN (Mao et al. 2019, "Mode Seeking Generative Adversarial Networks for Diverse
Image Synthesis", Eq. 3; cf. DSGAN, Yang et al. 2019) on the 8-Gaussian ring: the GAN of
configs/gan.py (the VEEGAN / GDPP protocol: 2 x 128 tanh G, z in R^256, batch 512, Adam with
G lr 1e-3 and D lr 1e-4) with G also minimising 1 / (mean|G(z1) - G(z2)| / mean|z1 - z2| + 1e-5)
over the batch's two halves, weight 1 (the authors' lambda_ms = 1).

  python -m gan_jax.main --config=configs/mode_seeking.py --workdir=runs/mode_seeking
  python -m gan_jax.main --config=configs/mode_seeking.py --config.g_regularizer.weight=0.1 \
      --workdir=runs/mode_seeking_0.1
"""

from configs import gan


def get_config():
    config = gan.get_config()
    config.g_regularizer.name = "mode_seeking"
    config.g_regularizer.weight = 1.0
    return config
