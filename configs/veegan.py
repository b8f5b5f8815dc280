"""VEEGAN (Srivastava et al. 2017, "VEEGAN: Reducing Mode Collapse in GANs using Implicit
Variational Learning", Alg. 1 and Table 1) on the 8-Gaussian ring: a reconstructor F(x) -> z
(2 x 128 tanh MLP), D judging (x, F(x)) against (G(z), z) with the logistic loss (Alg. 1, line
7), G minimising -E[D(G(z), z)] (the KL estimate, line 9, in our sign: D's logit is high on real
pairs) plus E ||z - F(G(z))||^2, F minimising the reconstruction alone (line 8), weight 1.
Everything else is configs/gan.py, the VEEGAN / GDPP protocol (2 x 128 tanh G, z in R^256,
batch 512, Adam with G lr 1e-3 and D lr 1e-4; F shares G's optimizer).

  python -m gan_jax.main --config=configs/veegan.py --workdir=runs/veegan
  python -m gan_jax.main --config=configs/veegan.py --config.data.name=grid --workdir=runs/veegan25

F may also be stochastic, a Normal with a learned scale whose draws z ~ F(x) feed D (Alg. 1,
line 5), trained on -log F(z | G(z)) (Sec. 3's cross-entropy, of which the l2 cost is the
fixed-scale case):

  python -m gan_jax.main --config=configs/veegan.py --config.model.encoder.name=gaussian_mlp \
      --config.g_regularizer.name=reconstruction_nll --workdir=runs/veegan_stochastic
"""

from configs import ali


def get_config():
    config = ali.get_config()  # G and a 2 x 128 tanh network x -> z, here the reconstructor F
    config.pairing = "veegan"
    config.g_regularizer.name = "reconstruction"
    config.g_regularizer.weight = 1.0
    return config
