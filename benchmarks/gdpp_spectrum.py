"""GDPP's step with its kernel's spectrum from the n x n kernel L = phi phi^T against the h x h
Gram matrix phi^T phi (gan_jax/parts/regularizers.py, `_gram_spectrum`), on the literature
protocol's GDPP (configs/literature.py:gdpp-ring: batch n = 512, D's last hidden layer h = 128).

  python benchmarks/gdpp_spectrum.py     # ms per train step, each form twice, alternating

One process, one compiled 50-step chunk per form, timed after a warm-up chunk; the forms
alternate so a change in the machine's load shows as a spread between the two repeats.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import jax  # noqa: E402

from configs import literature  # noqa: E402
from gan_jax.parts import regularizers  # noqa: E402
from gan_jax.step.config import validate  # noqa: E402
from gan_jax.step.train import init_run, make_train_chunk  # noqa: E402

STEPS = 50


def whole_kernel(features):
    return regularizers._kernel_spectrum(regularizers._normalised_rows(features))


def step_ms(spectrum) -> float:
    regularizers._dpp_kernel_spectrum = spectrum  # read when the step is traced
    exp, state = init_run(validate(literature.get_config("gdpp-ring")))
    chunk = jax.jit(make_train_chunk(exp, STEPS))
    state, _ = chunk(state)
    jax.block_until_ready(state)
    start = time.perf_counter()
    state, _ = chunk(state)
    jax.block_until_ready(state)
    return (time.perf_counter() - start) / STEPS * 1000


def main():
    gram = regularizers._dpp_kernel_spectrum
    times = {"whole kernel (512 x 512)": [], "Gram matrix (128 x 128)": []}
    for _ in range(2):
        for name, spectrum in zip(times, (whole_kernel, gram), strict=True):
            times[name].append(step_ms(spectrum))
    for name, values in times.items():
        print(f"{name}: " + ", ".join(f"{v:.1f}" for v in values) + " ms/step")
    whole, gram_ms = (min(v) for v in times.values())
    print(f"speed-up (best of each): {whole / gram_ms:.1f}x")


if __name__ == "__main__":
    main()
