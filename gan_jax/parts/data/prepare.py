"""Downloads and prepares tfds data sets for `gan_jax` (on a machine with network access).

    pip install 'gan_jax[tfds]'
    python -m gan_jax.parts.data.prepare --data=mnist,cifar10 --tfds_dir=~/tensorflow_datasets

Training reads the prepared files through `tfds.data_source`, which needs ArrayRecord files and
no TensorFlow; writing them needs TensorFlow (tfds encodes images with `tf.image`), hence the
optional `tfds` extra. If TensorFlow's pins clash with this environment, prepare in a separate
virtual environment with the same tensorflow-datasets version and copy `--tfds_dir` over.
`--data` takes our names (`stacked_mnist` prepares `mnist`) or any tfds name. celeb_a is
downloaded from Google Drive, which may refuse when its daily quota is used up; try later.
"""

import importlib.util

from absl import app, flags

from gan_jax.parts.data.images import TFDS_SPECS

_DATA = flags.DEFINE_list("data", None, "Data sets to prepare, e.g. mnist,cifar10.")
_TFDS_DIR = flags.DEFINE_string(
    "tfds_dir", None, "Where to put them (default: $TFDS_DATA_DIR or ~/tensorflow_datasets)."
)


def tfds_name_of(name: str) -> str:
    """The tfds data set behind one of our names (`stacked_mnist` -> `mnist`), else `name`."""
    return TFDS_SPECS[name].tfds_name if name in TFDS_SPECS else name


def prepare(name: str, tfds_dir: str | None = None) -> str:
    """Downloads and prepares `name` as ArrayRecord files; returns where they are.

    Raises SystemExit with a one-line message at once when TensorFlow is missing.
    """
    import tensorflow_datasets as tfds

    if name in ("digits", "stacked_digits"):
        return "(bundled with scikit-learn, nothing to prepare)"
    if importlib.util.find_spec("tensorflow") is None:  # checked before a long download
        raise SystemExit(
            f"preparing {name!r} needs TensorFlow: pip install 'gan_jax[tfds]' "
            "(or prepare in a separate environment and copy --tfds_dir over)"
        )
    builder = tfds.builder(tfds_name_of(name), data_dir=tfds_dir, file_format="array_record")
    builder.download_and_prepare()
    return str(builder.data_dir)


def main(argv):
    del argv
    if not _DATA.value:
        raise app.UsageError("give --data=NAME[,NAME...]")
    for name in _DATA.value:
        print(f"{name}: {prepare(name, _TFDS_DIR.value)}")


if __name__ == "__main__":
    app.run(main)
