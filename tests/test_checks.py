"""fmnist.checks: the shared "whole number >= minimum" argument check."""

from __future__ import annotations

import numpy as np
import pytest

from fmnist.checks import check_int


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
