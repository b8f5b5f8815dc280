"""ALI / BiGAN (Dumoulin et al. 2017, "Adversarially Learned Inference"; Donahue et al. 2017,
"Adversarial Feature Learning") on the 8-Gaussian ring: an encoder E(x) -> z (2 x 128 tanh MLP)
trained with G, D judging (x, E(x)) against (G(z), z); G's side minimises the non-saturating G
loss on fake pairs plus the same loss with the labels swapped on real pairs. Everything else is
configs/gan.py, the VEEGAN / GDPP protocol (2 x 128 tanh G, z in R^256, batch 512, Adam with G
lr 1e-3 and D lr 1e-4; E shares G's optimizer), whose Table 1 has ALI's row.

  python -m gan_jax.main --config=configs/ali.py --workdir=runs/ali
  python -m gan_jax.main --config=configs/ali.py --config.data.name=grid --workdir=runs/ali_grid
"""

import ml_collections

from configs import gan


def get_config():
    config = gan.get_config()
    config.pairing = "ali"
    config.model.encoder = ml_collections.ConfigDict(
        dict(name="mlp", hidden_sizes=(128, 128), activation="tanh")
    )
    return config
