"""Model builders, named presets (with a user-extensible registry), compiling and saving.

Build a preset, or your own architecture, compile it and save it::

    >>> from fmnist.model import build_model, build_cnn, compile_model, register_preset
    >>> model = compile_model(build_model("cnn_medium"), optimizer="adam", learning_rate=1e-3)
    >>> model.count_params()
    50186
    >>> @register_preset("my_cnn", layout="cnn")
    ... def my_cnn(width=16, **overrides):
    ...     return build_cnn(conv_blocks=[{"filters": width, "convs": 2}], name="my_cnn", **overrides)
    >>> build_model("my_cnn", width=8).get_layer("conv_2").filters
    8

The function form is ``register_preset("name", builder, layout="mlp")``. Layer names are
stable (``hidden_i``, ``conv_i``, ``pool_i``, ``bn_i``, ``act_i``, ``dropout_i``, ``flatten``,
``output``); see :mod:`fmnist.model.builders`.

Presets and their parameter counts:

==================== ==================================================== =========
preset               architecture                                         params
==================== ==================================================== =========
mlp_shallow          784-128-10                                           101,770
mlp_medium           784-128-128-10                                       118,282
mlp_deep             784-128-128-128-10                                   134,794
cnn_small            conv3x3(32, same)-pool2-flatten-10                   63,050
cnn_medium           conv3x3(32)-pool2-conv3x3(64)-pool2-flatten-10       50,186
cnn_large            conv3x3(32,64,128,256) each + pool2(same)-flatten-10 398,090
deep_thin_mlp        784-8x6-10, sigmoid, RandomUniform(-1, 1)            6,730
regression_2layer    1-32-32-1, tanh                                      1,153
regression_10_15_10  1-10-15-10-1, tanh                                  356
mlp_best             784-384-256-128-10, batch norm, dropout 0.3          436,490
cnn_best             VGG [32,32]-pool-[64,64]-pool-dense128, BN, dropout  468,778
cnn_speedrun         32-pool-[64,64]-pool-[128,128]-global max pool, BN   279,722
cnn_long             48-pool-[96,96]-pool-[144,144]-global max pool, BN  439,450
==================== ==================================================== =========
"""

from fmnist.model.builders import (
    ACTIVATIONS,
    CONV_BLOCK_DEFAULTS,
    INITIALIZERS,
    build_cnn,
    build_deep_thin_mlp,
    build_mlp,
    build_regression_net,
)
from fmnist.model.compiling import (
    DEFAULT_JIT_COMPILE,
    DEFAULT_STEPS_PER_EXECUTION,
    OPTIMIZERS,
    TASKS,
    check_input_shape,
    check_task,
    compile_model,
    infer_task,
    make_optimizer,
)
from fmnist.model.errors import InputShapeError, UnknownNameError
from fmnist.model.io import load_model, save_model
from fmnist.model.layers import FusedBatchNormalization
from fmnist.model.losses import SmoothedSparseCategoricalCrossentropy
from fmnist.model.presets import (
    LAYOUTS,
    PRESETS,
    Preset,
    build_model,
    get_preset,
    preset_layout,
    register_preset,
)
from fmnist.model.weights import layer_weights

__all__ = [
    "ACTIVATIONS", "CONV_BLOCK_DEFAULTS", "DEFAULT_JIT_COMPILE", "DEFAULT_STEPS_PER_EXECUTION", "INITIALIZERS",
    "LAYOUTS", "OPTIMIZERS", "PRESETS", "TASKS", "FusedBatchNormalization", "InputShapeError", "Preset",
    "SmoothedSparseCategoricalCrossentropy",
    "UnknownNameError", "build_cnn", "build_deep_thin_mlp", "build_mlp", "build_model",
    "build_regression_net", "check_input_shape", "check_task", "compile_model", "get_preset",
    "infer_task", "layer_weights", "load_model", "make_optimizer", "preset_layout", "register_preset",
    "save_model",
]  # fmt: skip
