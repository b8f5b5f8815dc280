"""k-NN radii of the image metrics: `gan_jax.metrics.images.knn_radii_squared` against the
`lax.top_k` form it replaced, in one process, interleaved (median of the rounds), outputs
checked equal. The radii of the eval samples are computed at every image eval (10,000 samples on
stacked MNIST), so their speed is part of every image run.

  python benchmarks/bench_knn.py [--sizes 4000 10000] [--rounds 3]
"""

import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np

from gan_jax.metrics import images


def knn_radii_squared_top_k(feats, k: int = 3, chunk_size: int = 1024):
    """The replaced form: per row, `lax.top_k` of the negated distances, rows vmapped in
    batches of `chunk_size` by `lax.map`."""

    def radius(row):
        sq = images._squared_distances(row[None, :], feats)[0]
        neg_smallest, _ = jax.lax.top_k(-sq, k + 1)
        return -neg_smallest[k]

    return jax.lax.map(radius, feats, batch_size=min(chunk_size, feats.shape[0]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[4000, 10000])
    parser.add_argument("--dim", type=int, default=256, help="feature size (the classifiers')")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    ways = {
        "top_k (before)": jax.jit(knn_radii_squared_top_k),
        "argmin mask (now)": jax.jit(images.knn_radii_squared),
    }
    print(f"jax {jax.__version__} on {jax.default_backend()}, k = 3, chunk 1024, d = {args.dim}")
    print("| samples | " + " | ".join(f"{name}, s" for name in ways) + " | speed-up |")
    print("| --- |" + " --- |" * (len(ways) + 1))
    for n in args.sizes:
        feats = jax.random.normal(jax.random.PRNGKey(n), (n, args.dim), jnp.float32)
        outputs = {name: np.asarray(fn(feats)) for name, fn in ways.items()}  # compile, check
        reference, *others = outputs.values()
        for other in others:
            np.testing.assert_array_equal(other, reference)
        seconds = {name: [] for name in ways}
        for _ in range(args.rounds):
            for name, fn in ways.items():
                start = time.perf_counter()
                jax.block_until_ready(fn(feats))
                seconds[name].append(time.perf_counter() - start)
        medians = [float(np.median(s)) for s in seconds.values()]
        print(
            f"| {n:,} | "
            + " | ".join(f"{m:.2f}" for m in medians)
            + f" | {medians[0] / medians[-1]:.1f}x |"
        )


if __name__ == "__main__":
    main()
