"""Export a trained image run's samples for outside evaluators (clean-fid, torch-fidelity, ...).

  python -m gan_jax.results.export --workdir=runs/cifar10 --num_samples=50000 --out=samples.npz

writes `num_samples` samples of the run's generator as uint8 NHWC pixels under the key `arr_0`
(the layout of OpenAI's guided-diffusion evaluator and of most sample files in the field). The
samples come from `gan_jax.restore(workdir).sample`, the latest checkpoint's G: by default
(`--weights=auto`) the EMA of G's weights when the run kept one (`ema.enabled`), else G's own
weights; `--weights=ema` or `--weights=raw` chooses. The same workdir, `num_samples`, `seed`,
`batch_size` and weights give the same file. README, "Images", says how to turn the file into
clean-fid / torch-fidelity numbers.
"""

import math
import os
import shutil
import sys
from collections.abc import Sequence

import numpy as np

EXIT_BAD_INPUT = 2  # as gan_jax.main: refused input or a file-system fault, one line on stderr


def batch_seeds(seed: int, num_batches: int) -> list[int]:
    """Distinct 31-bit seeds, one per batch, derived from `seed` (numpy's SeedSequence), so
    that batches of different seeds never share a latent draw."""
    state = np.random.SeedSequence(seed).generate_state(num_batches)
    return [int(s) & 0x7FFFFFFF for s in state]


def to_uint8(samples: np.ndarray) -> np.ndarray:
    """Float samples in [-1, 1] -> uint8 pixels round((x + 1) * 127.5), clipped to 0..255 (as
    `gan_jax.parts.data.images.to_uint8`)."""
    return np.round(np.clip((samples + 1.0) * 127.5, 0, 255)).astype(np.uint8)


WEIGHTS = ("auto", "ema", "raw")


def check_fits(num_samples: int, sample_shape: tuple, batch_size: int, out: str) -> None:
    """Refuses (ValueError, one line with the estimate) an export whose samples cannot be held
    in memory (uint8, twice while the batches are joined, plus one float32 batch) or written to
    `out`'s file system, before anything is generated."""
    from gan_jax.loop import resources

    size = math.prod(sample_shape)
    held = 2 * num_samples * size + 4 * min(batch_size, num_samples) * size
    available = resources.host_available_bytes()
    if available is not None and held > available:
        raise ValueError(
            f"--num_samples={num_samples} needs about {resources.format_bytes(held)} of memory "
            f"({num_samples} samples of {'x'.join(map(str, sample_shape))} uint8, held twice "
            f"while joined), but {resources.format_bytes(available)} are available; export "
            "fewer samples"
        )
    free = shutil.disk_usage(os.path.dirname(os.path.abspath(out))).free
    if num_samples * size > free:
        raise ValueError(
            f"--out={out}: {num_samples} samples need about "
            f"{resources.format_bytes(num_samples * size)}, but its file system has "
            f"{resources.format_bytes(free)} free; export fewer samples or write elsewhere"
        )


def export_samples(
    workdir: str,
    num_samples: int,
    out: str,
    seed: int = 0,
    batch_size: int = 1000,
    weights: str = "auto",
) -> np.ndarray:
    """Writes `num_samples` uint8 NHWC samples of the run in `workdir` to the .npz file `out`
    (key `arr_0`; written to a temporary file, then renamed) and returns them.

    Samples are drawn `batch_size` at a time (two compiled shapes at most), batch i from seed
    `batch_seeds(seed, ...)[i]`, with G's EMA weights (`weights="ema"`, or "auto" when the run
    kept an EMA) or its own ("raw"). Raises ValueError for bad arguments, a run without the
    asked-for EMA or whose samples are not images, FileNotFoundError (from `gan_jax.restore`)
    for a workdir without a run.
    """
    from gan_jax import restore

    if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples < 1:
        raise ValueError(f"--num_samples={num_samples!r} is invalid: must be an integer >= 1")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"--batch_size={batch_size!r} is invalid: must be an integer >= 1")
    if weights not in WEIGHTS:
        raise ValueError(f"--weights={weights!r} is invalid: choose one of {list(WEIGHTS)}")
    if not out.endswith(".npz"):
        raise ValueError(f"--out={out!r} is invalid: must name a .npz file")
    parent = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(parent):
        raise ValueError(f"--out={out!r} is invalid: folder {parent} does not exist")
    gan = restore(workdir)
    kept_ema = getattr(gan.state, "g_ema", None) is not None
    if weights == "ema" and not kept_ema:
        raise ValueError(f"--weights=ema: the run in {workdir} kept no EMA of G (ema.enabled)")
    shape = tuple(gan.sample_shape)
    if len(shape) != 3:
        raise ValueError(
            f"{workdir} is not an image run (its samples have shape {shape}); export writes images"
        )
    check_fits(num_samples, shape, batch_size, out)
    ema = weights == "ema" or (weights == "auto" and kept_ema)
    num_batches = -(-num_samples // batch_size)
    batches = []
    for i, batch_seed in enumerate(batch_seeds(seed, num_batches)):
        n = min(batch_size, num_samples - i * batch_size)
        batches.append(to_uint8(gan.sample(n, batch_seed, ema=ema)))
    images = np.concatenate(batches)
    from gan_jax.loop import workdir as wd

    # Atomic, with the process's umask (0644 by default), a fault one line (`wd.writing`).
    wd.write_bytes(out, lambda f: np.savez(f, arr_0=images))
    return images


def main(argv: Sequence[str]) -> None:
    if len(argv) > 1:
        raise ValueError(f"unexpected arguments: {' '.join(argv[1:])}")
    if not _WORKDIR.value or not _OUT.value:
        raise ValueError("--workdir and --out are required")
    images = export_samples(
        _WORKDIR.value,
        _NUM_SAMPLES.value,
        _OUT.value,
        _SEED.value,
        _BATCH_SIZE.value,
        _WEIGHTS.value,
    )
    print(f"wrote {images.shape[0]} samples {images.shape[1:]} uint8 to {_OUT.value}")


if __name__ == "__main__":
    from absl import app, flags

    _WORKDIR = flags.DEFINE_string("workdir", None, "A run's workdir (or a sweep's runs/<run>).")
    _NUM_SAMPLES = flags.DEFINE_integer("num_samples", 50_000, "Number of samples to write.")
    _OUT = flags.DEFINE_string("out", None, "The .npz file to write (key arr_0, uint8 NHWC).")
    _SEED = flags.DEFINE_integer("seed", 0, "Seed of the latent draws.")
    _BATCH_SIZE = flags.DEFINE_integer("batch_size", 1000, "Samples generated per call.")
    _WEIGHTS = flags.DEFINE_string(
        "weights", "auto", "G's weights: auto (EMA when the run kept one), ema or raw."
    )
    try:
        app.run(main)
    except (ValueError, OSError) as error:  # FileNotFoundError and WorkdirError included
        print(f"error: {' '.join(str(error).split())}", file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)
