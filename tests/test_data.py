"""fmnist.data: IDX reader, verified loading, splits, preprocessing, pipelines, regression data."""

from __future__ import annotations

import gzip
import hashlib
import os
import stat
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pytest

from fmnist import data as fd
from fmnist.backend import backend_name
from fmnist.data import sources

REPO_ROOT = Path(__file__).resolve().parent.parent  # the checkout these tests belong to


# ---------------------------------------------------------------- synthetic IDX datasets
def _write_fake_dataset(directory, n_train=40, n_test=20, seed=0):
    rng = np.random.default_rng(seed)
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte.gz": (np.arange(n_train) % 10).astype(np.uint8),
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte.gz": (np.arange(n_test) % 10).astype(np.uint8),
    }
    directory.mkdir(parents=True, exist_ok=True)
    for fname, arr in arrays.items():
        fd.write_idx(directory / fname, arr)
    return arrays


@pytest.fixture
def fake_spec(monkeypatch, tmp_path):
    """Register payload digests of a synthetic dataset in place of the real MNIST ones."""
    directory = tmp_path / "mnist"
    arrays = _write_fake_dataset(directory)
    digests = {
        f: hashlib.sha256(gzip.decompress((directory / f).read_bytes())).hexdigest()
        for f in arrays
    }
    spec = sources.DatasetSpec(
        name="mnist", class_names=sources.MNIST_CLASSES, keras_dir="mnist",
        url="http://127.0.0.1:9/", payload_sha256=digests, gz_sha256={},
    )  # fmt: skip
    monkeypatch.setitem(sources.DATASETS, "mnist", spec)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.delenv("FMNIST_DATA_DIR", raising=False)
    monkeypatch.delenv("FMNIST_DOWNLOAD", raising=False)
    return directory, arrays


def test_idx_round_trip(tmp_path):
    arr = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    for name in ("a.idx", "a.idx.gz"):
        fd.write_idx(tmp_path / name, arr)
        np.testing.assert_array_equal(fd.read_idx(tmp_path / name, ndim=3), arr)


def test_write_idx_replaces_the_file_atomically(tmp_path):
    # A reader holding the old file (here: a hard link to it) keeps seeing the old bytes,
    # which in-place writing would truncate and overwrite.
    path = fd.write_idx(tmp_path / "a.idx.gz", np.zeros(3, np.uint8))
    old_bytes = path.read_bytes()
    os.link(path, tmp_path / "reader")
    fd.write_idx(path, np.ones(5, np.uint8))
    assert (tmp_path / "reader").read_bytes() == old_bytes
    np.testing.assert_array_equal(fd.read_idx(path), np.ones(5, np.uint8))
    assert sorted(os.listdir(tmp_path)) == ["a.idx.gz", "reader"]


def test_idx_bad_magic(tmp_path):
    (tmp_path / "bad").write_bytes(b"\x00\x00\x09\x03" + b"\x00" * 20)
    with pytest.raises(fd.IDXFormatError, match="bad magic number"):
        fd.read_idx(tmp_path / "bad")


def test_idx_wrong_dimensions(tmp_path):
    fd.write_idx(tmp_path / "labels.gz", np.zeros(5, np.uint8))
    with pytest.raises(fd.IDXFormatError, match="expected 3"):
        fd.read_idx(tmp_path / "labels.gz", ndim=3)


def test_idx_truncated(tmp_path):
    payload = fd.idx.encode_idx(np.zeros((4, 28, 28), np.uint8))
    (tmp_path / "t").write_bytes(payload[:-10])
    with pytest.raises(fd.IDXFormatError, match="truncated"):
        fd.read_idx(tmp_path / "t")


def test_load_synthetic_mnist(fake_spec):
    directory, arrays = fake_spec
    (x, y), (xt, yt) = fd.load_dataset("mnist", data_dir=directory)
    assert x.dtype == np.uint8 and x.shape == (40, 28, 28) and y.shape == (40,)
    np.testing.assert_array_equal(x, arrays["train-images-idx3-ubyte.gz"])
    np.testing.assert_array_equal(yt, arrays["t10k-labels-idx1-ubyte.gz"])


def test_env_var_location(fake_spec, monkeypatch):
    directory, _ = fake_spec
    monkeypatch.setenv("FMNIST_DATA_DIR", str(directory.parent))  # parent holding mnist/
    assert fd.find_dataset("mnist") == directory


def test_checksum_mismatch_names_file_and_digests(fake_spec):
    directory, _ = fake_spec
    fd.write_idx(directory / "t10k-labels-idx1-ubyte.gz", np.ones(20, np.uint8))
    with pytest.raises(fd.DatasetError) as info:
        fd.load_dataset("mnist", data_dir=directory)
    msg = str(info.value)
    assert "t10k-labels-idx1-ubyte.gz" in msg and "checksum mismatch" in msg
    expected = sources.DATASETS["mnist"].payload_sha256["t10k-labels-idx1-ubyte.gz"]
    assert expected in msg and "fmnist data fetch" in msg


def test_truncated_gzip_is_reported(fake_spec):
    directory, _ = fake_spec
    path = directory / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:500])
    with pytest.raises(fd.DatasetError, match="truncated"):
        fd.load_dataset("mnist", data_dir=directory)


@pytest.fixture
def no_repo_copy(monkeypatch, tmp_path):
    """Keras's cache replaced by an empty one (a real copy may be there)."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))


def test_missing_dataset_lists_every_place(fake_spec, no_repo_copy):
    with pytest.raises(fd.DatasetNotFoundError) as info:
        # no directory named: only the (empty) default places are searched
        fd.load_dataset("mnist")
    msg = str(info.value)
    places = fd.candidate_dirs("mnist")
    assert len(places) == 1  # Keras's cache (the fake spec has no system dir)
    for place in places:
        assert str(place) in msg
    assert "download" in msg


def test_a_named_directory_without_the_files_is_an_error_not_skipped(fake_spec, tmp_path, monkeypatch):
    # A typo in data_dir / $FMNIST_DATA_DIR used to load another copy without a word.
    directory, _ = fake_spec
    monkeypatch.setattr(sources, "keras_cache_dir", lambda name: directory)  # the fake copy is the default one
    assert fd.find_dataset("mnist") == directory
    typo = tmp_path / "mnsit"
    with pytest.raises(fd.DatasetNotFoundError, match=rf"given by data_dir: {typo} does not exist\. It must hold"):
        fd.load_dataset("mnist", data_dir=typo, download=True)  # not downloaded either
    partial = tmp_path / "partial"
    partial.mkdir()
    for fname in ("train-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        (partial / fname).write_bytes((directory / fname).read_bytes())
    with pytest.raises(fd.DatasetNotFoundError) as info:
        fd.find_dataset("mnist", partial)
    assert f"{partial} lacks train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz" in str(info.value)
    assert "omit data_dir to search the default places" in str(info.value)
    assert fd.candidate_dirs("mnist", partial) == [partial]
    info = fd.dataset_info("mnist", typo)
    assert info["found"] is False and str(typo) in info["error"] and info["searched"] == [str(typo)]
    monkeypatch.setenv("FMNIST_DATA_DIR", str(partial))
    with pytest.raises(fd.DatasetNotFoundError, match=r"given by \$FMNIST_DATA_DIR: .*partial lacks "
                                                   r".*partial/mnist does not exist.*unset FMNIST_DATA_DIR"):
        fd.load_dataset("mnist")
    assert fd.find_dataset("mnist", data_dir=directory) == directory  # data_dir wins over the variable


def test_download_is_atomic_and_verified(fake_spec, tmp_path, monkeypatch):
    directory, _ = fake_spec
    import io
    import urllib.request

    served = {}

    def fake_urlopen(url, timeout):
        fname = url.rsplit("/", 1)[1]
        served[fname] = True
        body = (directory / fname).read_bytes()
        if fname.startswith("t10k-labels"):
            body = gzip.compress(b"corrupted")  # the last file arrives corrupt
        return io.BytesIO(body)

    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)
    target = tmp_path / "cache"
    with pytest.raises(fd.DatasetError):
        fd.fetch("mnist", target_dir=target)
    names = sorted(p.name for p in target.iterdir())
    # verified files were renamed into place; the corrupt one and temp files are gone
    assert names == ["t10k-images-idx3-ubyte.gz", "train-images-idx3-ubyte.gz",
                     "train-labels-idx1-ubyte.gz"]  # fmt: skip


def test_downloaded_files_have_the_mode_of_a_plain_new_file(fake_spec, tmp_path, monkeypatch):
    directory, arrays = fake_spec
    import io
    import urllib.request

    monkeypatch.setattr(
        urllib.request, "urlopen",
        lambda url, timeout: io.BytesIO((directory / url.rsplit("/", 1)[1]).read_bytes()),
    )  # fmt: skip
    old = os.umask(0o022)
    try:
        target = fd.fetch("mnist", target_dir=tmp_path / "cache")
        with open(tmp_path / "plain", "w"):
            pass
    finally:
        os.umask(old)
    expected = stat.S_IMODE((tmp_path / "plain").stat().st_mode)
    assert sorted(p.name for p in target.iterdir()) == sorted(arrays)
    assert {stat.S_IMODE(p.stat().st_mode) for p in target.iterdir()} == {expected}  # not 0600


def test_download_never_overwrites_user_file(fake_spec, tmp_path):
    target = tmp_path / "cache"
    target.mkdir()
    (target / "train-images-idx3-ubyte.gz").write_bytes(b"my own file")
    with pytest.raises(fd.DatasetError):
        fd.fetch("mnist", target_dir=target)
    assert (target / "train-images-idx3-ubyte.gz").read_bytes() == b"my own file"


def test_keras_npz_cache_for_mnist(fake_spec, no_repo_copy, tmp_path, monkeypatch):
    import dataclasses

    npz = tmp_path / "keras_home" / "datasets" / "mnist.npz"
    npz.parent.mkdir(parents=True)
    rng = np.random.default_rng(0)
    np.savez(npz, x_train=rng.integers(0, 256, (6, 28, 28), dtype=np.uint8),
             y_train=np.arange(6, dtype=np.uint8), x_test=np.zeros((2, 28, 28), np.uint8),
             y_test=np.zeros(2, np.uint8))  # fmt: skip
    digest = hashlib.sha256(npz.read_bytes()).hexdigest()
    spec = dataclasses.replace(sources.DATASETS["mnist"], keras_npz="mnist.npz", keras_npz_sha256=digest)
    monkeypatch.setitem(sources.DATASETS, "mnist", spec)
    (x, y), (xt, _) = fd.load_dataset("mnist")
    assert x.shape == (6, 28, 28) and list(y) == list(range(6)) and xt.shape == (2, 28, 28)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(fd.DatasetNotFoundError, match="empty lacks"):  # a named directory only
        fd.load_dataset("mnist", data_dir=empty)
    monkeypatch.setitem(sources.DATASETS, "mnist", dataclasses.replace(spec, keras_npz_sha256="0" * 64))
    with pytest.raises(fd.DatasetError, match="mnist.npz: checksum mismatch"):
        fd.load_dataset("mnist")


def test_unknown_dataset_lists_valid_names():
    with pytest.raises(ValueError, match="fashion_mnist, mnist"):
        fd.load_dataset("cifar10")


# ---------------------------------------------------------------- preprocessing and splits
def test_to_float_and_reshape():
    x = np.full((3, 28, 28), 255, np.uint8)
    f = fd.to_float(x)
    assert f.dtype == np.float32 and f.max() == 1.0
    assert fd.reshape_for(f, "mlp").shape == (3, 784)
    assert fd.reshape_for(fd.reshape_for(f, "mlp"), "cnn").shape == (3, 28, 28, 1)


def test_wrong_image_shape():
    with pytest.raises(ValueError, match="wrong image shape"):
        fd.reshape_for(np.zeros((3, 32, 32)), "cnn")
    # 784 values in another arrangement are not a 28x28 image (used to be reshaped anyway)
    for shape in [(2, 392, 2), (2, 784, 1), (2, 1, 28, 28), (2, 4, 196)]:
        with pytest.raises(ValueError, match=r"expected \(N, 28, 28\), \(N, 784\) or \(N, 28, 28, 1\)"):
            fd.reshape_for(np.zeros(shape), "cnn")
    for shape in [(2, 28, 28), (2, 784), (2, 28, 28, 1)]:
        assert fd.reshape_for(np.zeros(shape), "mlp").shape == (2, 784)
    with pytest.raises(ValueError, match="valid layouts"):
        fd.reshape_for(np.zeros((3, 784)), "rnn")


def test_standardizer_uses_train_statistics_only():
    train = np.array([0.0, 2.0, 4.0], np.float32)
    test = np.array([100.0], np.float32)
    s = fd.Standardizer().fit(train)
    assert s.mean == pytest.approx(2.0) and s.std == pytest.approx(np.std(train))
    np.testing.assert_allclose(s.transform(test), (100 - 2.0) / np.std(train), rtol=1e-6)
    np.testing.assert_allclose(s.transform(train).mean(), 0.0, atol=1e-6)


def test_standardizer_rejects_non_finite_and_empty_data():
    # NaN used to give mean = std = nan, and every standardized value NaN with them
    with pytest.raises(ValueError, match=r"x_train contains NaN/inf \(first at sample 1\)"):
        fd.Standardizer().fit(np.array([[0.0, 1.0], [np.nan, 2.0]]))
    with pytest.raises(ValueError, match="x_train contains NaN/inf"):
        fd.Standardizer().fit(np.array([0.0, np.inf], np.float32))
    with pytest.raises(ValueError, match=r"x_train has shape \(0, 784\), no values"):
        fd.Standardizer().fit(np.zeros((0, 784), np.float32))
    assert fd.Standardizer().fit(np.arange(4, dtype=np.uint8)).mean == 1.5  # pixels as loaded


def _labels(n_per_class=50, n_classes=10):
    return np.repeat(np.arange(n_classes), n_per_class)


def test_stratified_split_sizes_proportions_disjoint():
    y = _labels()
    x = np.arange(len(y))
    (xa, ya), (xb, yb) = fd.stratified_split(x, y, dev_fraction=0.2, seed=1)
    assert len(xa) == 400 and len(xb) == 100
    assert not set(xa) & set(xb) and set(xa) | set(xb) == set(x)
    counts = np.bincount(yb, minlength=10)
    assert counts.max() - counts.min() <= 1
    (xc, _), _ = fd.stratified_split(x, y, dev_fraction=0.2, seed=1)
    np.testing.assert_array_equal(xa, xc)  # same seed -> same split
    (xd, _), _ = fd.stratified_split(x, y, dev_fraction=0.2, seed=2)
    assert not np.array_equal(xa, xd)


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1, 1.5])
def test_bad_dev_fraction(fraction):
    y = _labels()
    with pytest.raises(ValueError, match=r"dev_fraction must be in \(0, 1\)"):
        fd.stratified_split(np.zeros(len(y)), y, dev_fraction=fraction)


def test_non_integer_labels():
    with pytest.raises(TypeError, match="integer"):
        fd.stratified_split(np.zeros(10), np.linspace(0, 1, 10))


def test_subset_is_stratified_and_validated():
    y = _labels()
    x = np.arange(len(y))
    xs, ys = fd.subset(x, y, 100, seed=0)
    assert len(xs) == 100 and set(np.bincount(ys)) == {10}
    with pytest.raises(ValueError, match="larger than the data"):
        fd.subset(x, y, 501)
    assert len(fd.subset(x, y, np.int64(50))[0]) == 50


@pytest.mark.parametrize("n", [True, 0, 2.0])
def test_subset_rejects_non_counts(n):
    # True used to be taken as n=1; a bool is never a meaningful subset size.
    y = _labels()
    with pytest.raises(ValueError, match=rf"subset size n must be an int >= 1, got {n!r}"):
        fd.subset(np.arange(len(y)), y, n)


@pytest.mark.parametrize("seed", [-1, 1.5, "0", True])
def test_split_seeds_are_checked(seed):
    # used to surface as scikit-learn's message about 'random_state'
    y = _labels(4)
    with pytest.raises(ValueError, match=rf"^seed must be an int >= 0, got {seed!r}$"):
        fd.split_indices(y, seed=seed)
    with pytest.raises(ValueError, match=rf"^seed must be an int >= 0, got {seed!r}$"):
        fd.subset(np.arange(len(y)), y, 20, seed=seed)


def test_split_report_counts():
    table = fd.split_report({"train": _labels(3), "dev": _labels(1)}, fd.FASHION_MNIST_CLASSES)
    assert isinstance(table, pd.DataFrame)
    assert table.loc["Bag", "train"] == 3 and table.loc["total", "dev"] == 10


# ---------------------------------------------------------------- pipeline and augmentation
@pytest.mark.portable
def test_make_dataset_batches_and_shapes():
    x = np.random.rand(70, 28, 28, 1).astype(np.float32)
    y = np.arange(70) % 10
    batches = list(fd.make_dataset(x, y, batch_size=32, shuffle=True, seed=0))
    assert [len(b[0]) for b in batches] == [32, 32, 6]
    got = np.sort(np.concatenate([b[1].numpy() for b in batches]))
    np.testing.assert_array_equal(got, np.sort(y))


@pytest.mark.portable
def test_make_dataset_turns_the_tf_data_autotuner_off_and_keeps_the_order():
    # Performance setting pinned (the autotuner cost whole epochs on one core, see
    # make_dataset); the shuffled order must not depend on it.
    x = np.arange(64, dtype=np.float32).reshape(64, 1)

    import tensorflow as tf

    def dataset():
        return fd.make_dataset(x, np.zeros(64, int), batch_size=8, shuffle=True, seed=3)

    def order(ds):
        return np.concatenate([b[0].numpy().ravel() for b in ds])

    assert dataset().options().autotune.enabled is False
    autotuned = tf.data.Options()
    autotuned.autotune.enabled = True
    with_autotuner = dataset().with_options(autotuned)
    assert with_autotuner.options().autotune.enabled is True
    first = order(dataset())
    assert sorted(first) == list(range(64))
    assert np.array_equal(first, order(with_autotuner))


@pytest.mark.portable
def test_make_dataset_validates():
    with pytest.raises(ValueError, match="batch_size"):
        fd.make_dataset(np.zeros((4, 784)), np.zeros(4, int), batch_size=0)
    # True used to be taken as batch_size=1; bools are rejected like other non-counts.
    with pytest.raises(ValueError, match="batch_size must be an int >= 1, got True"):
        fd.make_dataset(np.zeros((4, 784)), np.zeros(4, int), batch_size=True)
    with pytest.raises(ValueError, match="samples"):
        fd.make_dataset(np.zeros((4, 784)), np.zeros(3, int))


@pytest.mark.portable
@pytest.mark.parametrize("seed", ["a", -5, 1.5, True, None])
def test_make_dataset_rejects_bad_seeds(seed):
    # seed='a' used to fail inside tf.data with "not all arguments converted during string formatting"
    with pytest.raises(ValueError, match=rf"^seed must be an int >= 0, got {seed!r}$"):
        fd.make_dataset(np.zeros((4, 784), np.float32), np.zeros(4, int), shuffle=True, seed=seed)


@pytest.mark.portable
def test_make_dataset_rejects_non_numeric_targets_and_non_bool_switches():
    x = np.zeros((2, 784), np.float32)
    for y in (np.array(["a", "b"]), np.array([True, False]), np.array([None, 1], dtype=object)):
        with pytest.raises(TypeError, match=rf"make_dataset: y must hold numbers, got dtype {y.dtype}"):
            fd.make_dataset(x, y)
    with pytest.raises(TypeError, match="^shuffle must be True or False, got 'yes'$"):
        fd.make_dataset(x, np.zeros(2, int), shuffle="yes")
    with pytest.raises(TypeError, match="^cache must be True or False, got 0$"):
        fd.make_dataset(x, np.zeros(2, int), cache=0)
    # regression targets are numbers too: floats, negative or several columns
    (_, yb), = list(fd.make_dataset(x, np.array([[-1.5, 2.0], [0.0, -3.0]])))
    assert yb.shape == (2, 2)


def test_augmentation_only_in_training():
    aug = fd.build_augmentation(flip=True, rotation=0.1, noise=0.1, erasing=0.5, seed=0)
    x = np.random.default_rng(0).random((16, 28, 28, 1)).astype(np.float32)
    np.testing.assert_array_equal(np.asarray(aug(x, training=False)), x)
    assert np.abs(np.asarray(aug(x, training=True)) - x).max() > 0.01
    ds = fd.make_dataset(x.reshape(16, 784), np.zeros(16, int), batch_size=16, augment=aug)
    (xb, _), = list(ds)
    assert xb.shape == (16, 784) and not np.allclose(xb.numpy(), x.reshape(16, 784))


def _noise_of(ds, base):
    return np.concatenate([np.asarray(b[0]).ravel() for b in ds]) - base


@pytest.mark.portable
def test_augmentation_noise_has_the_same_mean_and_std_in_tf_data_and_in_the_layer():
    # GaussianNoise cannot run inside tf.data off tensorflow; the pipeline adds the noise with
    # TF ops from the layer's stddev and seed. Pinned: N(0, 0.1) there and in the layer itself
    # (Keras's own, on the active backend), fresh every epoch, the identity at inference.
    aug = fd.build_augmentation(flip=False, rotation=0, noise=0.1, erasing=0, seed=0)
    x = np.full((512, 28, 28, 1), 0.5, np.float32)  # 401,408 noise draws: std error of the mean 1.6e-4
    ds = fd.make_dataset(x, np.zeros(512, int), batch_size=128, shuffle=True, augment=aug)
    first, second = _noise_of(ds, 0.5), _noise_of(ds, 0.5)
    in_layer = np.asarray(aug(x, training=True)).ravel() - 0.5
    for noise in (first, second, in_layer):
        assert abs(noise.mean()) < 1e-3
        assert noise.std() == pytest.approx(0.1, rel=0.01)
    assert not np.allclose(first, second)  # a new draw each epoch (after the cache)
    np.testing.assert_array_equal(np.asarray(aug(x, training=False)), x)
    # MLP-shaped inputs get the same noise, reshaped to images and back
    flat = fd.make_dataset(x.reshape(512, 784), batch_size=256, augment=aug)
    assert next(iter(flat)).shape == (256, 784)
    assert _noise_of(((b,) for b in flat), 0.5).std() == pytest.approx(0.1, rel=0.01)


@pytest.mark.portable
def test_make_dataset_rejects_augmentation_it_cannot_run():
    x, y = np.zeros((8, 28, 28, 1), np.float32), np.zeros(8, int)
    with pytest.raises(TypeError, match="augment must be a Keras layer .* got str"):
        fd.make_dataset(x, y, augment="flip")
    with pytest.raises(ValueError, match=r"augmentation needs 28x28 images, got samples of shape \(10,\)"):
        fd.make_dataset(np.zeros((8, 10), np.float32), y, augment=fd.build_augmentation())
    if backend_name() != "tensorflow":  # Dropout is no tf.data layer: a clear error off tensorflow
        with pytest.raises(TypeError, match="augmentation layer 'drop' .*cannot run inside tf.data"):
            fd.make_dataset(x, y, augment=keras.layers.Dropout(0.5, name="drop"))

@pytest.mark.portable
def test_augmentation_validates_strength():
    with pytest.raises(ValueError, match="rotation"):
        fd.build_augmentation(rotation=2.0)
    with pytest.raises(ValueError, match=r"translation must be a finite number in \[0, 1\], got -0.1"):
        fd.build_augmentation(translation=-0.1)
    with pytest.raises(ValueError, match=r"noise must be a finite number in \[0, 1\], got '0.1'"):
        fd.build_augmentation(noise="0.1")


@pytest.mark.parametrize("scale", [(0.5, 0.1), (0.0, 0.1), (0.1, 1.5), (0.1,), 0.1, "ab", (0.1, "0.2")])
def test_augmentation_rejects_bad_erasing_scale(scale):
    # (0.5, 0.1) used to be accepted; Keras checks only that each bound lies in [0, 1]
    with pytest.raises(ValueError, match="erasing_scale"):
        fd.build_augmentation(erasing_scale=scale)


@pytest.mark.parametrize("kwargs, error, message", [
    ({"seed": -5}, ValueError, r"^seed must be an int >= 0, got -5$"),
    ({"seed": 1.5}, ValueError, r"^seed must be an int >= 0, got 1.5$"),
    ({"flip": "no"}, TypeError, r"^flip must be True or False, got 'no'$"),
])
def test_augmentation_rejects_bad_seed_and_flip(kwargs, error, message):
    with pytest.raises(error, match=message):
        fd.build_augmentation(**kwargs)
    assert fd.build_augmentation(erasing_scale=(0.1, 0.1), seed=np.int64(3)) is not None


@pytest.mark.portable
def test_translation_shifts_whole_images_and_keeps_their_mass():
    aug = fd.build_augmentation(flip=False, rotation=0, noise=0, erasing=0, translation=0.1, seed=0)
    assert [layer.name for layer in aug.layers] == ["translate"]
    x = np.zeros((64, 28, 28, 1), np.float32)
    x[:, 10:18, 10:18] = 1.0  # a centred square: a shift of <= 3 px keeps it inside the image
    out = np.asarray(aug(x, training=True))
    np.testing.assert_allclose(out.sum(axis=(1, 2, 3)), 64.0, rtol=0.02)  # moved, not cropped
    assert (np.abs(out - x).max(axis=(1, 2, 3)) > 0.5).mean() > 0.5  # most images moved
    np.testing.assert_array_equal(np.asarray(aug(x, training=False)), x)


# ---------------------------------------------------------------- regression data
def test_regression_files_match_generator(tmp_path):
    fd.write_regression_csv(tmp_path)
    for name in ("train", "test"):
        committed = (REPO_ROOT / "data" / "regression" / f"{name}.csv").read_bytes()
        assert (tmp_path / f"{name}.csv").read_bytes() == committed


def test_generated_regression_data_equals_the_committed_csv_files():
    # load_regression() needs no files (an installed package has none); it must give the
    # numbers the notebooks were run on.
    generated = fd.load_regression()
    committed = fd.load_regression(REPO_ROOT / "data" / "regression")
    for (xg, yg), (xc, yc) in zip(generated, committed):
        np.testing.assert_array_equal(xg, xc)
        np.testing.assert_array_equal(yg, yc)


def test_a_regression_directory_without_the_files_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="lacks train.csv, test.csv; pass a directory"):
        fd.load_regression(tmp_path)


def test_regression_docstring_example_holds():
    import doctest
    import importlib

    module = importlib.import_module("fmnist.data.regression")
    failed, attempted = doctest.testmod(module, verbose=False, report=False)
    assert attempted > 0 and failed == 0


def test_regression_gaps_and_shapes():
    (x, y), (xt, yt) = fd.load_regression()
    assert x.shape == y.shape == xt.shape == yt.shape == (100, 1)
    assert not fd.in_gap(x).any()  # no training point in [-3, -1] or [2, 3]
    assert fd.in_gap(xt).any()  # the test set covers the gaps
    assert x.min() >= -5 and x.max() <= 5
    resid = yt.ravel() - fd.true_function(xt.ravel())
    assert abs(resid.std() - fd.NOISE_STD_TEST) < 0.05
    assert fd.noise_floor() == pytest.approx(fd.NOISE_STD_TEST**2)
    grid = np.linspace(-5, 5, 21)
    np.testing.assert_allclose(fd.generator_basis(grid) @ [1.0, 0.3, 0.0], fd.true_function(grid))


# ---------------------------------------------------------------- the real Fashion-MNIST
@pytest.mark.realdata
def test_real_fashion_mnist():
    (x, y), (xt, yt) = fd.load_dataset("fashion_mnist")
    assert x.shape == (60000, 28, 28) and y.shape == (60000,) and x.dtype == np.uint8
    assert xt.shape == (10000, 28, 28) and yt.shape == (10000,)
    assert set(np.bincount(y)) == {6000} and set(np.bincount(yt)) == {1000}


@pytest.mark.realdata
def test_real_split_defaults():
    s = fd.load_splits("fashion_mnist", layout="mlp")
    assert s.x_train.shape == (48000, 784) and s.x_dev.shape == (12000, 784)
    report = s.report()
    assert set(report.loc[list(fd.FASHION_MNIST_CLASSES), "train"]) == {4800}
    assert set(report.loc[list(fd.FASHION_MNIST_CLASSES), "dev"]) == {1200}


@pytest.mark.realdata
def test_real_checksums_verified():
    info = fd.dataset_info("fashion_mnist")
    assert info["found"] and info["verified"], info


@pytest.mark.realdata
def test_real_checksum_report():
    table = fd.checksum_report("fashion_mnist")
    assert list(table["status"]) == ["OK"] * 4


def test_splits_train_subset():
    y = _labels()
    x = np.arange(len(y), dtype=np.float32)
    splits = fd.Splits(x, y, x[:10], y[:10], x[:10], y[:10], fd.MNIST_CLASSES, "mlp")
    assert splits.train_subset(None)[0] is x
    assert splits.train_subset(10_000)[0] is x
    xs, ys = splits.train_subset(100, seed=0)
    assert len(xs) == 100 and set(np.bincount(ys)) == {10}
    assert splits.dev_subset(None)[0] is splits.x_dev
    assert len(splits.dev_subset(5, seed=0)[0]) == 5


def test_splits_all_training_is_train_plus_dev_and_never_test():
    y = _labels()
    x = np.arange(len(y), dtype=np.float32)
    splits = fd.Splits(x[:-40], y[:-40], x[-40:], y[-40:], -1 - x[:3], y[:3], fd.MNIST_CLASSES, "mlp")
    xa, ya = splits.all_training()
    np.testing.assert_array_equal(np.sort(xa), x)  # every train and dev sample, once
    assert not set(splits.x_test) & set(xa)
    xs, ys = splits.all_training(100, seed=0)
    assert len(xs) == 100 and set(np.bincount(ys)) == {10} and set(xs) <= set(x)
    with pytest.raises(ValueError, match="subset size n must be an int >= 1"):
        splits.all_training(0)
