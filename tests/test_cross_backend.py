"""One saved model, three backends: the same weights give the same outputs everywhere.

A small batch-norm CNN (``FusedBatchNormalization``: TensorFlow's fused kernel when trained on
tensorflow, Keras's batch norm on jax/torch) is trained for one epoch on tensorflow in a
subprocess and saved with ``fmnist.model.save_model``; that subprocess and one on jax and one
on torch (``KERAS_BACKEND``, fixed at the first ``import keras``, hence one process each) load
it from the file and compute predictions, Grad-CAM (both methods) and saliency of the same
images. Every backend must agree with tensorflow to ``TOLERANCE``.

Runs in the normal (tensorflow) suite; it does not depend on the test process's backend.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from fmnist.backend import BACKENDS

TOLERANCE = 1e-4
TRAIN_BACKEND = "tensorflow"
TIMEOUT = 300  # seconds per subprocess (a few seconds each on 2 shared cores, plus imports)

TRAIN = textwrap.dedent(
    """
    import sys
    import numpy as np
    from fmnist.model import build_cnn, compile_model, save_model
    from fmnist.training import set_seed, train

    model_path, data_path = sys.argv[1:3]
    set_seed(0)
    rng = np.random.default_rng(0)
    y = np.arange(256) % 10
    templates = rng.random((10, 28, 28, 1), dtype=np.float32)
    x = (0.7 * templates[y] + 0.3 * rng.random((256, 28, 28, 1), dtype=np.float32)).astype(np.float32)
    model = compile_model(build_cnn(conv_blocks=[{"filters": 8}, {"filters": 16}], batch_norm=True,
                                    global_pool="avg"))
    train(model, (x, y), epochs=1, batch_size=32)
    assert type(model.get_layer("bn_1")).__name__ == "FusedBatchNormalization"
    save_model(model, model_path)
    np.savez(data_path, x=x[:4])
    """
)

EVALUATE = textwrap.dedent(
    """
    import json, sys
    import keras
    import numpy as np
    from fmnist import interpret
    from fmnist.model import load_model

    model_path, data_path, out_path = sys.argv[1:4]
    model = load_model(model_path)
    x = np.load(data_path)["x"]
    outputs = {"backend": keras.backend.backend(), "errors": {}}
    arrays = {"predict": np.asarray(model.predict(x, verbose=0))}
    functions = {
        "grad_cam": lambda image: interpret.grad_cam(model, image, class_index=3),
        "layercam": lambda image: interpret.grad_cam(model, image, class_index=3, method="layercam"),
        "saliency": lambda image: interpret.saliency(model, image, class_index=3),
    }
    for name, function in functions.items():
        try:
            arrays[name] = np.stack([function(image) for image in x])
        except Exception as error:  # reported by the test, per function and backend
            outputs["errors"][name] = f"{type(error).__name__}: {error}"[:500]
    np.savez(out_path, **arrays)
    print("RESULT " + json.dumps(outputs))
    """
)


def _run(script: str, backend: str, *args) -> dict:
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run(
        [sys.executable, "-c", script, *map(str, args)], env=env, capture_output=True, text=True,
        timeout=TIMEOUT,
    )  # fmt: skip
    assert proc.returncode == 0, f"{backend} subprocess failed:\n{proc.stderr[-3000:]}"
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    return json.loads(lines[-1][len("RESULT "):]) if lines else {}


@pytest.mark.slow
def test_a_model_saved_on_one_backend_predicts_and_explains_alike_on_all(tmp_path):
    model_path, data_path = tmp_path / "bn_cnn.keras", tmp_path / "images.npz"
    outputs = {}
    for backend in (TRAIN_BACKEND, *(b for b in BACKENDS if b != TRAIN_BACKEND)):
        # The training process evaluates too (after reloading the file): one TensorFlow start less.
        script = TRAIN + EVALUATE if backend == TRAIN_BACKEND else EVALUATE
        info = _run(script, backend, model_path, data_path, tmp_path / f"{backend}.npz")
        assert info["backend"] == backend
        assert not info["errors"], f"on {backend}: {info['errors']}"
        outputs[backend] = dict(np.load(tmp_path / f"{backend}.npz"))
    reference = outputs[TRAIN_BACKEND]
    assert set(reference) == {"predict", "grad_cam", "layercam", "saliency"}
    assert reference["predict"].shape == (4, 10) and reference["saliency"].shape == (4, 28, 28)
    assert reference["layercam"].max() > 0  # a map with content, not all zeros everywhere
    for backend in BACKENDS:
        for name, array in outputs[backend].items():
            assert array.shape == reference[name].shape, (backend, name)
            diff = float(np.max(np.abs(array - reference[name])))
            assert diff <= TOLERANCE, f"{name} on {backend} differs from {TRAIN_BACKEND} by {diff:.2e}"
