"""Faults and bad workdirs: every one is a clear line, and no result is lost or changed.

Kills at several points (during a checkpoint write, mid-line in metrics.jsonl), damaged and
silently wrong checkpoints, torn bookkeeping files, two processes on one workdir, a file or a
read-only folder as workdir, a full disk, sweep reruns that shrink, grow or change, a sweep into
a single run's workdir, over-long run names, `--overwrite` in folders of other origin, and
`gan_jax.restore` on folders that hold no run.
"""

import contextlib
import csv
import errno
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap

import jax
import ml_collections
import numpy as np
import pytest
from conftest import ROOT, make_tiny_config, run_main

import gan_jax
from gan_jax.commands import train_and_report
from gan_jax.loop import workdir as wd
from gan_jax.loop.run import train
from gan_jax.loop.workdir import WorkdirError, read_metrics

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _steps(workdir):
    return [row["step"] for row in read_metrics(os.path.join(workdir, "metrics.jsonl"))]


def _assert_states_equal(a, b):
    jax.tree.map(np.testing.assert_array_equal, a, b)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """One finished 20-step run (checkpoints at 10 and 20), copied by the tests that damage it."""
    workdir = str(tmp_path_factory.mktemp("reference"))
    config = make_tiny_config()
    outcome = train(config, workdir, progress=False)
    assert outcome.finished and outcome.stopped_by is None and not outcome.diverged
    return config, workdir, outcome.state


def _copy(reference, tmp_path, name="run"):
    target = str(tmp_path / name)
    shutil.copytree(reference[1], target)
    return target


# --- damaged checkpoints ---------------------------------------------------------------------


def _delete_manifest(path):
    os.remove(os.path.join(path, "default", "manifest.ocdbt"))


def _delete_metadata(path):
    os.remove(os.path.join(path, "default", "_METADATA"))


def _truncate_data(path):
    for name in glob.glob(os.path.join(path, "default", "**", "d", "*"), recursive=True):
        with open(name, "r+b") as f:
            f.truncate(os.path.getsize(name) // 2)


def _overwrite_four_bytes(path):
    (name,) = glob.glob(os.path.join(path, "default", "d", "*"))
    with open(name, "r+b") as f:
        f.seek(os.path.getsize(name) // 2)
        f.write(b"\x7f\x7f\x7f\x7f")


def _silently_wrong(path):
    """A structurally valid checkpoint with other content (here: step 10's state under step
    20): orbax restores it without complaint; only the digest tells."""
    shutil.rmtree(path)
    shutil.copytree(os.path.join(os.path.dirname(path), "10"), path)


@pytest.mark.parametrize(
    "damage",
    [_delete_manifest, _delete_metadata, _truncate_data, _overwrite_four_bytes, _silently_wrong],
)
def test_restore_falls_back_from_a_damaged_checkpoint_and_writes_nothing(
    damage, reference, tmp_path, caplog
):
    workdir = _copy(reference, tmp_path)
    damage(os.path.join(workdir, "checkpoints", "20"))
    before = sorted(os.listdir(os.path.join(workdir, "checkpoints")))
    restored = gan_jax.restore(workdir)
    assert restored.step == 10
    assert sorted(os.listdir(os.path.join(workdir, "checkpoints"))) == before
    (line,) = [r.message for r in caplog.records if "damaged" in r.message]
    assert "checkpoint" in line and "resumed from step 10" in line and "\n" not in line


@pytest.mark.parametrize("damage", [_truncate_data, _silently_wrong])
def test_a_run_resumes_past_a_damaged_checkpoint_to_the_uninterrupted_result(
    damage, reference, tmp_path
):
    config, _, finished = reference
    workdir = _copy(reference, tmp_path)
    damage(os.path.join(workdir, "checkpoints", "20"))
    outcome = train(config, workdir, progress=False)  # resumes from 10, sets 20 aside
    _assert_states_equal(outcome.state, finished)
    assert _steps(workdir) == [0, 10, 20]
    names = os.listdir(os.path.join(workdir, "checkpoints"))
    assert any(name.startswith("20.damaged-") for name in names)
    assert gan_jax.restore(workdir).step == 20


def test_no_intact_checkpoint_is_one_line(reference, tmp_path):
    workdir = _copy(reference, tmp_path)
    for step in ("10", "20"):
        _delete_manifest(os.path.join(workdir, "checkpoints", step))
    with pytest.raises(WorkdirError, match=r"^no intact checkpoint in .*step 20: .*step 10: ") as e:
        gan_jax.restore(workdir)
    assert "\n" not in str(e.value)
    with pytest.raises(WorkdirError, match=r"no intact checkpoint.*--overwrite"):
        train(reference[0], workdir, progress=False)


# --- kills -----------------------------------------------------------------------------------

KILLER = textwrap.dedent(
    """
    import os, signal, sys
    sys.path.insert(0, {root!r}); sys.path.insert(0, os.path.join({root!r}, "tests"))
    from conftest import make_tiny_config
    from gan_jax.loop import checkpoint, workdir
    from gan_jax.loop.run import train

    def die():
        os.kill(os.getpid(), signal.SIGKILL)

    point = {point!r}
    if point == "checkpoint_write":  # the second save is under way when the process dies
        save = checkpoint.ocp.CheckpointManager.save
        def save_then_die(self, step, *args, **kwargs):
            save(self, step, *args, **kwargs)
            if step == 20:
                die()
        checkpoint.ocp.CheckpointManager.save = save_then_die
    if point == "metrics_line":  # half of the step-20 row reaches the file
        append = workdir.append_metrics
        def append_half_then_die(path, row):
            if row["step"] == 20:
                with open(path, "a") as f:
                    f.write('{{"step": 20, "modes_cov')
                die()
            append(path, row)
        workdir.append_metrics = append_half_then_die
    train(make_tiny_config(), {workdir!r}, progress=False)
    """
)


@pytest.mark.parametrize("point", ["checkpoint_write", "metrics_line"])
def test_sigkill_then_resume_gives_the_uninterrupted_run(point, reference, tmp_path):
    config, _, finished = reference
    workdir = str(tmp_path / "run")
    script = KILLER.format(root=ROOT, point=point, workdir=workdir)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=300)
    assert result.returncode == -signal.SIGKILL, result.stderr.decode()[-2000:]

    with pytest.warns(UserWarning, match="dropped unreadable line") if point == "metrics_line" else (
        contextlib.nullcontext()
    ):
        outcome = train(config, workdir, progress=False)
    _assert_states_equal(outcome.state, finished)
    assert _steps(workdir) == [0, 10, 20]


# --- torn or foreign files -------------------------------------------------------------------


def test_torn_config_json_is_one_line_and_nothing_is_deleted(reference, tmp_path):
    workdir = _copy(reference, tmp_path)
    with open(os.path.join(workdir, "config.json"), "w") as f:
        f.write('{"seed": 0, "mod')
    with pytest.raises(WorkdirError, match=r"config.json is damaged \(JSONDecodeError") as e:
        train(reference[0], workdir, progress=False)
    assert "\n" not in str(e.value)
    assert sorted(os.listdir(os.path.join(workdir, "checkpoints")))[:2] == ["10", "20"]


def test_unreadable_sample_files_are_skipped_by_the_plots(tmp_path):
    config = make_tiny_config(**{"eval.plot_samples": 64})  # the reference keeps no samples
    workdir = str(tmp_path / "run")
    train(config, workdir, progress=False)
    config.num_steps = 30
    with open(os.path.join(workdir, "samples", "step_00000010.npy"), "r+b") as f:
        f.truncate(20)
    with pytest.warns(UserWarning, match="skipped unreadable .*step_00000010.npy"):
        outcome = train(config, workdir, progress=False)  # continues to 30, then plots
    assert outcome.finished
    assert os.path.exists(os.path.join(workdir, "samples", "samples_over_training.png"))


def test_overwrite_deletes_only_what_gan_jax_wrote(reference, tmp_path):
    workdir = _copy(reference, tmp_path)
    with open(os.path.join(workdir, "notes.txt"), "w") as f:
        f.write("mine")
    train(make_tiny_config(seed=3, num_steps=10), workdir, overwrite=True, progress=False)
    assert open(os.path.join(workdir, "notes.txt")).read() == "mine"
    assert _steps(workdir) == [0, 10]


def test_a_folder_of_other_origin_is_refused_even_with_overwrite(tmp_path):
    foreign = tmp_path / "foreign"
    (foreign / "samples").mkdir(parents=True)
    (foreign / "config.json").write_text('{"lr": 1}')
    (foreign / "samples" / "photo.png").write_text("x")
    for overwrite in (False, True):
        with pytest.raises(WorkdirError, match=r"holds files gan_jax did not write"):
            train(make_tiny_config(), str(foreign), overwrite=overwrite, progress=False)
    assert (foreign / "samples" / "photo.png").exists()
    assert (foreign / "config.json").read_text() == '{"lr": 1}'


# --- file-system faults ----------------------------------------------------------------------


def test_a_file_as_workdir_or_under_a_file_is_one_line(tmp_path):
    path = tmp_path / "file"
    path.write_text("x")
    with pytest.raises(WorkdirError, match=r"is a file, not a folder"):
        train(make_tiny_config(), str(path), progress=False)
    with pytest.raises(WorkdirError, match=r"^cannot write .*file/run.*: Not a directory"):
        train(make_tiny_config(), str(path / "run"), progress=False)


@pytest.mark.parametrize(
    "code, hint", [(errno.ENOSPC, "free some space"), (errno.EROFS, "you can write to")]
)
def test_disk_full_or_read_only_is_one_line_and_the_run_resumes(
    code, hint, reference, tmp_path, monkeypatch
):
    """A full disk (or a folder turning read-only) while training, simulated at the metrics
    file: the error names the file and what to do; the rerun ends where the clean run ends."""
    config, _, finished = reference
    workdir = str(tmp_path / "run")
    append = wd.append_metrics

    def failing_append(path, row):
        if row["step"] == 20:
            with wd.writing(path):
                raise OSError(code, os.strerror(code), path)
        append(path, row)

    monkeypatch.setattr(wd, "append_metrics", failing_append)
    with pytest.raises(WorkdirError, match=rf"^cannot write .*metrics.jsonl: .*{hint}"):
        train(config, workdir, progress=False)
    monkeypatch.setattr(wd, "append_metrics", append)
    _assert_states_equal(train(config, workdir, progress=False).state, finished)
    assert _steps(workdir) == [0, 10, 20]


# --- locks and exit codes (real processes) ---------------------------------------------------

TINY_FLAGS = [
    "--config=configs/default.py",
    "--config.batch_size=32",
    "--config.model.g.latent_dim=8",
    "--config.model.g.hidden_sizes=(16,16)",
    "--config.model.d.hidden_sizes=(16,)",
    "--config.eval.num_samples=128",
    "--config.eval.plot_samples=0",  # no figures: nothing here reads them
    "--config.num_steps=10",
    "--config.eval_every=10",
    "--config.checkpoint_every=10",
]




def test_a_second_process_on_a_held_workdir_exits_at_once_naming_the_holder(tmp_path):
    workdir = str(tmp_path / "run")
    with wd.lock(workdir):
        result = run_main(*TINY_FLAGS, f"--workdir={workdir}")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"is in use by process {os.getpid()}" in lines[0], lines
    assert not os.path.exists(os.path.join(workdir, "metrics.jsonl"))
    with wd.lock(workdir):  # released when the holder's block ends
        pass


def test_exit_codes_tell_finished_and_diverged_apart(tmp_path):
    finished = run_main(*TINY_FLAGS, f"--workdir={tmp_path / 'ok'}")
    assert finished.returncode == 0, finished.stderr
    diverged = run_main(
        *TINY_FLAGS,
        f"--workdir={tmp_path / 'bad'}",
        "--config.optim.d.learning_rate=1e38",
        "--config.optim.g.learning_rate=1e38",
    )
    assert diverged.returncode == 3, diverged.stderr
    (line,) = [x for x in diverged.stderr.splitlines() if x.startswith("diverged:")]
    assert "went non-finite at step" in line


# --- sweeps ----------------------------------------------------------------------------------


def _sweep(seeds=2, **grid):
    config = make_tiny_config(num_steps=10)
    config.sweep = ml_collections.ConfigDict(dict(seeds=seeds, grid=grid))
    return config


def _csv_runs(workdir):
    with open(os.path.join(workdir, "results.csv")) as f:
        return sorted(row["run"] for row in csv.DictReader(f))


@pytest.fixture(scope="module")
def finished_sweep(tmp_path_factory):
    workdir = str(tmp_path_factory.mktemp("sweep"))
    train_and_report(_sweep(seeds=2), workdir, progress=False)
    return workdir


def test_a_sweep_that_shrinks_or_changes_is_refused_and_nothing_changes(finished_sweep, tmp_path):
    workdir = _copy((None, finished_sweep), tmp_path, "sweep")
    before = open(os.path.join(workdir, "results.csv")).read()
    with pytest.raises(WorkdirError, match=r"a sweep with a different config \(sweep.seeds: 2 -> 1\)"):
        train_and_report(_sweep(seeds=1), workdir, progress=False)
    with pytest.raises(WorkdirError, match=r"sweep.grid.optim.d.learning_rate"):
        train_and_report(_sweep(seeds=2, optim=dict(d=dict(learning_rate=(1e-3,)))), workdir, progress=False)
    assert open(os.path.join(workdir, "results.csv")).read() == before
    assert json.load(open(os.path.join(workdir, "config.json")))["sweep"]["seeds"] == 2


def test_a_sweep_that_grows_keeps_every_finished_run(finished_sweep, tmp_path):
    workdir = _copy((None, finished_sweep), tmp_path, "sweep")
    mtime = os.path.getmtime(os.path.join(workdir, "runs", "seed=0", "metrics.jsonl"))
    outcome = train_and_report(_sweep(seeds=3), workdir, progress=False)
    assert outcome.finished
    assert _csv_runs(workdir) == ["seed=0", "seed=1", "seed=2"]
    assert os.path.getmtime(os.path.join(workdir, "runs", "seed=0", "metrics.jsonl")) == mtime


def test_a_sweep_and_a_single_run_never_share_a_workdir(finished_sweep, reference, tmp_path):
    run_workdir = _copy(reference, tmp_path)
    before = open(os.path.join(run_workdir, "config.json")).read()
    with pytest.raises(WorkdirError, match=r"holds a single run, not a sweep"):
        train_and_report(_sweep(seeds=1), run_workdir, progress=False)
    assert open(os.path.join(run_workdir, "config.json")).read() == before
    assert not os.path.exists(os.path.join(run_workdir, "runs"))
    with pytest.raises(WorkdirError, match=r"holds a sweep, not a single run"):
        train(make_tiny_config(num_steps=10), finished_sweep, progress=False)
    with pytest.raises(WorkdirError, match=r"holds a run of a sweep.*rerun its sweep"):
        train(make_tiny_config(num_steps=10), os.path.join(finished_sweep, "runs", "seed=0"))


def test_run_names_too_long_for_the_file_system_are_shortened_stably(tmp_path):
    value = 0.00012345678901234  # long reprs: seven swept fields make a 300-byte run name
    grid = dict(
        optim=dict(
            g=dict(learning_rate=(value,), b1=(0.5 + value,), b2=(0.99 + value,)),
            d=dict(learning_rate=(value,), b1=(0.5 + value,), b2=(0.99 + value,)),
        ),
        penalty=dict(weight=(value,)),
        consensus=dict(weight=(value,)),
    )
    workdir = str(tmp_path / "sweep")
    train_and_report(_sweep(seeds=1, **grid), workdir, progress=False)
    (folder,) = os.listdir(os.path.join(workdir, "runs"))
    assert len(folder.encode()) <= wd.MAX_NAME_BYTES and "~" in folder
    (name,) = _csv_runs(workdir)
    assert len(name) > 255 and wd.run_folder_name(name) == folder
    assert wd.marker(os.path.join(workdir, "runs", folder))["name"] == name
    assert gan_jax.restore(os.path.join(workdir, "runs", folder)).step == 10


# --- restore ---------------------------------------------------------------------------------


def test_restore_explains_folders_that_hold_no_run_and_writes_nothing(finished_sweep, tmp_path):
    with pytest.raises(FileNotFoundError, match=r"no such folder"):
        gan_jax.restore(str(tmp_path / "missing"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match=r"holds no gan_jax run"):
        gan_jax.restore(str(tmp_path / "empty"))
    with pytest.raises(ValueError, match=r"is a sweep, not a run.*one of: seed=0, seed=1$"):
        gan_jax.restore(finished_sweep)
    moved = str(tmp_path / "moved")
    shutil.copytree(os.path.join(finished_sweep, "runs", "seed=0"), moved)
    before = sorted(os.listdir(tmp_path))
    with pytest.raises(FileNotFoundError, match=r"which is missing"):
        gan_jax.restore(moved)
    assert sorted(os.listdir(tmp_path)) == before  # no stray checkpoints folder
    gan = gan_jax.restore(os.path.join(finished_sweep, "runs", "seed=1"))
    for n in (0, -1, 2.5):
        with pytest.raises(ValueError, match=r"n must be an integer >= 1"):
            gan.sample(n, 0)


def test_a_damaged_classifier_cache_entry_is_retrained(tmp_path):
    from gan_jax.metrics import classifier

    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (40, 4, 4, 1)).astype(np.float32)
    labels = np.arange(40) % 10
    config = classifier.ClassifierConfig(feature_dim=8, steps=5, batch_size=8)
    args = ("tiny", images, labels, images, labels, config, str(tmp_path))
    first = classifier.load_or_train(*args)
    assert not first.loaded
    with open(os.path.join(first.path, "params.msgpack"), "r+b") as f:
        f.truncate(10)
    with pytest.warns(UserWarning, match=r"classifier cache .* is unreadable .*; retraining it"):
        second = classifier.load_or_train(*args)
    assert not second.loaded and second.path == first.path
    assert classifier.load_or_train(*args).loaded
