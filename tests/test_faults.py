"""Faults and bad workdirs: every one is a clear line, and no result is lost or changed.

Kills at several points (during a checkpoint write, mid-line in metrics.jsonl), damaged and
silently wrong checkpoints with and without their side files, checkpoints of another config,
torn or retyped bookkeeping files, two processes on one workdir, a workdir deleted or replaced
under a running run, a file, a read-only folder or a non-UTF-8 path as workdir, a full disk (orbax's RESOURCE_EXHAUSTED), a lowered num_steps, sweep
reruns that shrink, grow or change, a sweep into a single run's workdir, over-long run names,
`--overwrite` in folders of other origin, `gan_jax.restore` on folders that hold no run, bad
--config files, compares of stray folders, malformed rows and single seeds, requests too large
to fit, and the permissions of written files.
"""

import contextlib
import csv
import errno
import glob
import hashlib
import io
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import types
import warnings

import jax
import ml_collections
import numpy as np
import orbax.checkpoint as ocp
import pytest
from conftest import ROOT, make_tiny_config, overwrite_four_bytes, run_main

import gan_jax
from gan_jax.commands import train_and_report
from gan_jax.loop import workdir as wd
from gan_jax.loop.run import train
from gan_jax.loop.workdir import WorkdirError, read_metrics
from gan_jax.results.compare import CompareError, compare
from gan_jax.results.load import ResultsError
from gan_jax.step.config import ConfigError

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


def _silently_wrong(path):
    """A structurally valid checkpoint with other content (here: step 10's state under step
    20, its digest copied along): orbax restores it without complaint."""
    shutil.rmtree(path)
    shutil.copytree(os.path.join(os.path.dirname(path), "10"), path)


def _other_values(path):
    """The step's arrays rewritten by orbax itself with one value changed: a checkpoint that
    reads cleanly, holds the right step, and that only its digest tells from the saved one."""
    checkpointer = ocp.StandardCheckpointer()
    tree = checkpointer.restore(os.path.join(path, "default"))
    tree["g_params"] = jax.tree.map(lambda x: np.asarray(x) + 1, tree["g_params"])
    checkpointer.save(os.path.join(path, "new"), tree)
    checkpointer.wait_until_finished()
    shutil.rmtree(os.path.join(path, "default"))
    os.rename(os.path.join(path, "new"), os.path.join(path, "default"))


def _metadata_lost(path):
    """The side files that held a checkpoint's digest deleted: its step metadata (orbax's, where
    the digest is now) and checkpoints/digests.json (where it was)."""
    os.remove(os.path.join(path, "_CHECKPOINT_METADATA"))
    with contextlib.suppress(FileNotFoundError):
        os.remove(os.path.join(os.path.dirname(path), "digests.json"))


@pytest.mark.parametrize(
    "damage",
    [
        _delete_manifest,
        _delete_metadata,
        _truncate_data,
        overwrite_four_bytes,
        _silently_wrong,
        _other_values,
        lambda path: (_other_values(path), _metadata_lost(path)),
        lambda path: (overwrite_four_bytes(path), _metadata_lost(path)),
    ],
    ids=[
        "manifest",
        "metadata",
        "truncated",
        "four_bytes",
        "another_step",
        "other_values",
        "other_values_without_digest",
        "four_bytes_without_digest",
    ],
)
def test_restore_uses_the_newest_verified_checkpoint_and_writes_nothing(
    damage, reference, tmp_path, caplog
):
    workdir = _copy(reference, tmp_path)
    damage(os.path.join(workdir, "checkpoints", "20"))
    before = sorted(os.listdir(os.path.join(workdir, "checkpoints")))
    restored = gan_jax.restore(workdir)
    assert restored.step == 10
    assert sorted(os.listdir(os.path.join(workdir, "checkpoints"))) == before
    (line,) = [
        r.message
        for r in caplog.records
        if r.levelno >= logging.WARNING and "checkpoint" in r.message
    ]
    assert "checkpoints/20 is " in line and "using step 10 instead" in line
    assert "\n" not in line and "unverified" not in line


def test_each_checkpoint_carries_its_own_digest(reference):
    """The digest sits in the checkpoint's own metadata (committed with it by orbax's rename),
    equal to a SHA-256 of the restored state's bytes computed here; no side file holds it."""
    config, workdir, finished = reference
    assert not os.path.exists(os.path.join(workdir, "checkpoints", "digests.json"))
    with open(os.path.join(workdir, "checkpoints", "20", "_CHECKPOINT_METADATA")) as f:
        stored = json.load(f)["custom_metadata"]["gan_jax_sha256"]
    stacked = jax.tree.map(lambda x: np.asarray(x)[None], finished)  # the saved runs axis
    digest = hashlib.sha256()
    for leaf in jax.tree.leaves(stacked):
        digest.update(f"{leaf.dtype}{leaf.shape}".encode() + np.ascontiguousarray(leaf).tobytes())
    assert stored == digest.hexdigest()


@pytest.mark.parametrize(
    "index", [json.dumps({"10": "0" * 64, "20": "1" * 64}), "[1, 2]", '{"20": ', "null"]
)
def test_a_wrong_or_damaged_digests_json_never_makes_intact_checkpoints_look_damaged(
    index, reference, tmp_path, caplog
):
    workdir = _copy(reference, tmp_path)
    with open(os.path.join(workdir, "checkpoints", "digests.json"), "w") as f:
        f.write(index)
    restored = gan_jax.restore(workdir)
    assert restored.step == 20
    _assert_states_equal(restored.state, reference[2])
    assert not [
        r for r in caplog.records if r.levelno >= logging.WARNING and "checkpoint" in r.message
    ]


def _as_made_before_digests_moved_inside(workdir, index=True):
    """A run as saved before this change: no digest in the checkpoints, the digests in
    checkpoints/digests.json (or, with `index=False`, nowhere)."""
    digests = {}
    for step in ("10", "20"):
        path = os.path.join(workdir, "checkpoints", step, "_CHECKPOINT_METADATA")
        with open(path) as f:
            metadata = json.load(f)
        digests[step] = metadata["custom_metadata"].pop("gan_jax_sha256")
        with open(path, "w") as f:
            json.dump(metadata, f)
    if index:
        with open(os.path.join(workdir, "checkpoints", "digests.json"), "w") as f:
            json.dump(digests, f)


def test_checkpoints_made_before_digests_moved_inside(reference, tmp_path, caplog):
    """Verified against the old digests.json; without it, restored with one line that says
    they are unverified; a damaged one beside a verifiable older one is skipped."""
    with_index = _copy(reference, tmp_path, "with_index")
    _as_made_before_digests_moved_inside(with_index)
    assert gan_jax.restore(with_index).step == 20
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]

    _other_values(os.path.join(with_index, "checkpoints", "20"))
    assert gan_jax.restore(with_index).step == 10
    (line,) = [r.message for r in caplog.records if r.levelno >= logging.WARNING]
    assert "does not match digests.json; using step 10 instead" in line
    caplog.clear()

    without = _copy(reference, tmp_path, "without")
    _as_made_before_digests_moved_inside(without, index=False)
    restored = gan_jax.restore(without)
    assert restored.step == 20
    _assert_states_equal(restored.state, reference[2])
    (line,) = [r.message for r in caplog.records if r.levelno >= logging.WARNING]
    assert "checkpoints/20 is restored, unverified: it carries no digest" in line


@pytest.mark.parametrize("damage", [_truncate_data, _silently_wrong, _other_values])
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


def test_no_intact_checkpoint_is_one_line_whose_advice_works(reference, tmp_path):
    workdir = _copy(reference, tmp_path)
    for step in ("10", "20"):
        _delete_manifest(os.path.join(workdir, "checkpoints", step))
    with pytest.raises(WorkdirError, match=r"^no intact checkpoint in .*step 20: .*step 10: ") as e:
        gan_jax.restore(workdir)
    assert "\n" not in str(e.value)
    with pytest.raises(WorkdirError, match=r"no intact checkpoint.*move .*checkpoints aside") as e:
        train(reference[0], workdir, progress=False)
    shutil.move(os.path.join(workdir, "checkpoints"), str(tmp_path / "aside"))  # the advice
    _assert_states_equal(train(reference[0], workdir, progress=False).state, reference[2])
    assert _steps(workdir) == [0, 10, 20]


def test_checkpoints_of_another_config_are_named_so_not_called_damaged(reference, tmp_path):
    """A hand-edited config.json: the line says the config differs (advice: put it back), never
    that the intact checkpoints are damaged."""
    workdir = _copy(reference, tmp_path)
    path = os.path.join(workdir, "config.json")
    original = open(path).read()
    edited = json.loads(original)
    edited["model"]["g"]["hidden_sizes"] = [32, 16]
    with open(path, "w") as f:
        json.dump(edited, f)
    with pytest.raises(WorkdirError, match=r"do not fit the run's config .*put back") as e:
        gan_jax.restore(workdir)
    assert "\n" not in str(e.value) and "damaged" not in str(e.value)
    with open(path, "w") as f:
        f.write(original)  # the advice
    assert gan_jax.restore(workdir).step == 20


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

    with (
        pytest.warns(UserWarning, match="dropped unreadable line")
        if point == "metrics_line"
        else (contextlib.nullcontext())
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


@pytest.mark.parametrize(
    "name, content, advice",
    [
        ("gan_jax.json", "[1, 2]", "delete"),
        ("gan_jax.json", '{"kind": 3}', "delete"),
        ("config.json", "[1, 2]", "overwrite"),
        ("config.json", "null", "overwrite"),
        ("group.json", '"x"', "delete"),
        ("group.json", '{"index": 0}', "delete"),
    ],
)
def test_a_bookkeeping_file_of_any_json_type_is_one_line_naming_it_whose_advice_works(
    name, content, advice, reference, tmp_path
):
    config, _, finished = reference
    workdir = _copy(reference, tmp_path)
    path = os.path.join(workdir, name)
    with open(path, "w") as f:
        f.write(content)
    for action in (
        lambda: train(config, workdir, progress=False),
        lambda: gan_jax.restore(workdir),
    ):
        with pytest.raises(WorkdirError, match=rf"^{re.escape(path)} is damaged \(") as e:
            action()
        assert "\n" not in str(e.value)
        assert ("delete it and rerun" if advice == "delete" else "--overwrite") in str(e.value)
    if advice == "delete":
        os.remove(path)
        outcome = train(config, workdir, progress=False)
    else:
        outcome = train(config, workdir, overwrite=True, progress=False)
    _assert_states_equal(outcome.state, finished)
    assert gan_jax.restore(workdir).step == 20


def test_lowering_num_steps_on_a_finished_run_says_what_it_does(reference, tmp_path):
    config, _, finished = reference
    workdir = _copy(reference, tmp_path)
    before = open(os.path.join(workdir, "config.json")).read()
    shorter = make_tiny_config(num_steps=10)
    with pytest.raises(
        WorkdirError,
        match=r"already trained to step 20, and num_steps=10 \(was 20\) cannot "
        r"shorten it: keep num_steps >= 20 .*--overwrite to discard it and train 10 steps$",
    ):
        train(shorter, workdir, progress=False)
    assert open(os.path.join(workdir, "config.json")).read() == before
    assert gan_jax.restore(workdir).step == 20
    assert train(shorter, workdir, overwrite=True, progress=False).state.step == 10
    assert _steps(workdir) == [0, 10]


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


FULL = (
    'RESOURCE_EXHAUSTED: Error writing local file "{path}/_sharding": Failed to write 7773 '
    "bytes to file 8: No space left on device [os_error_code='28']"
)


@pytest.mark.parametrize("message", [FULL, "RESOURCE_EXHAUSTED: quota exceeded"])
def test_a_full_disk_during_a_checkpoint_write_is_one_line_and_the_run_resumes(
    message, reference, tmp_path, monkeypatch
):
    """Orbax reports a full disk as `ValueError: RESOURCE_EXHAUSTED` (tensorstore's status),
    simulated here at the second save; the rerun ends where the clean run ends."""
    config, _, finished = reference
    workdir = str(tmp_path / "run")
    save = ocp.CheckpointManager.save

    def full_at_20(self, step, *args, **kwargs):
        if step == 20:
            raise ValueError(message.format(path=self.directory))
        return save(self, step, *args, **kwargs)

    monkeypatch.setattr(ocp.CheckpointManager, "save", full_at_20)
    with pytest.raises(
        WorkdirError,
        match=r"^cannot write .*checkpoints/20: No space left on device; free some space and "
        r"rerun the same command",
    ) as e:
        train(config, workdir, progress=False)
    assert "\n" not in str(e.value)
    monkeypatch.setattr(ocp.CheckpointManager, "save", save)
    _assert_states_equal(train(config, workdir, progress=False).state, finished)
    assert _steps(workdir) == [0, 10, 20]


def test_a_workdir_path_that_is_not_utf8_is_one_line_before_anything_is_written(
    reference, tmp_path
):
    name = os.fsdecode(b"caf\xe9")  # Latin-1, not UTF-8: a surrogate escape in the str
    workdir = os.path.join(str(tmp_path), name, "run")
    with pytest.raises(WorkdirError, match=r"caf\\xe9/run is not valid UTF-8.*choose a --workdir"):
        train(reference[0], workdir, progress=False)
    assert os.listdir(tmp_path) == []
    os.makedirs(workdir)
    with pytest.raises(WorkdirError, match=r"is not valid UTF-8"):
        gan_jax.restore(workdir)


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


def _pull_away_after(monkeypatch, workdir, step, how, last_file="metrics.jsonl"):
    """After the metrics row of `step` is written to `last_file` (the last run's of an eval),
    the workdir is deleted (`how="deleted"`) or deleted and made again by someone else, who now
    holds its lock (`"replaced"`)."""
    append = wd.append_metrics

    def append_then_pull_away(path, row):
        append(path, row)
        if row["step"] == step and path.endswith(last_file) and os.path.isdir(workdir):
            shutil.rmtree(workdir)
            if how == "replaced":
                os.makedirs(workdir)
                with open(os.path.join(workdir, ".lock"), "w") as f:
                    f.write("process 1 on elsewhere")

    monkeypatch.setattr(wd, "append_metrics", append_then_pull_away)


@pytest.mark.parametrize("how", ["deleted", "replaced"])
def test_a_workdir_deleted_or_replaced_under_a_run_stops_it_before_it_writes_there(
    how, reference, tmp_path, monkeypatch
):
    """A flock lives on the lock file's inode, so `rm -rf` of a running run's workdir frees the
    path; the run must not recreate the folder with its next checkpoint, or write into a run
    someone else started there."""
    config, _, _ = reference
    workdir = str(tmp_path / "run")
    _pull_away_after(monkeypatch, workdir, 10, how)
    with pytest.raises(
        WorkdirError,
        match=r"run was deleted or replaced while this process trained in it .* stopped at step "
        r"10 without writing more there; rerun into a new --workdir",
    ) as e:
        train(config, workdir, progress=False)
    assert "\n" not in str(e.value)
    if how == "deleted":
        assert not os.path.exists(workdir)  # the checkpoint at step 10 did not make it again
    else:
        assert os.listdir(workdir) == [".lock"]
        assert open(os.path.join(workdir, ".lock")).read() == "process 1 on elsewhere"


def test_a_workdir_deleted_while_the_group_compiles_stops_before_its_first_write(
    reference, tmp_path, monkeypatch
):
    """Compiling a group can take minutes; a folder deleted meanwhile is not made again by the
    checkpoint manager, the metrics writers or the run's bookkeeping."""
    from gan_jax.loop import run

    workdir = str(tmp_path / "run")
    init = run.init_group_state

    def init_then_delete(*args, **kwargs):
        state = init(*args, **kwargs)
        shutil.rmtree(workdir)
        return state

    monkeypatch.setattr(run, "init_group_state", init_then_delete)
    with pytest.raises(WorkdirError, match=r"run was deleted or replaced .* stopped before its fi"):
        train(reference[0], workdir, progress=False)
    assert not os.path.exists(workdir)


def test_a_sweep_whose_root_is_deleted_stops_before_it_writes_there(tmp_path, monkeypatch):
    workdir = str(tmp_path / "sweep")
    _pull_away_after(monkeypatch, workdir, 0, "deleted", "seed=1/metrics.jsonl")
    with pytest.raises(WorkdirError, match=r"sweep was deleted or replaced .* at step 10"):
        train_and_report(_sweep(seeds=2), workdir, progress=False)
    assert not os.path.exists(workdir)


def test_the_lock_check_passes_while_the_folder_is_the_locked_one(tmp_path):
    from gan_jax.loop.run import lock_check

    workdir = str(tmp_path / "run")
    with wd.lock(workdir) as held:
        check = lock_check(held, workdir)
        check(0)
        os.rename(workdir, workdir + "_moved")  # the lock went with the folder
        with pytest.raises(WorkdirError, match=r"run was deleted or replaced .* at step 5"):
            check(5)
        os.rename(workdir + "_moved", workdir)
        check(5)


def test_exit_codes_tell_finished_and_diverged_apart(tmp_path):
    # A finished run exits 0: every command-line test of a run asserts it (test_main, test_log);
    # an interrupted one exits 128 + the signal (test_main's SIGTERM test).
    diverged = run_main(
        *TINY_FLAGS,
        f"--workdir={tmp_path / 'bad'}",
        "--config.optim.d.learning_rate=1e38",
        "--config.optim.g.learning_rate=1e38",
    )
    assert diverged.returncode == 3, diverged.stderr
    (line,) = [x for x in diverged.stderr.splitlines() if x.startswith("diverged:")]
    assert "went non-finite at step" in line


FULL_DISK_MAIN = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {root!r})
    from absl import app
    import orbax.checkpoint as ocp
    save = ocp.CheckpointManager.save
    def full(self, step, *args, **kwargs):  # the disk fills up at the first save
        raise ValueError({message!r})
    ocp.CheckpointManager.save = full
    from gan_jax import main
    sys.argv = ["gan_jax.main", *{flags!r}]
    app.run(main.main, flags_parser=main.parse_flags)
    """
)


def _error_lines(stderr: str) -> list[str]:
    """stderr's lines but absl's INFO lines (progress) and the backend line every run logs."""
    return [
        line
        for line in stderr.splitlines()
        if line.strip() and not re.match(r"I\d{4} ", line) and " on cpu: " not in line
    ]


def test_a_full_disk_in_the_command_is_one_error_line_and_exit_2(tmp_path):
    flags_ = [*TINY_FLAGS, f"--workdir={tmp_path / 'run'}"]
    message = FULL.format(path=tmp_path / "run" / "checkpoints" / "10.orbax-checkpoint-tmp")
    script = FULL_DISK_MAIN.format(root=ROOT, message=message, flags=flags_)
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=300
    )
    assert result.returncode == 2, result.stderr[-3000:]
    (line,) = _error_lines(result.stderr)
    assert line.startswith("error: cannot write ") and "No space left on device" in line


def test_a_damaged_checkpoint_falls_back_with_one_warning_line_and_no_traceback(
    reference, tmp_path
):
    """Orbax's failed reads used to flood stderr with 'Event loop is closed' tracebacks."""
    workdir = _copy(reference, tmp_path)
    _truncate_data(os.path.join(workdir, "checkpoints", "20"))
    script = f"import gan_jax; print(gan_jax.restore({workdir!r}).step)"
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=300
    )
    assert result.returncode == 0 and result.stdout.strip() == "10", result.stderr[-3000:]
    lines = _error_lines(result.stderr)
    assert len(lines) == 1, result.stderr[-3000:]
    assert "checkpoints/20 is damaged" in lines[0] and "using step 10 instead" in lines[0]


def test_restoring_a_damaged_step_is_one_line_and_no_traceback(reference, tmp_path):
    """`restore(step=...)` of a damaged checkpoint raises at once, while tensorstore still
    completes the failed read's other requests: their 'Event loop is closed' reports must not
    reach stderr after the one-line error."""
    workdir = _copy(reference, tmp_path)
    _truncate_data(os.path.join(workdir, "checkpoints", "20"))
    script = (
        "import gan_jax\n"
        "try:\n"
        f"    gan_jax.restore({workdir!r}, step=20)\n"
        "except ValueError as error:\n"
        "    print(error)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=300
    )
    assert result.returncode == 0 and "checkpoints/20 is damaged" in result.stdout, result.stderr
    assert _error_lines(result.stderr) == [], result.stderr[-3000:]


CONFIG_FILES = {
    "none.py": "def get_config():\n    pass\n",
    "plain.py": "def get_config():\n    return {}\n",
    "options.py": "def get_config(arg):\n    raise ValueError(f'no option {arg!r}')\n",
}


@pytest.mark.parametrize(
    "config, line",
    [
        ("none.py", r"--config=.*none.py: get_config\(\) returned None; it must return the config"),
        (
            "plain.py:bad",
            r"--config=.*plain.py:bad: .*plain.py's get_config\(\) takes no "
            r"argument; drop ':bad'$",
        ),
        (
            "options.py:bad",
            r"--config=.*options.py:bad: get_config\('bad'\) failed \(ValueError: "
            r"no option 'bad'\)$",
        ),
    ],
)
def test_a_config_file_that_gives_no_config_is_one_honest_line(config, line, tmp_path):
    name = config.split(":")[0]
    with open(tmp_path / name, "w") as f:
        f.write(CONFIG_FILES[name])
    result = run_main(f"--config={tmp_path / config}", f"--workdir={tmp_path / 'run'}")
    assert result.returncode == 2
    (only,) = result.stderr.strip().splitlines()
    assert re.match(r"^error: " + line, only), only
    assert not (tmp_path / "run").exists()


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
    with pytest.raises(
        WorkdirError, match=r"a sweep with a different config \(sweep.seeds: 2 -> 1\)"
    ):
        train_and_report(_sweep(seeds=1), workdir, progress=False)
    with pytest.raises(WorkdirError, match=r"sweep.grid.optim.d.learning_rate"):
        train_and_report(
            _sweep(seeds=2, optim=dict(d=dict(learning_rate=(1e-3,)))), workdir, progress=False
        )
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


# --- compare ---------------------------------------------------------------------------------


def test_compare_skips_folders_in_runs_that_hold_no_run_with_one_line_each(
    finished_sweep, tmp_path
):
    """Jupyter's checkpoints folder and an earlier comparison's output inside runs/."""
    workdir = _copy((None, finished_sweep), tmp_path, "sweep")
    stray = os.path.join(workdir, "runs", ".ipynb_checkpoints")
    os.makedirs(stray)
    open(os.path.join(stray, "notes-checkpoint.ipynb"), "w").close()
    earlier = os.path.join(workdir, "runs", "cmp")
    os.makedirs(os.path.join(earlier, "plots"))
    for name in ("results.csv", "report.md", "comparison.json"):
        shutil.copy(os.path.join(finished_sweep, "results.csv"), os.path.join(earlier, name))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        compare([workdir], str(tmp_path / "cmp"), reps=200)
    skipped = sorted(str(w.message) for w in caught if "skipped" in str(w.message))
    assert skipped == [
        f"skipped {workdir}/runs/.ipynb_checkpoints: it holds no run of the sweep",
        f"skipped {workdir}/runs/cmp: it holds no run of the sweep",
    ]
    with open(tmp_path / "cmp" / "results.csv") as f:
        assert sorted(row["run"] for row in csv.DictReader(f)) == ["seed=0", "seed=1"]
    # The command prints each warning as one line.
    from gan_jax.results import compare as compare_module

    printed = io.StringIO()
    compare_module._one_line_warning(caught[0].message, UserWarning, "x.py", 1, file=printed)
    assert printed.getvalue() == f"warning: {caught[0].message}\n"


def test_compare_refuses_an_output_folder_inside_or_around_an_input(finished_sweep, tmp_path):
    workdir = _copy((None, finished_sweep), tmp_path, "sweep")
    before = sorted(os.listdir(os.path.join(workdir, "runs")))
    for output in (os.path.join(workdir, "runs", "cmp"), str(tmp_path)):
        with pytest.raises(CompareError, match=r"^--workdir=.* (is inside|holds) the input "):
            compare([workdir], output, reps=200)
    assert sorted(os.listdir(os.path.join(workdir, "runs"))) == before


@pytest.mark.parametrize(
    "line, problem",
    [
        ('"seed=9",base,9,1.0,2.0,3.0,4.0\n', r"\d+ cells where its header has \d+"),
        ('"seed=9",base\n', r"2 cells where its header has \d+"),
        (None, r"no variant\)"),  # every cell, all empty
    ],
)
def test_a_malformed_results_row_is_named_by_file_and_line(line, problem, finished_sweep, tmp_path):
    path = str(tmp_path / "results.csv")
    shutil.copy(os.path.join(finished_sweep, "results.csv"), path)
    with open(path) as f:
        header = f.readline()
    with open(path, "a") as f:
        f.write(line or "," * header.count(",") + "\n")
    with pytest.raises(ResultsError, match=rf"^{re.escape(path)} line 4 is malformed \({problem}"):
        compare([path], str(tmp_path / "cmp"), reps=200)
    assert not (tmp_path / "cmp").exists()


def test_a_compare_that_fails_half_way_leaves_nothing_behind(finished_sweep, tmp_path, monkeypatch):
    from gan_jax.results import compare as compare_module

    output = str(tmp_path / "cmp")

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), os.path.join(output, "plots"))

    plot = compare_module._plot_finals
    monkeypatch.setattr(compare_module, "_plot_finals", disk_full)
    with pytest.raises(WorkdirError, match=r"^cannot write .*: No space left on device"):
        compare([finished_sweep], output, reps=200)
    assert os.listdir(tmp_path) == []  # no half-written folder, no temporary one
    monkeypatch.setattr(compare_module, "_plot_finals", plot)
    compare([finished_sweep], output, reps=200)  # the same command now runs
    report = open(os.path.join(output, "report.md")).read()
    monkeypatch.setattr(compare_module, "_plot_finals", disk_full)
    with pytest.raises(WorkdirError):
        compare([finished_sweep], output, reps=200)
    assert open(os.path.join(output, "report.md")).read() == report  # the earlier one stays
    assert os.listdir(tmp_path) == ["cmp"]


def test_a_compare_of_single_seeds_shows_no_interval_and_claims_nothing(tmp_path):
    path = os.path.join(ROOT, "experiments", "mode_collapse", "results.csv")
    output = tmp_path / "cmp"
    baseline = "data.name=ring,unroll.steps=0"
    with pytest.warns(UserWarning, match=r"4 variant\(s\) have fewer than 3 seeds"):
        tables = compare(
            [path], str(output), only=["data.name=ring", "seed=0"], baseline=baseline, reps=200
        )
    assert all(e["seeds"] == 1 and not e["supported"] for e in tables["final_modes_covered"])
    rows = [x for x in (output / "report.md").read_text().splitlines() if "data.name=ring" in x]
    rows = [x for x in rows if x.startswith("| ") and "(baseline)" not in x]
    assert rows and all("[" not in row for row in rows)
    assert all("n = 1: no interval" in row and row.endswith("| no: n = 1 |") for row in rows)


def test_a_compare_marks_supported_only_what_its_seeds_support(tmp_path):
    """The README's ring example (10 seeds): k = 10 against k = 0 is supported, k = 1 is not."""
    path = os.path.join(ROOT, "experiments", "mode_collapse", "results.csv")
    tables = compare(
        [path],
        str(tmp_path / "cmp"),
        only=["data.name=ring"],
        baseline="data.name=ring,unroll.steps=0",
        reps=200,
    )
    supported = {e["variant"]: e["supported"] for e in tables["final_modes_covered"]}
    assert supported["data.name=ring,unroll.steps=10"]
    assert not supported["data.name=ring,unroll.steps=1"]


# --- resource guards and file permissions ----------------------------------------------------


def test_an_export_too_large_for_memory_or_disk_is_refused_before_sampling(tmp_path, monkeypatch):
    from gan_jax.results import export

    class NothingSampled:
        sample_shape = (32, 32, 3)
        state = types.SimpleNamespace(g_ema=None)

        def sample(self, *args, **kwargs):
            raise AssertionError("a refused export must not generate anything")

    monkeypatch.setattr(gan_jax, "restore", lambda workdir: NothingSampled())
    out = str(tmp_path / "samples.npz")
    with pytest.raises(
        ValueError,
        match=r"^--num_samples=1000000000000 needs about 6.1 PB of memory "
        r"\(1000000000000 samples of 32x32x3 uint8, held twice while joined\), but .* are "
        r"available; export fewer samples$",
    ):
        export.export_samples("run", 10**12, out)
    monkeypatch.setattr(
        export.shutil, "disk_usage", lambda path: types.SimpleNamespace(free=1_000_000)
    )
    with pytest.raises(
        ValueError,
        match=r"1000 samples need about 3.1 MB, but its file system "
        r"has 1.0 MB free; export fewer samples or write elsewhere$",
    ):
        export.export_samples("run", 1000, out)
    assert os.listdir(tmp_path) == []


def test_a_model_too_large_for_memory_is_refused_before_anything_is_written(tmp_path):
    config = make_tiny_config(**{"model.g.hidden_sizes": (200_000, 200_000)})
    workdir = str(tmp_path / "run")
    with pytest.raises(
        ConfigError,
        match=r"^training needs at least 960.1 GB of memory per device \(1 run\(s\) "
        r"over \d+ device\(s\), .* held twice during a step\), but cpu has .* available; shrink",
    ):
        train(config, workdir, progress=False)
    sweep = make_tiny_config(**{"model.g.hidden_sizes": (60_000, 60_000)})
    sweep.sweep = ml_collections.ConfigDict(dict(seeds=20))  # 20 runs x 43 GB
    with pytest.raises(ConfigError, match=r"^training needs at least .* \(20 run\(s\) over"):
        train_and_report(sweep, workdir, progress=False)
    assert not os.path.exists(workdir)


def _modes(root: str) -> dict:
    return {
        os.path.relpath(os.path.join(folder, name), root): os.stat(
            os.path.join(folder, name)
        ).st_mode
        & 0o777
        for folder, _, files in os.walk(root)
        for name in files
    }


def test_files_are_written_with_the_process_umask(reference, finished_sweep, tmp_path):
    """0644 under the usual umask 022 (others can read a shared results folder), 0640 under
    027: as `open` and other tools do, not mkstemp's 0600."""
    umask = os.umask(0o022)
    os.umask(umask)
    run = _modes(reference[1])  # trained under the process's own umask
    assert {
        run[name] for name in ("config.json", "gan_jax.json", "group.json", "metrics.jsonl")
    } == {0o666 & ~umask}
    os.umask(0o027)
    try:
        compare([finished_sweep], str(tmp_path / "cmp"), reps=200)
    finally:
        os.umask(umask)
    assert set(_modes(str(tmp_path / "cmp")).values()) == {0o640}
    assert os.stat(tmp_path / "cmp").st_mode & 0o777 == 0o750


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


def test_a_failed_orbax_read_collected_late_prints_no_traceback_and_other_task_errors_still_do():
    """asyncio reports a failed task ("Task exception was never retrieved", with its traceback)
    when the task is garbage-collected, which for a damaged checkpoint's orbax read can be after
    `_quiet` ended; once a read has failed, those reports are dropped, and every other report
    still reaches the log."""
    from gan_jax.loop import checkpoint as ckpt

    asyncio_logger = logging.getLogger("asyncio")
    try:
        with contextlib.suppress(RuntimeError), ckpt._quiet():
            raise RuntimeError("a damaged read")  # as a failed restore does
        assert ckpt._FAILED_READ_FILTER in asyncio_logger.filters

        namespace: dict = {}
        source = "def async_deserialize():\n    raise ValueError('OUT_OF_RANGE')\n"
        path = "/site-packages/orbax/checkpoint/serialization.py"
        exec(compile(source, path, "exec"), namespace)

        def ours():
            raise ValueError("a bug of ours")

        def report(function, message="Task exception was never retrieved"):
            try:
                function()
            except ValueError as error:
                exc_info = (type(error), error, error.__traceback__)
            return logging.LogRecord("asyncio", logging.ERROR, __file__, 0, message, None, exc_info)

        assert not asyncio_logger.filter(report(namespace["async_deserialize"]))
        assert asyncio_logger.filter(report(ours))
        assert asyncio_logger.filter(report(namespace["async_deserialize"], "another report"))
        # A bare future's failed tensorstore read (no orbax frame; its message names the spec).
        future = "Future exception was never retrieved\nfuture: <Future finished exception=%r>"

        def tensorstore_read():
            raise ValueError('DATA_LOSS: ... [tensorstore_spec=\'{"driver":"zarr"}\']')

        record = report(tensorstore_read, future)
        record.args = (record.exc_info[1],)
        assert not asyncio_logger.filter(record)
        record = report(ours, future)
        record.args = (record.exc_info[1],)
        assert asyncio_logger.filter(record)
    finally:
        asyncio_logger.removeFilter(ckpt._FAILED_READ_FILTER)
