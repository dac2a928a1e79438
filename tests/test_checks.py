"""fmnist.checks: the shared argument checks (counts, finite arrays, class labels) and their use."""

from __future__ import annotations

import numpy as np
import pytest

from fmnist.checks import check_finite, check_int, check_labels


@pytest.mark.parametrize("value", [3, np.int64(3), np.int32(3), np.uint8(3)])
def test_accepts_python_and_numpy_ints_and_returns_a_python_int(value):
    out = check_int(value, "n")
    assert out == 3 and type(out) is int


@pytest.mark.parametrize("value", [True, False, np.bool_(True), 2.0, "2", None, -1, 0])
def test_rejects_non_counts_naming_the_value_and_the_valid_range(value):
    with pytest.raises(ValueError) as info:
        check_int(value, "epochs")
    assert str(info.value) == f"epochs must be an int >= 1, got {value!r}"


def test_minimum_is_inclusive():
    assert check_int(0, "seed", minimum=0) == 0
    assert check_int(2, "k", minimum=2) == 2
    with pytest.raises(ValueError, match=r"^k must be an int >= 2, got 1$"):
        check_int(1, "k", minimum=2)


def test_none_only_when_allowed():
    assert check_int(None, "patience", minimum=0, allow_none=True) is None
    with pytest.raises(ValueError, match=r"^patience must be an int >= 0 or None, got -1$"):
        check_int(-1, "patience", minimum=0, allow_none=True)
    with pytest.raises(ValueError, match=r"^patience must be an int >= 0, got None$"):
        check_int(None, "patience", minimum=0)


def test_note_appears_in_the_message():
    with pytest.raises(ValueError, match=r"^timeout must be an int >= 1 \(seconds\), got 0$"):
        check_int(0, "timeout", note=" (seconds)")


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_check_finite_names_the_first_bad_sample(bad):
    x = np.zeros((4, 2, 2), np.float32)
    x[2, 1, 0] = x[3, 0, 0] = bad
    with pytest.raises(ValueError, match=r"^x_test contains NaN/inf \(first at sample 2\); values must be finite$"):
        check_finite(x, "x_test")
    with pytest.raises(ValueError, match=r"first at sample 0"):
        check_finite(bad, "scale")  # 0-d


def test_check_finite_returns_the_array_and_passes_integers_and_empty_arrays():
    out = check_finite([[1.0, 2.0]], "x")
    assert isinstance(out, np.ndarray) and out.shape == (1, 2)
    assert check_finite(np.arange(3), "x").dtype.kind == "i"
    assert check_finite(np.zeros((0, 4)), "x").shape == (0, 4)


def test_check_labels_accepts_integers_and_integer_valued_floats():
    y = np.array([2, 0, 1], np.uint8)
    assert check_labels(y) is not None and check_labels(y).dtype == np.uint8  # integer dtype kept
    out = check_labels(np.array([[2.0], [0.0], [1.0]]), "y")  # (N, 1) floats, as Keras accepts
    assert out.dtype == np.int64 and out.tolist() == [2, 0, 1]
    assert check_labels([], "y", n_classes=3).shape == (0,)


@pytest.mark.parametrize(
    "y, error, message",
    [
        ([0.0, 1.5], TypeError,
         r"^y must be integer class labels \(integer-valued floats such as 2.0 are accepted\), got 1.5$"),
        ([0.0, np.nan], TypeError, r"got nan$"),
        ([0.0, np.inf], TypeError, r"got inf$"),
        ([True, False], TypeError, r"^y must be integer class labels, got dtype bool$"),
        (["a", "b"], TypeError, r"^y must be integer class labels, got dtype <U1$"),
        (np.eye(3), ValueError, r"^y has shape \(3, 3\): pass integer class labels \(N,\), not one-hot vectors$"),
        (np.zeros((2, 1, 1), int), ValueError,
         r"^y must be integer class labels of shape \(N,\) or \(N, 1\), got shape \(2, 1, 1\)$"),
        (3, ValueError, r"got shape \(\)$"),
        ([-1, 2], ValueError, r"^y must be integer class labels >= 0, got values in \[-1, 2\]$"),
    ],
)  # fmt: skip
def test_check_labels_rejects_naming_the_rule(y, error, message):
    with pytest.raises(error, match=message):
        check_labels(y, "y")


def test_check_labels_range_and_note():
    # The wording train() uses for labels outside the model's classes.
    with pytest.raises(ValueError, match=r"^y must be integer class labels in \[0, 10\) for model 'm', "
                                         r"got values in \[3, 12\]$"):
        check_labels(np.arange(3, 13.0), "y", n_classes=10, note=" for model 'm'")
    assert check_labels([0, 9], "y", n_classes=10).tolist() == [0, 9]


# ---------------------------------------------------------------- the data layer uses them
def test_data_splits_follow_the_shared_label_rule():
    import fmnist.data as fd

    y = np.repeat(np.arange(2.0), 10)  # integer-valued floats: rejected before, accepted as by train()
    (_, y_train), (_, y_dev) = fd.stratified_split(np.zeros(20), y, dev_fraction=0.5, seed=0)
    assert y_train.dtype == np.int64 and sorted(np.bincount(y_dev)) == [5, 5]
    assert fd.split_report({"train": y})["train"].tolist() == [10, 10, 20]
    with pytest.raises(TypeError, match=r"labels must be integer class labels .*got 0.5"):
        fd.stratified_split(np.zeros(4), np.array([0, 0.5, 1, 1]))


def test_split_report_needs_a_name_for_every_class():
    import fmnist.data as fd

    with pytest.raises(ValueError, match=r"^2 class names for 4 classes$"):
        fd.split_report({"train": np.arange(4), "dev": np.arange(2)}, class_names=["x", "y"])
    table = fd.split_report({"train": np.arange(2)}, class_names=["x", "y", "z"])  # absent class: 0
    assert table["train"].tolist() == [1, 1, 0, 2]


@pytest.mark.parametrize("shuffle", [True, False])
def test_make_dataset_rejects_empty_x(shuffle):
    import fmnist.data as fd

    with pytest.raises(ValueError, match=r"^make_dataset: x has shape \(0, 784\): "
                                         r"need at least one sample \(N >= 1\)$"):
        fd.make_dataset(np.zeros((0, 784), np.float32), np.zeros(0, int), shuffle=shuffle)


def test_importing_checks_does_not_import_tensorflow():
    import subprocess
    import sys
    from pathlib import Path

    import fmnist

    root = str(Path(fmnist.__file__).resolve().parents[1])  # the fmnist under test
    code = "import sys, fmnist.checks; print('tensorflow' in sys.modules or 'keras' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


# ---------------------------------------------------------------- check_real, check_bool
@pytest.mark.parametrize("value", [0.25, np.float32(0.25), np.float64(0.25), 0, np.int64(1)])
def test_check_real_accepts_python_and_numpy_reals_and_returns_a_float(value):
    from fmnist.checks import check_real

    out = check_real(value, "rate", 0, 1)
    assert out == float(value) and type(out) is float


@pytest.mark.parametrize("value", [True, np.bool_(False), "0.5", None, float("nan"), float("inf"), [0.5]])
def test_check_real_rejects_non_numbers_naming_the_valid_range(value):
    from fmnist.checks import check_real

    with pytest.raises(ValueError) as info:
        check_real(value, "dropout", 0, 1, high_open=True)
    assert str(info.value) == f"dropout must be a finite number in [0, 1), got {value!r}"


def test_check_real_bounds_open_closed_and_none():
    from fmnist.checks import check_real

    assert check_real(0, "l2", low=0) == 0.0
    assert check_real(None, "weight_decay", low=0, allow_none=True) is None
    with pytest.raises(ValueError, match=r"^learning_rate must be a finite number > 0, got 0$"):
        check_real(0, "learning_rate", low=0, low_open=True)
    with pytest.raises(ValueError, match=r"^x must be a finite number <= 1, got 2$"):
        check_real(2, "x", high=1)
    with pytest.raises(ValueError, match=r"^s must be a finite number in \(0, 1\], got 0$"):
        check_real(0, "s", 0, 1, low_open=True)
    with pytest.raises(ValueError, match=r"^w must be a finite number >= 0 or None, got -1$"):
        check_real(-1, "w", low=0, allow_none=True)
    assert check_real(-7.5, "target") == -7.5  # no bounds: any finite number


def test_check_bool_takes_only_real_bools():
    from fmnist.checks import check_bool

    assert check_bool(True, "flip") is True and check_bool(np.bool_(False), "flip") is False
    assert check_bool(None, "batch_norm", allow_none=True) is None
    for bad in ("no", 1, 0.0, None):
        with pytest.raises(TypeError, match=rf"^flip must be True or False, got {bad!r}$"):
            check_bool(bad, "flip")


def test_check_samples_one_rule_for_batches():
    from fmnist.checks import check_samples

    x, y = check_samples([[0.0, 1.0], [2.0, 3.0]], [0, 1])
    assert isinstance(x, np.ndarray) and x.shape == (2, 2) and list(y) == [0, 1]
    assert check_samples(np.zeros((3, 2)))[1] is None
    with pytest.raises(ValueError, match=r"^fit: x has shape \(0, 2\): need at least one sample \(N >= 1\)$"):
        check_samples(np.zeros((0, 2)), caller="fit")
    with pytest.raises(ValueError, match=r"^x has shape \(\): need at least one sample"):
        check_samples(5.0)
    with pytest.raises(ValueError, match=r"^x has 3 samples but y has 2$"):
        check_samples(np.zeros((3, 2)), [0, 1])
    with pytest.raises(ValueError, match=r"^x has 3 samples but y has a scalar$"):
        check_samples(np.zeros((3, 2)), 1)
    check_samples(np.zeros((2, 2)), np.array(["a", "b"]))  # dtypes are checked only on request
    with pytest.raises(TypeError, match=r"^train: y must hold numbers, got dtype <U1$"):
        check_samples(np.zeros((2, 2)), np.array(["a", "b"]), "train", numeric=True)
    with pytest.raises(TypeError, match=r"^x must hold numbers, got dtype object$"):
        check_samples(np.array([None, 1], dtype=object), numeric=True)
