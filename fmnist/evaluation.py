"""Evaluation: test metrics, per-class reports, confusion matrices, comparison tables, regression.

Example (``model``/``*_result`` from :func:`fmnist.training.train`, ``s`` from
``fmnist.data.load_splits``)::

    from fmnist.evaluation import classification_summary, compare, confusion, evaluate, most_confused

    evaluate(model, s.x_test, s.y_test)                      # {'loss': ..., 'accuracy': ...}
    probs = model.predict(s.x_test, verbose=0)
    classification_summary(s.y_test, probs, s.class_names)   # precision/recall/F1/support
    cm = confusion(s.y_test, probs)
    most_confused(cm, s.class_names, k=3)                    # e.g. Shirt -> T-shirt/top
    compare({"MLP": mlp_result, "CNN": cnn_result}, s.x_test, s.y_test)
    regression_metrics(cv.models, x_train, y_train, x_test, y_test)   # MSE incl. gap regions
    regression_table(regression_references(x_train, y_train), x_train, y_train, x_test, y_test)

Predictions may be passed as labels ``(N,)`` or as probabilities ``(N, n_classes)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import keras
import numpy as np
import pandas as pd
from sklearn.linear_model import LinearRegression
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler

from fmnist.checks import check_finite, check_int
from fmnist.data import GAPS, generator_basis, true_function
from fmnist.data import noise_floor as _noise_floor  # the parameter below has this name
from fmnist.prediction import (
    _check_x,
    _labels,
    _predict,
    check_regressor,
    ensemble_predict,
    evaluate,
    predict_classes,
)
from fmnist.training import TrainResult

__all__ = [
    "COMPARE_COLUMNS", "classification_summary", "compare", "confusion", "cv_vs_ensemble",
    "ensemble_predict", "evaluate", "most_confused", "predict_classes", "regression_metrics",
    "regression_references", "regression_table",
]  # fmt: skip

COMPARE_COLUMNS = ("Architecture", "Params", "Epochs", "Train time (s)", "Test loss", "Test accuracy")


def _n_classes(class_names, y_true, y_pred) -> int:
    """Classes from probability columns, else the class names, else the largest label + 1."""
    arrays = {"y_true": np.asarray(y_true), "y_pred": np.asarray(y_pred)}
    for a in arrays.values():
        if a.ndim == 2 and a.shape[1] > 1:
            return a.shape[1]
    if class_names is not None:
        return len(class_names)
    return int(max(_labels(a, what).max(initial=0) for what, a in arrays.items())) + 1


def _names(class_names, n: int) -> list[str]:
    if class_names is None:
        return [str(i) for i in range(n)]
    if len(class_names) != n:
        raise ValueError(f"{len(class_names)} class names for {n} classes")
    return [str(c) for c in class_names]


def classification_summary(
    y_true: np.ndarray, y_pred: np.ndarray, class_names: Sequence[str] | None = None
) -> pd.DataFrame:
    """Per-class precision, recall, F1 and support (scikit-learn), plus macro/weighted averages."""

    n = _n_classes(class_names, y_true, y_pred)
    names = _names(class_names, n)
    t, p = _labels(y_true, "y_true", n), _labels(y_pred, "y_pred", n)
    if len(t) != len(p):
        raise ValueError(f"y_true has {len(t)} samples but y_pred has {len(p)}")
    labels = list(range(n))
    prec, rec, f1, sup = precision_recall_fscore_support(t, p, labels=labels, zero_division=0)
    table = pd.DataFrame({"precision": prec, "recall": rec, "f1": f1, "support": sup}, index=names)
    for avg in ("macro", "weighted"):
        ap, ar, af, _ = precision_recall_fscore_support(t, p, labels=labels, average=avg, zero_division=0)
        table.loc[f"{avg} avg"] = [ap, ar, af, int(sup.sum())]
    table["support"] = table["support"].astype(int)
    table.index.name = "class"
    return table


def confusion(
    y_true: np.ndarray, y_pred: np.ndarray, normalize: bool | str = False, n_classes: int | None = None
) -> np.ndarray:
    """Confusion matrix (rows: true class, columns: predicted class).

    ``normalize``: False (counts), True or "true" (rows sum to 1), "pred" (columns) or "all".
    """

    modes = {False: None, None: None, True: "true", "true": "true", "pred": "pred", "all": "all"}
    if normalize not in modes:
        raise ValueError(f"normalize must be one of False, True, 'true', 'pred', 'all'; got {normalize!r}")
    n = n_classes if n_classes is not None else _n_classes(None, y_true, y_pred)
    t, p = _labels(y_true, "y_true", n), _labels(y_pred, "y_pred", n)
    return confusion_matrix(t, p, labels=list(range(n)), normalize=modes[normalize])


def most_confused(cm: np.ndarray, class_names: Sequence[str] | None = None, k: int = 5) -> pd.DataFrame:
    """The ``k`` largest off-diagonal cells of a raw confusion matrix.

    Columns: ``true``, ``predicted``, ``count`` and ``rate`` (share of the true class).
    """
    cm = np.asarray(cm)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"cm must be a square matrix, got shape {cm.shape}")
    k = check_int(k, "k")
    names = _names(class_names, cm.shape[0])
    rows = cm.sum(axis=1)
    cells = [
        (names[i], names[j], cm[i, j], cm[i, j] / rows[i] if rows[i] else 0.0)
        for i in range(cm.shape[0]) for j in range(cm.shape[1]) if i != j and cm[i, j] > 0
    ]  # fmt: skip
    cells.sort(key=lambda c: -c[2])  # stable: ties keep (true, predicted) order
    return pd.DataFrame(cells[:k], columns=["true", "predicted", "count", "rate"])


def _fit_to(model: keras.Model, x: np.ndarray) -> np.ndarray:
    """Reshape ``x`` to the model's input when only the layout differs (MLP vs CNN)."""
    target = tuple(model.input_shape[1:])
    same_size = None not in target and int(np.prod(target)) == int(np.prod(x.shape[1:]))
    if x.shape[1:] != target and same_size:
        return x.reshape((len(x),) + target)
    return x


_ALIASES = {
    "Params": ("params", "Params"),
    "Epochs": ("epochs", "epochs_run", "Epochs"),
    "Train time (s)": ("train_time", "wall_time", "Train time (s)"),
    "Test loss": ("test_loss", "loss", "Test loss"),
    "Test accuracy": ("test_accuracy", "accuracy", "Test accuracy"),
}


def compare(
    results: Mapping[str, Any] | Sequence[Mapping[str, Any]],
    x_test: np.ndarray | None = None,
    y_test: np.ndarray | None = None,
    sort_by: str | None = None,
) -> pd.DataFrame:
    """Comparison table with columns :data:`COMPARE_COLUMNS` (seed 003 style).

    Args:
        results: ``{architecture: TrainResult or dict}`` or a list of dicts with an
            ``"Architecture"`` (or ``"name"``) key. Dicts give ``params``, ``epochs``,
            ``train_time``, ``test_loss``, ``test_accuracy`` (missing values are NaN).
        x_test, y_test: evaluate every ``TrainResult``'s model on this test set; ``x_test``
            is reshaped per model when only the layout differs, so one set serves MLPs and CNNs.
        sort_by: optional column to sort by (descending for accuracy, ascending otherwise).
    """
    if isinstance(results, Mapping):
        items = list(results.items())
    else:
        items = []
        for rec in results:
            if not isinstance(rec, Mapping) or not ({"Architecture", "name"} & set(rec)):
                raise TypeError("list entries must be dicts with an 'Architecture' or 'name' key")
            items.append((rec.get("Architecture", rec.get("name")), rec))
    rows = []
    for name, rec in items:
        row: dict[str, Any] = {"Architecture": name}
        if isinstance(rec, TrainResult):
            row.update({"Params": rec.params, "Epochs": rec.epochs_run, "Train time (s)": rec.wall_time})
            if x_test is not None and y_test is not None:
                m = evaluate(rec.model, _fit_to(rec.model, np.asarray(x_test)), y_test)
                row.update({"Test loss": m["loss"], "Test accuracy": m.get("accuracy", np.nan)})
        elif isinstance(rec, Mapping):
            for col, keys in _ALIASES.items():
                row[col] = next((rec[key] for key in keys if key in rec), np.nan)
        else:
            raise TypeError(f"result {name!r} must be a TrainResult or a dict, got {type(rec).__name__}")
        rows.append(row)
    table = pd.DataFrame(rows).reindex(columns=list(COMPARE_COLUMNS))
    if sort_by is not None:
        if sort_by not in COMPARE_COLUMNS:
            raise ValueError(f"sort_by must be one of {COMPARE_COLUMNS}, got {sort_by!r}")
        table = table.sort_values(sort_by, ascending=sort_by != "Test accuracy", kind="stable")
    return table.reset_index(drop=True)


def _regression_predict(predictor: Any, x: np.ndarray) -> np.ndarray:
    if isinstance(predictor, keras.Model):
        predictor = [predictor]
    is_models = isinstance(predictor, (list, tuple)) and predictor
    if is_models and all(isinstance(m, keras.Model) for m in predictor):
        for model in predictor:
            _check_x(check_regressor(model, "regression_metrics"), x)
        return ensemble_predict(predictor, x).reshape(-1)  # one model, or the ensemble average
    if callable(predictor):
        return np.asarray(predictor(x)).reshape(-1)
    raise TypeError("predictor must be a keras.Model, a list of models or a callable x -> predictions")


def regression_metrics(
    model_or_preds: Any,
    x_train: np.ndarray | None = None,
    y_train: np.ndarray | None = None,
    x_test: np.ndarray | None = None,
    y_test: np.ndarray | None = None,
    gaps: Sequence[tuple[float, float]] | None = None,
) -> dict[str, float]:
    """MSE on train, test, the test points inside each gap region, and outside the gaps.

    Args:
        model_or_preds: a Keras model, a list of models (ensemble average), a callable
            ``x -> y_hat``, or precomputed predictions: an array of test predictions or a dict
            ``{"train": ..., "test": ...}``.
        gaps: ``(low, high)`` regions (inclusive); default ``fmnist.data.GAPS``.

    Returns:
        ``mse_train``, ``mse_test``, ``mse_gap_1``.. (one per gap), ``mse_gaps`` (all gap
        points), ``mse_outside_gaps``, and ``n_gap_1``.. point counts. A region without test
        points gives NaN.
    """
    if gaps is None:
        gaps = GAPS
    preds: dict[str, np.ndarray | None] = {"train": None, "test": None}
    if isinstance(model_or_preds, Mapping):
        unknown = set(model_or_preds) - set(preds)
        if unknown:
            raise ValueError(f"prediction dict keys must be 'train'/'test', got {sorted(unknown)}")
        preds.update({k: np.asarray(v).reshape(-1) for k, v in model_or_preds.items()})
    elif isinstance(model_or_preds, np.ndarray):
        preds["test"] = model_or_preds.reshape(-1)
    else:
        for split, xs in (("train", x_train), ("test", x_test)):
            if xs is not None:
                xs = check_finite(np.asarray(xs, dtype=np.float32), f"x_{split}")
                preds[split] = _regression_predict(model_or_preds, xs)
    out: dict[str, float] = {}
    for split, ys in (("train", y_train), ("test", y_test)):
        if preds[split] is not None and ys is not None:
            ys = check_finite(np.asarray(ys, dtype=np.float64), f"y_{split}").reshape(-1)
            if len(ys) != len(preds[split]) or not len(ys):
                raise ValueError(
                    f"{split}: {len(preds[split])} predictions for {len(ys)} targets (need N >= 1 of each)"
                )
            out[f"mse_{split}"] = float(np.mean((preds[split] - ys) ** 2))
    if preds["test"] is not None and y_test is not None:
        if x_test is None:
            raise ValueError("x_test is needed to locate the gap regions")
        xt = np.asarray(x_test, dtype=np.float64).reshape(-1)
        sq = (preds["test"] - np.asarray(y_test, dtype=np.float64).reshape(-1)) ** 2
        if len(xt) != len(sq):
            raise ValueError(f"x_test has {len(xt)} points but y_test has {len(sq)}: one x per target")
        any_gap = np.zeros(len(xt), dtype=bool)
        for i, (lo, hi) in enumerate(gaps, start=1):
            mask = (xt >= lo) & (xt <= hi)
            any_gap |= mask
            out[f"mse_gap_{i}"] = float(sq[mask].mean()) if mask.any() else float("nan")
            out[f"n_gap_{i}"] = int(mask.sum())
        out["mse_gaps"] = float(sq[any_gap].mean()) if any_gap.any() else float("nan")
        out["mse_outside_gaps"] = float(sq[~any_gap].mean()) if (~any_gap).any() else float("nan")
    if not out:
        raise ValueError("nothing to score: pass (x_train, y_train) and/or (x_test, y_test)")
    return out


def regression_table(
    predictors: Mapping[str, Any],
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    noise_floor: float | None = None,
) -> pd.DataFrame:
    """:func:`regression_metrics` of several predictors side by side (one row each).

    ``predictors`` maps a label to anything :func:`regression_metrics` accepts (a model, a list
    of models for an ensemble, ...). A ``test / noise floor`` column divides the test MSE by
    ``noise_floor`` (default ``fmnist.data.noise_floor()``): 1.0 is the best achievable.
    """
    if not predictors:
        raise ValueError("regression_table needs at least one predictor")
    if noise_floor is None:
        noise_floor = _noise_floor()
    rows = {name: regression_metrics(p, x_train, y_train, x_test, y_test) for name, p in predictors.items()}
    table = pd.DataFrame(rows).T
    table["test / noise floor"] = table["mse_test"] / noise_floor
    return table


def cv_vs_ensemble(models: Sequence[keras.Model] | Any, x: np.ndarray, y: np.ndarray) -> pd.DataFrame:
    """Test MSE of each fold model, their mean, and of the averaged ensemble (seed 000).

    ``models`` is a list of regression models or a ``CVResult``. Rows ``fold 1..k``,
    ``fold mean`` and ``ensemble``; column ``test_mse``. The ensemble MSE is never above the
    fold mean (Jensen's inequality for the squared error).
    """
    models = [check_regressor(m, "cv_vs_ensemble") for m in getattr(models, "models", models)]
    if not models:
        raise ValueError("cv_vs_ensemble needs at least one model")
    x, y = np.asarray(x), check_finite(np.asarray(y, dtype=np.float64), "y")
    if len(y) != len(x) or y.size != len(y):
        raise ValueError(f"y must hold one target per sample of x ({len(x)}), got shape {y.shape}")
    y = y.reshape(-1)
    preds = [_predict(m, x).reshape(-1) for m in models]
    member = [float(np.mean((p - y) ** 2)) for p in preds]
    ens = float(np.mean((np.mean(preds, axis=0) - y) ** 2))  # the ensemble from the same predictions
    index = [f"fold {i}" for i in range(1, len(models) + 1)] + ["fold mean", "ensemble"]
    return pd.DataFrame({"test_mse": member + [float(np.mean(member)), ens]}, index=index)


def regression_references(
    x_train: np.ndarray, y_train: np.ndarray, max_degree: int = 12, cv: int = 5, seed: int = 0
) -> dict[str, Any]:
    """Non-network predictors that bracket what a model of the regression task can reach.

    Callables ``x -> y_hat`` for :func:`regression_table`, best first:

    * ``"true function"``: ``fmnist.data.true_function``, no estimation error at all: its test
      MSE is the noise of this particular test sample (``noise_floor()`` only in expectation);
    * ``"least squares on sin x, x, 1"``: an oracle that knows the generator's form and fits
      its 3 coefficients to the training points; its excess over the true function is the
      least a model must pay for learning from 100 noisy points;
    * ``"polynomial, degree d"``: a generic smoother, the degree (1..``max_degree``) chosen by
      ``cv``-fold cross-validation on the training points only (scikit-learn).

    The first two use knowledge no learner has; they are yardsticks, not candidates.
    """


    max_degree = check_int(max_degree, "max_degree")
    cv = check_int(cv, "cv", minimum=2)
    x = np.asarray(x_train, dtype=np.float64).reshape(-1, 1)
    y = np.asarray(y_train, dtype=np.float64).reshape(-1)
    if len(x) != len(y):
        raise ValueError(f"x_train has {len(x)} points, y_train {len(y)}")
    coef = np.linalg.lstsq(generator_basis(x), y, rcond=None)[0]
    # The scaler keeps high powers of x in [-5, 5] well conditioned.
    search = GridSearchCV(
        make_pipeline(StandardScaler(), PolynomialFeatures(), LinearRegression()),
        {"polynomialfeatures__degree": list(range(1, max_degree + 1))},
        cv=KFold(cv, shuffle=True, random_state=seed), scoring="neg_mean_squared_error",
    ).fit(x, y)  # fmt: skip
    degree = search.best_params_["polynomialfeatures__degree"]
    flat = lambda a: np.asarray(a, dtype=np.float64).reshape(-1)  # noqa: E731
    return {
        "true function": lambda a: true_function(flat(a)),
        "least squares on sin x, x, 1": lambda a: generator_basis(a) @ coef,
        f"polynomial, degree {degree}": lambda a: search.predict(flat(a).reshape(-1, 1)),
    }
