"""`python -m gan_jax.compare A B:label ... --workdir=DIR`: finished sweeps side by side with seed
statistics; the short form of `python -m gan_jax.results.compare` (same flags, same output)."""

import runpy

if __name__ == "__main__":
    # run_module, not an import of `main`: the command's absl flags are defined where it runs
    # as __main__, so that importing it elsewhere defines none.
    runpy.run_module("gan_jax.results.compare", run_name="__main__", alter_sys=True)
