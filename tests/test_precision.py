"""The training precision: chosen from the CPU's flags, overridable, and really bfloat16."""

from __future__ import annotations

import numpy as np
import pytest

from fmnist.backend import (
    PRECISIONS, backend_name, choose_precision, cpu_flags, cpu_has_bf16, cpu_model, cpu_summary,
    ensure_precision, set_precision, training_precision, vector_extensions,
)  # fmt: skip
from fmnist.model import build_cnn, compile_model
from fmnist.training import set_seed

AVX2 = frozenset({"sse4_2", "avx", "avx2", "fma"})
ZEN5 = AVX2 | {"avx512f", "avx512_bf16", "avx_vnni"}
SAPPHIRE_RAPIDS = AVX2 | {"avx512f", "avx512_bf16", "amx_bf16", "amx_tile"}


def test_cpu_facts_are_read_from_cpuinfo(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: Test CPU 9000\nflags\t\t: fpu avx2 avx512_bf16\n\n"
                       "processor\t: 1\nmodel name\t: other\nflags\t\t: fpu\n")  # fmt: skip
    assert cpu_model(cpuinfo) == "Test CPU 9000"
    assert cpu_flags(cpuinfo) == {"fpu", "avx2", "avx512_bf16"}
    assert cpu_flags(tmp_path / "missing") == frozenset()
    assert isinstance(cpu_model(), str) and cpu_model()


def test_cpu_summary_tells_two_cpus_of_one_model_name_apart(tmp_path):
    zen3, zen5 = tmp_path / "zen3", tmp_path / "zen5"
    zen3.write_text("cpu family\t: 25\nmodel\t\t: 1\nmodel name\t: AMD EPYC\nflags\t\t: sse4_2 avx avx2 fma\n")
    zen5.write_text("cpu family\t: 26\nmodel\t\t: 2\nmodel name\t: AMD EPYC\nflags\t\t: avx2 avx512f avx512_bf16\n")
    assert cpu_summary(zen3) == "AMD EPYC (family 25 model 1, AVX2)"
    assert cpu_summary(zen5) == "AMD EPYC (family 26 model 2, AVX-512 BF16)"
    no_numbers = tmp_path / "arm"
    no_numbers.write_text("model name\t: Some ARM\nflags\t\t: fp asimd\n")
    assert cpu_summary(no_numbers) == "Some ARM (no AVX2)"


@pytest.mark.parametrize(("flags", "expected"), [
    (SAPPHIRE_RAPIDS, "AMX"), (ZEN5, "AVX-512 BF16"), (AVX2 | {"avx512f"}, "AVX-512"), (AVX2, "AVX2"),
    (frozenset({"sse4_2"}), "no AVX2"), (frozenset(), "unknown"),
])  # fmt: skip
def test_vector_extensions_names_the_widest(flags, expected):
    assert vector_extensions(flags) == expected


@pytest.mark.parametrize(
    "flags, backend, expected",
    [
        (AVX2, "tensorflow", "float32"),
        (ZEN5, "tensorflow", "bfloat16"),
        (SAPPHIRE_RAPIDS, "tensorflow", "bfloat16"),
        (ZEN5, "jax", "float32"),
        (SAPPHIRE_RAPIDS, "torch", "float32"),
        (frozenset(), "tensorflow", "float32"),
    ],
)
def test_auto_follows_the_cpu_flags_and_the_backend(flags, backend, expected):
    assert choose_precision("auto", backend, flags) == expected


def test_bf16_flags():
    assert not cpu_has_bf16(AVX2) and not cpu_has_bf16(frozenset())
    assert cpu_has_bf16(ZEN5) and cpu_has_bf16(SAPPHIRE_RAPIDS)
    assert cpu_has_bf16(frozenset({"amx_bf16"}))


def test_explicit_precisions_and_bad_input():
    assert choose_precision("float32", "tensorflow", ZEN5) == "float32"
    assert choose_precision("bfloat16", "tensorflow", AVX2) == "bfloat16"  # asked for: obeyed
    with pytest.raises(ValueError, match="valid precisions: auto, float32, bfloat16"):
        choose_precision("fp16", "tensorflow", ZEN5)
    with pytest.raises(ValueError, match="the jax backend trains in float32"):
        choose_precision("bfloat16", "jax", ZEN5)
    assert set(PRECISIONS) == {"auto", "float32", "bfloat16"}


def test_tests_run_in_float32_as_conftest_asks():
    assert ensure_precision() == "float32" == training_precision()


def _predictions(precision: str) -> np.ndarray:
    set_precision(precision)
    set_seed(0)
    model = compile_model(build_cnn(conv_blocks=[{"filters": 16, "convs": 2}], batch_norm=True))
    x = np.random.default_rng(0).random((64, 28, 28, 1), dtype=np.float32)
    model.fit(x, np.arange(64) % 10, epochs=1, batch_size=32, verbose=0, shuffle=False)
    return model.predict(x, verbose=0)


@pytest.mark.skipif(backend_name() != "tensorflow" or not cpu_has_bf16(),
                    reason="bfloat16 needs the tensorflow backend and a CPU with bf16 instructions")
def test_bfloat16_really_changes_the_arithmetic():
    try:
        f32, f32_again, bf16 = _predictions("float32"), _predictions("float32"), _predictions("bfloat16")
    finally:
        set_precision("float32")
    np.testing.assert_allclose(f32, f32_again, atol=1e-6)
    gap = np.abs(bf16 - f32).max()
    # bfloat16 keeps 8 mantissa bits: far above float32's noise, far below a different model.
    assert 1e-4 < gap < 0.1, gap


@pytest.mark.skipif(backend_name() != "tensorflow" or not cpu_has_bf16(),
                    reason="bfloat16 needs the tensorflow backend and a CPU with bf16 instructions")
def test_bfloat16_probabilities_still_sum_to_one():
    try:
        probs = _predictions("bfloat16")
    finally:
        set_precision("float32")
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
