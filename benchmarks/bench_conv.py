"""The DCGAN train step at MNIST size (28x28x1, batch 64, latent 100), JAX vs PyTorch.

  python benchmarks/bench_conv.py                                       # JAX only
  python benchmarks/bench_conv.py --torch-python /tmp/torchvenv/bin/python   # + PyTorch
  python benchmarks/bench_conv.py --threads 1 --torch-python ...       # one core each
  python benchmarks/bench_conv.py --quick                               # a smoke run

G 100 -> 7x7x256 -> 14x14x128 -> 28x28x1 (LayerNorm, ReLU, tanh), D 1 -> 64 -> 128 stride-2 4x4
convolutions (leaky ReLU) -> 1: `DCGANGenerator` / `DCGANDiscriminator` with base_features 64.
One step is the project's `make_train_step` (non-saturating loss, Adam, alternating updates).
Rows:

  - baseline: every convolution as XLA's `lax.conv_general_dilated` and the fractionally-strided
    one as `lax.conv_transpose` (= `nn.ConvTranspose`), as a jitted step in a Python loop (what
    the issue measured) and scanned (`make_train_chunk`, as training runs it);
  - project: `conv2d` as im2col + matmul on CPU, the transposed convolution as four 2x2
    phase convolutions (`DCGANGenerator(upsample="transpose")`), the same function and
    parameters; as a loop and scanned;
  - upsample="resize": nearest x2 + 3x3 convolution, also as phase convolutions;
  - with spectral norm on D, and with one second-order unrolled D step (Metz et al. 2016).

PyTorch runs the same architecture and step (GroupNorm(1, C) is this LayerNorm over (C, H, W)
with a per-channel affine), in this process when torch imports here, else in the interpreter
given by `--torch-python` (a venv with torch, e.g. `python -m venv /tmp/torchvenv &&
/tmp/torchvenv/bin/pip install torch numpy`), driven over a pipe. Every row is timed once per
round, JAX and PyTorch interleaved, and the best round counts: both see the same machine load.
"""

import argparse
import contextlib
import json
import os
import subprocess
import sys
import time

SHAPE = (28, 28, 1)
BATCH, LATENT = 64, 100
BASELINE = "XLA convs + XLA transposed conv, jitted step in a Python loop"
BASELINE_SCANNED = "XLA convs + XLA transposed conv, scanned (2 steps, once)"
PROJECT_LOOP = "project: matmul convs, transpose as 4 phase convs, jitted step in a Python loop"
PROJECT = "project: matmul convs, transpose as 4 phase convs, scanned"
RESIZE = "project, upsample=resize (nearest + 3x3 as 4 phase convs), scanned"


def _timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


# --- JAX ----------------------------------------------------------------------------------


def _jax_runners(steps):
    """{row: (run, steps per run, rounds)}, every program compiled and warmed up."""
    import jax
    import jax.numpy as jnp
    from jax import lax

    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from configs import default
    from gan_jax.parts import objectives, optim, penalties
    from gan_jax.parts.models import dcgan
    from gan_jax.step.experiment import Experiment, Unroll, dynamic_params
    from gan_jax.step.train import init_state, make_train_chunk, make_train_step

    class StandInImages:
        """MNIST-sized stand-in: uniform random uint8 images scaled to [-1, 1] on device."""

        name = "mnist_standin"
        shape = SHAPE

        def sample(self, key, n):
            pixels = jax.random.randint(key, (n, *SHAPE), 0, 256, jnp.int32).astype(jnp.uint8)
            return pixels.astype(jnp.float32) / 127.5 - 1.0

    config = default.get_config()
    config.optim.g.learning_rate = config.optim.d.learning_rate = 2e-4  # Radford et al.

    def experiment(upsample="transpose", spectral_norm=False, unroll=0):
        return Experiment(
            dataset=StandInImages(),
            generator=dcgan.DCGANGenerator(SHAPE, latent_dim=LATENT, upsample=upsample),
            discriminator=dcgan.DCGANDiscriminator(spectral_norm=spectral_norm),
            objective=objectives.get_objective("nonsaturating"),
            penalty=penalties.PENALTIES["none"],
            g_optimizer=optim.make_optimizer(config.optim.g),
            d_optimizer=optim.make_optimizer(config.optim.d),
            batch_size=BATCH,
            n_d_steps=1,
            update_order="alternating",
            unroll=Unroll(steps=unroll, second_order=True, fresh_batches=False, remat=False),
            eval_samples=BATCH,
        )

    def lax_transpose(x, kernel):
        dn = ("NHWC", "HWIO", "NHWC")
        return lax.conv_transpose(x, kernel, (2, 2), "SAME", dimension_numbers=dn)

    @contextlib.contextmanager
    def xla_convolutions():
        """The baseline: every convolution as XLA's own (lax.conv_general_dilated) and the
        transposed one as lax.conv_transpose (= nn.ConvTranspose)."""
        saved = dcgan.CONV_IMPLEMENTATION, dcgan.transposed_conv_2x
        dcgan.CONV_IMPLEMENTATION, dcgan.transposed_conv_2x = "xla", lax_transpose
        try:
            yield
        finally:
            dcgan.CONV_IMPLEMENTATION, dcgan.transposed_conv_2x = saved

    def runner(exp, scanned=True, steps=steps):
        state = init_state(exp, jax.random.PRNGKey(0), dynamic_params(config))
        if scanned:  # as training runs: `steps` steps in one lax.scan
            chunk = jax.jit(make_train_chunk(exp, steps))

            def run():
                jax.block_until_ready(chunk(state))

        else:  # a Python loop over a jitted single step
            step = jax.jit(make_train_step(exp))
            keys = jax.random.split(jax.random.PRNGKey(1), steps)

            def run():
                s = state
                for key in keys:
                    s, _ = step(s, key)
                jax.block_until_ready(s)

        run()  # compiles (tracing now, while the patched functions are in place) and warms up
        return run, steps

    runners = {}
    with xla_convolutions():
        runners[BASELINE] = (*runner(experiment(), scanned=False), None)
        # ~50x slower kernel gradients inside a while loop: 2 steps, in the first round only
        runners[BASELINE_SCANNED] = (*runner(experiment(), steps=2), 1)
    runners[PROJECT_LOOP] = (*runner(experiment(), scanned=False), None)
    runners[PROJECT] = (*runner(experiment()), None)
    runners[RESIZE] = (*runner(experiment("resize")), None)
    runners["project + D spectral norm (20 iterations)"] = (
        *runner(experiment(spectral_norm=True)),
        None,
    )
    runners["project + unroll k=1, second order"] = (*runner(experiment(unroll=1)), None)
    return runners


# --- PyTorch ------------------------------------------------------------------------------


def _torch_runners(steps):
    """{row: run} for the same architecture and step in PyTorch, warmed up."""
    import torch
    from torch import nn

    torch.manual_seed(0)
    threads = int(os.environ.get("BENCH_THREADS") or len(os.sched_getaffinity(0)))
    torch.set_num_threads(threads)

    def up(cin, cout, mode, bias):
        if mode == "transpose":
            return nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=bias)
        return nn.Sequential(nn.Upsample(scale_factor=2), nn.Conv2d(cin, cout, 3, 1, 1, bias=bias))

    def models(mode):
        g = nn.Sequential(
            nn.Linear(LATENT, 7 * 7 * 256, bias=False),
            nn.Unflatten(1, (256, 7, 7)),
            nn.GroupNorm(1, 256),
            nn.ReLU(),
            up(256, 128, mode, False),
            nn.GroupNorm(1, 128),
            nn.ReLU(),
            up(128, 1, mode, True),
            nn.Tanh(),
        )
        d = nn.Sequential(
            nn.Conv2d(1, 64, 4, 2, 1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(64, 128, 4, 2, 1),
            nn.LeakyReLU(0.2),
            nn.Flatten(),
            nn.Linear(128 * 7 * 7, 1),
        )
        return g, d

    def runner(mode, channels_last):
        g, d = models(mode)
        fmt = torch.channels_last if channels_last else torch.contiguous_format
        g, d = g.to(memory_format=fmt), d.to(memory_format=fmt)
        opt_g = torch.optim.Adam(g.parameters(), 2e-4, betas=(0.5, 0.999))
        opt_d = torch.optim.Adam(d.parameters(), 2e-4, betas=(0.5, 0.999))
        softplus = nn.functional.softplus

        def step():
            real = torch.randint(0, 256, (BATCH, 1, 28, 28)).float() / 127.5 - 1.0
            real = real.contiguous(memory_format=fmt)
            fake = g(torch.randn(BATCH, LATENT))
            d_loss = softplus(-d(real)).mean() + softplus(d(fake.detach())).mean()
            opt_d.zero_grad()
            d_loss.backward()
            opt_d.step()
            g_loss = softplus(-d(fake)).mean()  # against the updated D, as "alternating"
            opt_g.zero_grad()
            g_loss.backward()
            opt_g.step()

        def run():
            for _ in range(steps):
                step()

        run()
        return run

    return {
        f"transpose (ConvTranspose2d), NCHW, {threads} threads": runner("transpose", False),
        f"transpose (ConvTranspose2d), channels_last, {threads} threads": runner("transpose", True),
        f"resize (Upsample + Conv2d 3x3), NCHW, {threads} threads": runner("resize", False),
    }


def _torch_server(steps):
    """Runs in the torch interpreter: prints the row names, then times the row named on each
    line of stdin and prints its seconds, so that the JAX process interleaves the two."""
    runners = _torch_runners(steps)
    print(json.dumps(list(runners)), flush=True)
    for line in sys.stdin:
        print(_timed(runners[line.strip()]), flush=True)


class _TorchClient:
    """The torch rows, in this process when torch imports here, else in `torch_python`."""

    def __init__(self, torch_python, steps):
        self.process, self.runners = None, None
        try:
            self.runners = _torch_runners(steps)
            self.rows = list(self.runners)
        except ImportError:
            if not torch_python:
                self.rows = []
                return
            command = [torch_python, os.path.abspath(__file__), "--torch-server"]
            command += ["--steps", str(steps)]
            self.process = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
            )
            self.rows = json.loads(self.process.stdout.readline())

    def time(self, row):
        if self.runners is not None:
            return _timed(self.runners[row])
        self.process.stdin.write(row + "\n")
        self.process.stdin.flush()
        return float(self.process.stdout.readline())

    def close(self):
        if self.process is not None:
            self.process.stdin.close()
            self.process.wait()


def _table(title, rows):
    print(f"\n## {title}\n| way | ms/step |\n| --- | --- |")
    for way, ms in rows.items():
        print(f"| {way} | {ms:.1f} |")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--torch-python", help="an interpreter with torch, for the comparison")
    parser.add_argument(
        "--threads", type=int, help="pin both libraries to this many cores (default: all)"
    )
    parser.add_argument("--torch-server", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--steps", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    steps, rounds = (2, 1) if args.quick else (10, 3)
    steps = args.steps or steps
    if args.threads:
        # XLA's thread flags still leave it two busy threads on two cores; pinning this process
        # (and so the torch server it starts) to `threads` cores is what holds both libraries
        os.sched_setaffinity(0, set(sorted(os.sched_getaffinity(0))[: args.threads]))
        os.environ["BENCH_THREADS"] = str(args.threads)  # torch.set_num_threads, here and there
    if args.torch_server:
        _torch_server(steps)
        return

    import jax

    threads = os.environ.get("BENCH_THREADS", f"all ({len(os.sched_getaffinity(0))})")
    print(f"# DCGAN step, {SHAPE}, batch {BATCH}: jax {jax.__version__}, {jax.devices()}")
    print(f"threads per library: {threads}")
    print(f"{steps} steps per timing; {rounds} rounds, each times every row once (JAX and")
    print("PyTorch interleaved); the best round counts")
    torch = _TorchClient(args.torch_python, steps)
    jax_runners = _jax_runners(steps)
    best = {}
    for round_ in range(rounds):
        for row, (run, row_steps, row_rounds) in jax_runners.items():
            if row_rounds is None or round_ < row_rounds:
                ms = 1e3 * _timed(run) / row_steps
                best[row] = min(best.get(row, ms), ms)
        for row in torch.rows:
            ms = 1e3 * torch.time(row) / steps
            best[("torch", row)] = min(best.get(("torch", row), ms), ms)
    torch.close()
    jax_rows = {row: best[row] for row in jax_runners}
    torch_rows = {row: best[("torch", row)] for row in torch.rows}
    _table("JAX", jax_rows)
    transpose, baseline, resize = jax_rows[PROJECT], jax_rows[BASELINE], jax_rows[RESIZE]
    print(
        f"\nbaseline / project: {baseline / jax_rows[PROJECT_LOOP]:.2f}x (jitted steps in a loop), "
        f"{jax_rows[BASELINE_SCANNED] / transpose:.1f}x (scanned)"
    )
    print(f"resize / transpose = {resize / transpose:.2f}x")
    if not torch_rows:
        print("\nPyTorch: not measured (torch not importable; pass --torch-python)")
        return
    _table("PyTorch (same architecture and step)", torch_rows)
    torch_transpose = min(ms for way, ms in torch_rows.items() if way.startswith("transpose"))
    torch_resize = min(ms for way, ms in torch_rows.items() if way.startswith("resize"))
    print(
        f"\nJAX / PyTorch (PyTorch's best layout): transpose {transpose / torch_transpose:.2f}x "
        f"(the baseline, jitted steps: {baseline / torch_transpose:.2f}x), "
        f"resize {resize / torch_resize:.2f}x"
    )


if __name__ == "__main__":
    main()
