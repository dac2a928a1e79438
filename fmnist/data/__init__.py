"""Data layer: verified offline loading, splits, tf.data pipelines, augmentation, corruptions,
regression data.

Example::

    >>> from fmnist.data import load_splits, make_dataset
    >>> splits = load_splits("fashion_mnist", layout="cnn")
    >>> train_ds = make_dataset(splits.x_train, splits.y_train, batch_size=128, shuffle=True)
"""

from fmnist.data.corruptions import CORRUPTIONS, SEVERITIES, SEVERITY_PARAMETERS, corrupt
from fmnist.data.idx import IDXFormatError, read_idx, write_idx
from fmnist.data.pipeline import build_augmentation, check_erasing_scale, make_dataset
from fmnist.data.preprocessing import (
    LAYOUTS,
    Splits,
    Standardizer,
    load_splits,
    reshape_for,
    split_indices,
    split_report,
    stratified_split,
    subset,
    to_float,
)
from fmnist.data.regression import (
    DOMAIN,
    GAPS,
    NOISE_STD_TEST,
    NOISE_STD_TRAIN,
    generate_regression,
    generator_basis,
    in_gap,
    load_regression,
    noise_floor,
    true_function,
    write_regression_csv,
)
from fmnist.data.sources import (
    CLASS_NAMES,
    DATASETS,
    FASHION_MNIST_CLASSES,
    MNIST_CLASSES,
    DatasetError,
    DatasetNotFoundError,
    candidate_dirs,
    checksum_report,
    dataset_info,
    fetch,
    find_dataset,
    load_dataset,
)

__all__ = [
    "CLASS_NAMES", "CORRUPTIONS", "DATASETS", "DOMAIN", "FASHION_MNIST_CLASSES", "GAPS",
    "LAYOUTS", "MNIST_CLASSES", "NOISE_STD_TEST", "NOISE_STD_TRAIN", "SEVERITIES",
    "SEVERITY_PARAMETERS", "build_augmentation", "candidate_dirs", "check_erasing_scale", "checksum_report", "corrupt",
    "dataset_info", "DatasetError", "DatasetNotFoundError", "fetch", "find_dataset",
    "generate_regression", "generator_basis", "IDXFormatError", "in_gap", "load_dataset",
    "load_regression", "load_splits", "make_dataset", "noise_floor", "read_idx", "reshape_for",
    "split_indices", "split_report", "Splits", "Standardizer", "stratified_split", "subset",
    "to_float", "true_function", "write_idx", "write_regression_csv",
]  # fmt: skip
