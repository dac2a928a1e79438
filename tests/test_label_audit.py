"""fmnist.label_audit: out-of-fold probabilities, confident learning, dropping flagged data."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from fmnist import label_audit as la


def _probs_with_flipped_labels(n=600, classes=4, flipped=30, seed=0):
    """Confident, correct probabilities for true labels; the given labels have ``flipped`` errors."""
    rng = np.random.default_rng(seed)
    true = np.arange(n) % classes
    probs = np.full((n, classes), 0.05 / (classes - 1))
    probs[np.arange(n), true] = 0.95
    given = true.copy()
    wrong = rng.choice(n, flipped, replace=False)
    given[wrong] = (true[wrong] + 1 + rng.integers(0, classes - 1, flipped)) % classes
    return given, probs, np.sort(wrong)


def test_confident_learning_finds_the_flipped_labels():
    given, probs, wrong = _probs_with_flipped_labels()
    flagged = la.find_label_issues(given, probs)
    np.testing.assert_array_equal(np.sort(flagged), wrong)
    table = la.label_issue_table(flagged, given, probs, class_names=["a", "b", "c", "d"])
    assert list(table.columns) == ["index", "given", "predicted", "p_given", "p_predicted"]
    assert (table["given"] != table["predicted"]).all()
    np.testing.assert_allclose(table["p_predicted"], 0.95)
    counts = la.class_pair_counts(table)
    assert counts["count"].sum() == len(wrong)
    assert counts["count"].is_monotonic_decreasing


def test_without_flagged_returns_what_it_dropped():
    x = np.arange(20, dtype=np.float32).reshape(10, 2)
    y = np.arange(10) % 2
    (kept_x, kept_y), dropped = la.without_flagged(x, y, [7, 2, 5], k=2)
    np.testing.assert_array_equal(dropped, [2, 7])
    assert len(kept_x) == len(kept_y) == 8
    assert not set(kept_x[:, 0] // 2) & {2, 7}
    (_, _), none = la.without_flagged(x, y, [7, 2, 5], k=0)
    assert none.size == 0


@pytest.mark.parametrize("call, error, match", [
    (lambda: la.find_label_issues([0, 1], [[0.5, 0.6], [0.5, 0.5]]), ValueError, "sum to 1 per row; row 0"),
    (lambda: la.find_label_issues([0], [[0.5, 0.5], [0.5, 0.5]]), ValueError,
     "labels has 1 samples but pred_probs has 2"),
    (lambda: la.find_label_issues([], np.zeros((0, 2))), ValueError, "at least one sample"),
    (lambda: la.find_label_issues([0, 0], [[0.9, 0.1], [0.8, 0.2]]), ValueError, r"classes \[1\] never occur"),
    (lambda: la.label_issue_table([5], [0, 1], [[0.5, 0.5], [0.5, 0.5]]), ValueError, r"indices must lie in \[0, 2\)"),
    (lambda: la.label_issue_table([0], [0, 1], [[0.5, 0.5], [0.5, 0.5]], ["a"]), ValueError, "1 names for 2 classes"),
    (lambda: la.without_flagged(np.zeros((3, 1)), [0, 1, 0], [0], k=2), ValueError, "k=2 but only 1"),
    (lambda: la.without_flagged(np.zeros((3, 1)), [0, 1, 0], [0, 0], k=1), ValueError, "unique"),
    (lambda: la.without_flagged(np.zeros((3, 1)), [0, 1], [0], k=1), ValueError, "3 samples but y has 2"),
    (lambda: la.class_pair_counts(None), ValueError, "label_issue_table"),
])  # fmt: skip
def test_bad_inputs(call, error, match):
    with pytest.raises(error, match=match):
        call()


@pytest.mark.portable
def test_out_of_fold_probabilities_score_every_sample_with_a_model_that_never_saw_it():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(int) + 2 * (x[:, 1] > 0).astype(int)

    def build():
        inputs = keras.Input((4,))
        return keras.Model(inputs, keras.layers.Dense(4, activation="softmax")(inputs))

    probs, cv = la.out_of_fold_probabilities(build, x, y, k=3, epochs=2, batch_size=40)
    assert probs.shape == (120, 4)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-6)
    for model, (_, val_idx) in zip(cv.models, cv.folds):
        np.testing.assert_allclose(probs[val_idx], model.predict(x[val_idx], verbose=0), rtol=1e-5, atol=1e-6)
    assert sorted(np.concatenate([va for _, va in cv.folds]).tolist()) == list(range(120))
