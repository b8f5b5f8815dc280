"""The ring study in PyTorch vs gan_jax: run-steps/s of 8 runs, measured in one run.

  python benchmarks/bench_torch.py --torch-python .venv-parity/bin/python
  python benchmarks/bench_torch.py --torch-python ... --steps 20 --rounds 3     # quicker

The study is configs/unrolled.py (Metz et al. 2016, ring): G 256 -> 128 -> 128 -> 2 and
D 2 -> 128 -> 1 with tanh, batch 512, non-saturating loss, Adam (b1 0.5, b2 0.999, eps 1e-8,
eps_root 1e-8; lr G 1e-3, D 1e-4), simultaneous updates, k = 5 second-order unrolled D steps
on the D batch. PyTorch does it as a PyTorch user would: eager mode, parameters as dicts run
with `torch.func.functional_call`, the unrolled D updates a differentiable functional Adam with
`torch.autograd.grad(create_graph=True)`, the 8 runs (seeds) one after another. gan_jax runs
the same 8 runs as its sweeps do: one compiled program over a scanned chunk (`make_train_chunk`),
its runs axis walked as `sweep.runs_axis` says (`--runs-axis`; "auto": "loop" on CPU).

PyTorch runs in its own interpreter (`--torch-python`, a venv with torch; torch is never a
gan_jax dependency), driven over a pipe; the rounds interleave JAX and PyTorch so that both see
the same machine load, and the median round counts.
"""

import argparse
import json
import math
import os
import subprocess
import sys
import time

BATCH, LATENT, HIDDEN_G, HIDDEN_D, K = 512, 256, 128, 128, 5
LR_G, LR_D, B1, B2, EPS, EPS_ROOT = 1e-3, 1e-4, 0.5, 0.999, 1e-8, 1e-8


# --- PyTorch (worker process) ----------------------------------------------------------------


def torch_worker(threads: int):
    """Reads {"runs", "steps"} lines on stdin, trains that many steps of each run, answers with
    {"seconds"} (one line each); a run's state persists across requests. `threads` > 0 sets
    torch's intra-op threads."""
    import torch

    if threads > 0:
        torch.set_num_threads(threads)
    import torch.nn.functional as F
    from torch import nn
    from torch.func import functional_call

    def generator():
        return nn.Sequential(
            nn.Linear(LATENT, HIDDEN_G),
            nn.Tanh(),
            nn.Linear(HIDDEN_G, HIDDEN_G),
            nn.Tanh(),
            nn.Linear(HIDDEN_G, 2),
        )

    def discriminator():
        return nn.Sequential(nn.Linear(2, HIDDEN_D), nn.Tanh(), nn.Linear(HIDDEN_D, 1))

    angles = 2 * math.pi * torch.arange(8) / 8
    centers = 2.0 * torch.stack([torch.cos(angles), torch.sin(angles)], dim=-1)

    def ring(n):
        return centers[torch.randint(0, 8, (n,))] + 0.02 * torch.randn(n, 2)

    def adam_init(params):
        zeros = {name: torch.zeros_like(p) for name, p in params.items()}
        return {"m": zeros, "v": dict(zeros), "t": 0}

    def adam(params, grads, state, lr):
        """optax.adam's update as a pure function (differentiable when the grads are)."""
        t = state["t"] + 1
        m = {n: B1 * state["m"][n] + (1 - B1) * g for n, g in grads.items()}
        v = {n: B2 * state["v"][n] + (1 - B2) * g * g for n, g in grads.items()}
        new = {
            n: p - lr * (m[n] / (1 - B1**t)) / (torch.sqrt(v[n] / (1 - B2**t) + EPS_ROOT) + EPS)
            for n, p in params.items()
        }
        return new, {"m": m, "v": v, "t": t}

    def d_loss(d_module, d_params, real, fake):
        d_real = functional_call(d_module, d_params, (real,))[:, 0]
        d_fake = functional_call(d_module, d_params, (fake,))[:, 0]
        return F.softplus(-d_real).mean() + F.softplus(d_fake).mean()

    class Run:
        def __init__(self, seed):
            torch.manual_seed(seed)
            self.g, self.d = generator(), discriminator()
            self.g_params = {n: p.detach().requires_grad_() for n, p in self.g.named_parameters()}
            self.d_params = {n: p.detach().requires_grad_() for n, p in self.d.named_parameters()}
            self.g_opt, self.d_opt = adam_init(self.g_params), adam_init(self.d_params)

        def step(self):
            real, z = ring(BATCH), torch.randn(BATCH, LATENT)
            fake = functional_call(self.g, self.g_params, (z,))
            # D phase: one update on the detached samples (kept).
            grads = torch.autograd.grad(
                d_loss(self.d, self.d_params, real, fake.detach()), list(self.d_params.values())
            )
            with torch.no_grad():
                d_new, d_opt_new = adam(
                    self.d_params, dict(zip(self.d_params, grads, strict=True)), self.d_opt, LR_D
                )
            # Unroll k differentiable updates from the same (old) D: simultaneous updates.
            params, opt = self.d_params, self.d_opt
            for _ in range(K):
                loss = d_loss(self.d, params, real, fake)
                grads = torch.autograd.grad(loss, list(params.values()), create_graph=True)
                params, opt = adam(params, dict(zip(params, grads, strict=True)), opt, LR_D)
            g_loss = F.softplus(-functional_call(self.d, params, (fake,))[:, 0]).mean()
            g_grads = torch.autograd.grad(g_loss, list(self.g_params.values()))
            with torch.no_grad():
                g_new, self.g_opt = adam(
                    self.g_params, dict(zip(self.g_params, g_grads, strict=True)), self.g_opt, LR_G
                )
            self.g_params = {n: p.detach().requires_grad_() for n, p in g_new.items()}
            self.d_params = {n: p.detach().requires_grad_() for n, p in d_new.items()}
            self.d_opt = d_opt_new

    runs = {}
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads()}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        for seed in range(request["runs"]):
            runs.setdefault(seed, Run(seed))
        start = time.perf_counter()
        for seed in range(request["runs"]):  # run after run, as a PyTorch user would
            for _ in range(request["steps"]):
                runs[seed].step()
        print(json.dumps({"seconds": time.perf_counter() - start}), flush=True)


# --- JAX (driver process) ----------------------------------------------------------------------


def jax_sweep(num_runs: int, steps: int, strategy: str):
    """A function that trains `steps` steps of `num_runs` ring runs as one sweep group, compiled,
    the runs axis walked by `strategy` (`gan_jax.loop.runs_axis`)."""
    import jax

    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from configs import unrolled
    from gan_jax.loop import runs_axis
    from gan_jax.loop.run import init_group_state
    from gan_jax.loop.sharding import replicate, runs_mesh
    from gan_jax.step.experiment import make_experiment
    from gan_jax.step.train import make_train_chunk

    configs = []
    for seed in range(num_runs):
        config = unrolled.get_config()
        config.seed = seed
        configs.append(config)
    exp = make_experiment(configs[0])
    assert (exp.batch_size, exp.unroll.steps, exp.update_order) == (BATCH, K, "simultaneous")
    mesh = runs_mesh(num_runs)
    state, dataset = init_group_state(configs, mesh), replicate(exp.dataset, mesh)
    chunk = runs_axis.compiled_over_runs(
        make_train_chunk(exp, steps), strategy, mesh, in_axes=(0, None)
    )
    jax.block_until_ready(chunk(state, dataset))  # compiles

    def run():
        start = time.perf_counter()
        jax.block_until_ready(chunk(state, dataset))
        return time.perf_counter() - start

    return run


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--torch-python", default=".venv-parity/bin/python")
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--steps", type=int, default=50, help="steps per run per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--torch-threads", type=int, default=0, help="0: torch's default")
    parser.add_argument("--runs-axis", default="auto", help="gan_jax's sweep.runs_axis")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        torch_worker(args.torch_threads)
        return
    worker = subprocess.Popen(
        [
            args.torch_python,
            os.path.abspath(__file__),
            "--worker",
            f"--torch-threads={args.torch_threads}",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    info = json.loads(worker.stdout.readline())

    def torch_round(steps):
        worker.stdin.write(json.dumps({"runs": args.runs, "steps": steps}) + "\n")
        worker.stdin.flush()
        return json.loads(worker.stdout.readline())["seconds"]

    import jax

    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from gan_jax.loop import runs_axis

    strategy = runs_axis.resolve(args.runs_axis)
    jax_round = jax_sweep(args.runs, args.steps, strategy)
    torch_round(2)  # warm-up
    jax_times, torch_times = [], []
    for _ in range(args.rounds):  # interleaved: both see the same load
        jax_times.append(jax_round())
        torch_times.append(torch_round(args.steps))
    worker.stdin.close()
    worker.wait()
    run_steps = args.runs * args.steps
    jax_rate = run_steps / sorted(jax_times)[args.rounds // 2]
    torch_rate = run_steps / sorted(torch_times)[args.rounds // 2]
    print(
        f"# ring study, {args.runs} runs, k = {K} second order, batch {BATCH}; "
        f"jax {jax.__version__} on {jax.devices()[0].platform}, torch {info['torch']} "
        f"({info['threads']} threads); median of {args.rounds} interleaved rounds of "
        f"{args.steps} steps per run"
    )
    print("| way | run-steps/s |\n| --- | --- |")
    print(f"| gan_jax: sweep group, one scanned program, runs_axis={strategy} | {jax_rate:.1f} |")
    print(f"| PyTorch eager, torch.func, runs one after another | {torch_rate:.1f} |")
    print(f"gan_jax / PyTorch = {jax_rate / torch_rate:.2f}x")


if __name__ == "__main__":
    main()
