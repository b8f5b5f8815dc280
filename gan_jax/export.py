"""`python -m gan_jax.export --workdir=RUN --num_samples=N --out=FILE.npz`: a run's samples as
uint8 NHWC for clean-fid / torch-fidelity; the short form of `python -m gan_jax.results.export`
(same flags, same output)."""

import runpy

if __name__ == "__main__":
    # run_module, not an import of `main`: the command's absl flags are defined where it runs
    # as __main__, so that importing it elsewhere defines none.
    runpy.run_module("gan_jax.results.export", run_name="__main__", alter_sys=True)
