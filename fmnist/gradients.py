"""Vanishing and exploding gradients: two demos that compute tables (drawing is in
:mod:`fmnist.visualization`).

1. **Matrix products.** Push a random vector through ``depth`` random matrices. The scale of
   the entries relative to the fan-in decides everything: entries uniform on [0, 0.1] shrink
   the vector to 0, uniform on [0, 10] blow it up to inf/nan within a few dozen products, and
   Glorot/He scaling (variance ~ 1/fan-in) keep it finite.
2. **Deep, thin MLP** (784-8x6-10). Per-layer gradient norms at initialization and after every
   epoch, for random-uniform vs He initialization and sigmoid vs ReLU, plus the loss curves:
   the sigmoid net with large uniform weights saturates, its first layers receive gradients
   orders of magnitude smaller than the last ones, and its loss stays flat.
3. **Initializers side by side** (:func:`compare_initializers`): one architecture built with
   each initializer, scored by k-fold cross-validation (mean learning curves) and refit on all
   the data, with its kernels before training kept for weight histograms.

Example::

    >>> from fmnist import gradients
    >>> table = gradients.matrix_product_demo(depth=100)      # init, depth, mean, std
    >>> table.groupby("init")["std"].last()                   # 0, nan, finite, finite
    >>> result = gradients.deep_thin_experiment(x_train[:2048], y_train[:2048], epochs=3)
    >>> result.norms.head()                                   # config, epoch, layer, norm
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence

import keras
import numpy as np
import pandas as pd

from fmnist.backend import weight_gradients
from fmnist.checks import check_int, check_labels, check_samples
from fmnist.model import INITIALIZERS, build_deep_thin_mlp, check_input_shape, compile_model, layer_weights
from fmnist.training import TrainingDivergedError, cross_validate, set_seed, train

__all__ = [
    "DEEP_THIN_CONFIGS",
    "MATRIX_INITS",
    "DeepThinResult",
    "GradientNormHistory",
    "InitializerComparison",
    "compare_initializers",
    "deep_thin_experiment",
    "gradient_norms",
    "matrix_product_demo",
    "matrix_product_simulation",
]

#: Matrix initializations of the matrix-product demo.
MATRIX_INITS = ("uniform_small", "uniform_large", "glorot", "he")

#: Deep-thin configurations: label -> (kernel initializer, activation). "uniform" is
#: uniform(-1, 1) like the builder default, drawn independently for every layer.
DEEP_THIN_CONFIGS: dict[str, tuple[str, str]] = {
    "uniform + sigmoid": ("uniform", "sigmoid"),
    "uniform + relu": ("uniform", "relu"),
    "he + sigmoid": ("he", "sigmoid"),
    "he + relu": ("he", "relu"),
}


# --------------------------------------------------------------------------------------------
# matrix products
# --------------------------------------------------------------------------------------------
def _random_matrix(rng: np.random.Generator, init: str, size: int) -> np.ndarray:
    if init == "uniform_small":
        return rng.uniform(0.0, 0.1, (size, size))
    if init == "uniform_large":
        return rng.uniform(0.0, 10.0, (size, size))
    if init == "glorot":  # Glorot uniform: variance 2 / (fan_in + fan_out) = 1 / size
        limit = np.sqrt(6.0 / (2 * size))
        return rng.uniform(-limit, limit, (size, size))
    if init == "he":  # He normal: variance 2 / fan_in, which compensates ReLU halving it
        return rng.normal(0.0, np.sqrt(2.0 / size), (size, size))
    raise ValueError(f"unknown init {init!r}; valid inits: {', '.join(MATRIX_INITS)}")


def matrix_product_simulation(depth: int = 100, size: int = 10, init: str = "glorot",
                              activation: str | None = None, seed: int = 0,
                              dtype: str = "float32") -> pd.DataFrame:
    """Push a standard-normal vector through ``depth`` random ``size x size`` matrices.

    Args:
        depth: number of matrices.
        size: vector length. With non-negative entries of mean ``m`` every product scales
            the vector by about ``m * size``: uniform [0, 0.1] vanishes only while
            ``0.05 * size < 1`` (size < 20), which is the point of fan-in scaling.
        init: one of :data:`MATRIX_INITS`.
        activation: None (linear) or ``"relu"`` applied after every product (He scaling is
            designed for ReLU: linear He products grow by sqrt(2) per layer).
        seed: seeds both the input vector and the matrices (same vector for every init).
        dtype: float32 by default, like network weights, so overflow to inf happens at the
            same magnitude (~3.4e38) as in a real network.

    Returns:
        DataFrame with one row per depth 0..depth (0 = the input vector) and columns
        ``init, depth, mean, std`` (statistics over the vector's entries; inf/nan once the
        values overflow).
    """
    if init not in MATRIX_INITS:
        raise ValueError(f"unknown init {init!r}; valid inits: {', '.join(MATRIX_INITS)}")
    if activation not in (None, "relu"):
        raise ValueError(f"activation must be None or 'relu', got {activation!r}")
    depth, size = check_int(depth, "depth"), check_int(size, "size")
    seed = check_int(seed, "seed", minimum=0)
    try:
        kind = np.dtype(dtype).kind if isinstance(dtype, (str, type, np.dtype)) else None
    except TypeError:  # not a dtype name at all
        kind = None
    if kind != "f":  # an integer dtype truncates the matrices to 0: the demo shows nothing
        raise ValueError(f"dtype must be a float dtype such as 'float32', got {dtype!r}")
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(size).astype(dtype)
    rows = [(init, 0, float(x.mean()), float(x.std()))]
    # Overflow to inf and inf - inf = nan are the expected outcome, not a bug: keep them quiet.
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        for level in range(1, depth + 1):
            x = _random_matrix(rng, init, size).astype(dtype) @ x
            if activation == "relu":
                x = np.maximum(x, 0)
            rows.append((init, level, float(x.mean()), float(x.std())))
    return pd.DataFrame(rows, columns=["init", "depth", "mean", "std"])


def matrix_product_demo(inits: Sequence[str] = MATRIX_INITS, depth: int = 100, size: int = 10,
                        activation: str | None = None, seed: int = 0) -> pd.DataFrame:
    """:func:`matrix_product_simulation` for several inits, stacked (long format)."""
    return pd.concat([matrix_product_simulation(depth, size, init, activation, seed)
                      for init in inits], ignore_index=True)


# --------------------------------------------------------------------------------------------
# gradient norms
# --------------------------------------------------------------------------------------------
def _weighted_layers(model: keras.Model) -> list:
    return [layer for layer in model.layers if getattr(layer, "kernel", None) is not None]


def _is_sparse_crossentropy(loss) -> bool:
    return loss == "sparse_categorical_crossentropy" or isinstance(
        loss, keras.losses.SparseCategoricalCrossentropy
    )


def gradient_norms(model: keras.Model, x, y,
                   loss: str | keras.losses.Loss = "sparse_categorical_crossentropy"
                   ) -> pd.DataFrame:
    """L2 norm of the loss gradient w.r.t. each layer's kernel and bias on one batch.

    Args:
        model: a model whose output matches ``loss`` (softmax probabilities by default).
        x, y: one batch of at least one sample (inputs shaped like the model's input;
            integer class labels ``(N,)`` in ``[0, n_classes)`` for the default loss).
        loss: a Keras loss name or instance.

    Returns:
        DataFrame indexed by layer name (input to output) with columns ``kernel`` and
        ``bias`` (NaN for a layer without bias, and for frozen, non-trainable weights).
        Computed by :func:`fmnist.backend.weight_gradients`, so on every Keras backend.
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"expected a keras.Model, got {type(model).__name__}")
    layers = _weighted_layers(model)
    if not layers:
        raise ValueError(f"model {model.name!r} has no layers with a kernel")

    # An empty batch would give a NaN mean loss whose "gradient" is 0: not a norm.
    x, y = check_samples(np.asarray(x, dtype=np.float32), y, "gradient_norms")
    check_input_shape(model, x)
    if _is_sparse_crossentropy(loss):
        # labels out of range or one-hot rows fail deep inside TF otherwise; validated only,
        # the loss still receives y as given
        check_labels(y, "y", model.output_shape[-1], note=f" for model {model.name!r}")
    _, grads = weight_gradients(model, keras.losses.get(loss), x, y)
    # by identity: a variable's path is not unique when two models share a name
    grad_of = {id(variable): grad for variable, grad in zip(model.trainable_variables, grads)}

    def norm(variable) -> float:
        if variable is None:
            return np.nan
        if id(variable) not in grad_of:  # a frozen (non-trainable) kernel or bias
            return np.nan
        return float(np.linalg.norm(grad_of[id(variable)].ravel()))

    rows = [(layer.name, norm(layer.kernel), norm(getattr(layer, "bias", None)))
            for layer in layers]
    return pd.DataFrame(rows, columns=["layer", "kernel", "bias"]).set_index("layer")


class GradientNormHistory(keras.callbacks.Callback):
    """Keras callback: kernel-gradient norm of every layer on a fixed batch, per epoch.

    Epoch 0 is measured at the start of training (initialization), epoch ``k`` after the
    ``k``-th epoch. A fixed batch makes the epochs comparable (no sampling noise).

    Example::

        >>> tracker = GradientNormHistory(x_train[:256], y_train[:256])
        >>> model.fit(x_train, y_train, epochs=3, callbacks=[tracker], verbose=0)
        >>> tracker.frame  # index epoch, one column per layer
    """

    def __init__(self, x, y, loss: str | keras.losses.Loss = "sparse_categorical_crossentropy"):
        super().__init__()
        self.x, self.y, self.loss = x, y, loss
        self.records: list[pd.Series] = []

    def _record(self, epoch: int) -> None:
        norms = gradient_norms(self.model, self.x, self.y, self.loss)["kernel"]
        self.records.append(norms.rename(epoch))

    def on_train_begin(self, logs=None):
        self.records = []
        self._record(0)

    def on_epoch_end(self, epoch, logs=None):
        self._record(epoch + 1)

    @property
    def frame(self) -> pd.DataFrame:
        """DataFrame: index ``epoch``, one column of kernel-gradient norms per layer."""
        frame = pd.DataFrame(self.records)
        frame.index.name = "epoch"
        frame.columns.name = "layer"
        return frame


# --------------------------------------------------------------------------------------------
# deep-thin experiment
# --------------------------------------------------------------------------------------------
@dataclasses.dataclass
class DeepThinResult:
    """Output of :func:`deep_thin_experiment`.

    Attributes:
        norms: long DataFrame ``config, epoch, layer, norm`` (kernel-gradient norms; epoch 0
            is the initialization).
        histories: ``{config: DataFrame}`` of Keras history per epoch (``loss``,
            ``accuracy`` and ``val_*`` when validation data is given), index ``epoch`` 1..n;
            :func:`fmnist.visualization.plot_learning_curves` draws them overlaid.
        models: ``{config: trained keras.Model}``.
    """

    norms: pd.DataFrame
    histories: dict[str, pd.DataFrame]
    models: dict[str, keras.Model]

    def at_init(self) -> pd.DataFrame:
        """Wide table of the initial norms: one row per layer, one column per config."""
        first = self.norms[self.norms["epoch"] == 0]
        table = first.pivot(index="layer", columns="config", values="norm")
        return table.loc[first["layer"].drop_duplicates(), list(self.histories)]

    def summary(self) -> pd.DataFrame:
        """One row per config: first/last-layer gradient norms at initialization, their
        ratio, and the final training loss and accuracy (dev accuracy when validated)."""
        init = self.at_init()
        rows = []
        for label, history in self.histories.items():
            first, last = init[label].iloc[0], init[label].iloc[-1]
            row = {"config": label, "first layer norm": first, "output layer norm": last,
                   "first / output": first / last if last else np.nan,
                   "final loss": history["loss"].iloc[-1]}  # fmt: skip
            for col in ("accuracy", "val_accuracy"):
                if col in history:
                    row[f"final {col}"] = history[col].iloc[-1]
            rows.append(row)
        return pd.DataFrame(rows).set_index("config")


_INITIALIZER_NAMES = {"uniform": "glorot_uniform", "he": "he_normal", "glorot": "glorot_uniform"}


def _build_deep_thin(init: str, activation: str, seed: int) -> keras.Model:
    """The preset deep-thin MLP with independently drawn, seeded weights in every layer."""
    if init not in _INITIALIZER_NAMES:
        raise ValueError(f"unknown initializer {init!r}; valid: {', '.join(_INITIALIZER_NAMES)}")
    keras.utils.set_random_seed(seed)
    # Initializers are passed by *name*: a Keras 3 initializer instance returns the same
    # values on every call, so one shared RandomUniform object would give all 8x8 hidden
    # layers identical kernels. The uniform(-1, 1) kernels are drawn here instead.
    model = build_deep_thin_mlp(activation=activation, kernel_initializer=_INITIALIZER_NAMES[init])
    if init == "uniform":
        rng = np.random.default_rng(seed)
        for layer in _weighted_layers(model):
            layer.kernel.assign(rng.uniform(-1.0, 1.0, layer.kernel.shape).astype(np.float32))
    return model


def deep_thin_experiment(x, y, validation_data: tuple | None = None,
                         configs: Mapping[str, tuple[str, str]] | None = None,
                         epochs: int = 10, batch_size: int = 128,
                         optimizer: str = "sgd", learning_rate: float = 0.01,
                         norm_batch: int = 256, seed: int = 0) -> DeepThinResult:
    """Train the 784-8x6-10 MLP once per configuration, tracking gradient norms per epoch.

    Args:
        x, y: training data, ``x`` shaped ``(N, 784)`` (``fmnist.data.reshape_for(x, "mlp")``).
        validation_data: optional ``(x_val, y_val)``.
        configs: ``{label: (initializer, activation)}`` with initializer in
            ``uniform`` (RandomUniform(-1, 1)), ``he``, ``glorot``; default
            :data:`DEEP_THIN_CONFIGS`.
        epochs: epochs per configuration (>= 1; the course's full profile uses 10).
        optimizer, learning_rate: passed to ``fmnist.model.compile_model`` (SGD with its
            Nesterov momentum keeps the effect of small gradients visible; Adam's per-weight
            rescaling would partly hide it).
        norm_batch: size (>= 1) of the fixed batch the norms use: the first rows of ``x``
            (all of them when ``x`` is shorter).
        seed: weights and shuffling seed (an int >= 0).
    """
    # Checked before any training: epochs=0 used to end in KeyError 'loss' after the fits,
    # norm_batch=0 in a table of zero "norms".
    epochs = check_int(epochs, "epochs")
    norm_batch = check_int(norm_batch, "norm_batch", note=" (rows of x the norms are measured on)")
    batch_size = check_int(batch_size, "batch_size")
    seed = check_int(seed, "seed", minimum=0)
    configs = dict(DEEP_THIN_CONFIGS if configs is None else configs)
    if not configs:
        raise ValueError("configs must not be empty")
    x, y = check_samples(np.asarray(x, dtype=np.float32), y, "deep_thin_experiment")
    norm_rows, histories, models = [], {}, {}
    for label, spec in configs.items():
        if not (isinstance(spec, tuple) and len(spec) == 2):
            raise ValueError(f"config {label!r} must be (initializer, activation), got {spec!r}")
        model = _build_deep_thin(spec[0], spec[1], seed)
        check_input_shape(model, x)
        check_labels(y, "y", model.output_shape[-1], note=f" for model {model.name!r}")
        compile_model(model, optimizer=optimizer, learning_rate=learning_rate)
        tracker = GradientNormHistory(x[:norm_batch], y[:norm_batch])
        history = model.fit(x, y, validation_data=validation_data, epochs=epochs,
                            batch_size=batch_size, shuffle=True, callbacks=[tracker], verbose=0)
        long = tracker.frame.reset_index().melt(id_vars="epoch", var_name="layer",
                                                value_name="norm")
        long.insert(0, "config", label)
        norm_rows.append(long)
        frame = pd.DataFrame(history.history)
        frame.index = pd.RangeIndex(1, len(frame) + 1, name="epoch")
        histories[label], models[label] = frame, model
    return DeepThinResult(pd.concat(norm_rows, ignore_index=True), histories, models)


# --------------------------------------------------------------------------------------------
# initializers side by side
# --------------------------------------------------------------------------------------------
@dataclasses.dataclass
class InitializerComparison:
    """Outcome of :func:`compare_initializers` (keys: the initializer names).

    Attributes:
        table: one row per initializer: the k-fold validation loss (``cv_loss`` mean and
            ``cv_loss_std`` over the folds), the refit's final training loss, and
            ``diverged``: empty, or where the loss became NaN/inf (then the losses are NaN).
        curves: per-epoch ``loss`` and ``val_loss`` averaged over the folds (for
            ``fmnist.visualization.plot_learning_curves``); none for a diverged CV.
        initial_weights: the refit model's kernels before training (``layer_weights``).
        models: the models refit on all the data (the ones that did not diverge).
    """

    table: pd.DataFrame
    curves: dict[str, pd.DataFrame]
    initial_weights: dict[str, dict[str, np.ndarray]]
    models: dict[str, keras.Model]


def _diverged_epoch(error: TrainingDivergedError) -> str:
    return f"epoch {error.result.epochs_run}" if error.result is not None else "epoch unknown"


def compare_initializers(build_fn: Callable[[str], keras.Model], x, y,
                         initializers: Sequence[str] = ("glorot_uniform", "he_normal"),
                         k: int = 5, epochs: int = 100, batch_size: int = 128,
                         task: str = "regression", seed: int = 0) -> InitializerComparison:
    """The same architecture with each kernel initializer: k-fold CV, then a refit on all data.

    Args:
        build_fn: ``build_fn(initializer_name) -> keras.Model`` (compiled, or compiled here
            for ``task``); everything but the initializer stays the same.
        initializers: names from ``fmnist.model.INITIALIZERS``, at least one, no repeats.
        k, epochs, batch_size, task, seed: as in ``fmnist.training.cross_validate``; every
            initializer gets the same folds and seeds, and the refit is seeded with ``seed``.
    """
    names = list(initializers) if isinstance(initializers, (list, tuple)) else [initializers]
    unknown = [name for name in names if name not in INITIALIZERS]
    if unknown:
        raise ValueError(f"unknown initializer(s) {unknown!r}; valid names: {', '.join(INITIALIZERS)}")
    if not names or len(set(names)) != len(names):
        raise ValueError(f"initializers must be a non-empty list without repeats, got {list(initializers)!r}")
    if not callable(build_fn):
        raise TypeError(f"build_fn must be a callable initializer_name -> keras.Model, got {build_fn!r}")
    epochs = check_int(epochs, "epochs")
    seed = check_int(seed, "seed", minimum=0)
    rows, curves, initial, models = {}, {}, {}, {}
    for name in names:
        # A diverging initializer is a result, not an error: its row says where it diverged.
        row = {"cv_loss": np.nan, "cv_loss_std": np.nan, "refit_train_loss": np.nan, "diverged": ""}
        try:
            cv = cross_validate(lambda name=name: build_fn(name), x, y, k=k, task=task, epochs=epochs,
                                batch_size=batch_size, seed=seed)
        except TrainingDivergedError as error:
            row["diverged"] = f"cross-validation, {_diverged_epoch(error)}"
            rows[name] = row
            continue
        histories = pd.concat([r.history[["loss", "val_loss"]] for r in cv.results])
        curves[name] = histories.groupby(level="epoch").mean()
        row.update(cv_loss=cv.scores["val_loss"].mean(), cv_loss_std=cv.scores["val_loss"].std())
        set_seed(seed)
        model = build_fn(name)
        initial[name] = layer_weights(model)
        if not model.compiled:
            compile_model(model, task=task)
        try:
            refit = train(model, (x, y), epochs=epochs, batch_size=batch_size, seed=seed)
        except TrainingDivergedError as error:
            row["diverged"] = f"refit, {_diverged_epoch(error)}"
        else:
            row["refit_train_loss"] = float(refit.history["loss"].iloc[-1])
            models[name] = model
        rows[name] = row
    table = pd.DataFrame(rows).T
    table.index.name = "initializer"
    return InitializerComparison(table, curves, initial, models)
