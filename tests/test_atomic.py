"""fmnist.atomic: temp file in the same directory + os.replace, with a normal file's permissions."""

from __future__ import annotations

import os
import stat

import pytest

from fmnist.atomic import atomic_directory, atomic_path, atomic_write_bytes, atomic_write_text


@pytest.fixture
def umask():
    """A known umask (0o022) for the test, restored afterwards; mkstemp's 0600 differs from it."""
    old = os.umask(0o022)
    yield 0o022
    os.umask(old)


def plain_mode(directory) -> int:
    """The permission bits a plain ``open(..., 'w')`` gives a new file under the current umask."""
    with open(directory / "plain", "w"):
        pass
    return stat.S_IMODE(os.stat(directory / "plain").st_mode)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_written_files_have_the_mode_of_a_plain_new_file(tmp_path, umask):
    expected = plain_mode(tmp_path)
    assert expected == 0o644
    assert mode(atomic_write_text(tmp_path / "a.txt", "text\n")) == expected
    assert mode(atomic_write_bytes(tmp_path / "a.bin", b"\x00\x01")) == expected
    with atomic_path(tmp_path / "c.bin") as tmp:
        tmp.write_bytes(b"payload")
    assert mode(tmp_path / "c.bin") == expected


def test_round_trip_replaces_existing_target_and_creates_parents(tmp_path):
    target = tmp_path / "sub" / "dir" / "a.txt"
    assert atomic_write_text(target, "old") == target
    atomic_write_text(target, "new\r\n")  # newline="": written as given
    assert target.read_bytes() == b"new\r\n"
    assert atomic_write_bytes(target, b"\xff") == target and target.read_bytes() == b"\xff"
    assert os.listdir(target.parent) == ["a.txt"]


def test_atomic_path_yields_a_fresh_hidden_name_in_the_same_directory(tmp_path):
    target = tmp_path / "m.keras"
    with atomic_path(target) as first, atomic_path(target) as second:
        assert first.parent == second.parent == tmp_path
        assert first != second and first.name.startswith(".")
        assert first.suffix == ".keras"  # Keras's save() insists on the extension
        assert not first.exists()
        first.write_text("1")
        second.write_text("2")
    assert target.read_text() == "1"  # the inner block is published first, the outer one last
    assert os.listdir(tmp_path) == ["m.keras"]


def test_error_inside_the_block_leaves_nothing_and_keeps_the_target(tmp_path):
    target = tmp_path / "a.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError, match="boom"):
        with atomic_path(target) as tmp:
            tmp.write_text("half a fi")
            raise RuntimeError("boom")
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["a.txt"]
    # an error before the temp file was even created is fine too
    with pytest.raises(KeyboardInterrupt):
        with atomic_path(target):
            raise KeyboardInterrupt
    assert os.listdir(tmp_path) == ["a.txt"] and target.read_text() == "old"


def test_a_block_that_writes_nothing_keeps_the_target(tmp_path):
    # e.g. ModelCheckpoint(save_best_only=True) in an epoch that did not improve
    target = tmp_path / "best.keras"
    target.write_text("epoch 3")
    with atomic_path(target):
        pass
    assert target.read_text() == "epoch 3" and os.listdir(tmp_path) == ["best.keras"]


def test_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "a.txt"
    atomic_write_text(target, "old")

    def no_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", no_replace)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_bytes(target, b"new")
    assert target.read_text() == "old" and os.listdir(tmp_path) == ["a.txt"]


# ------------------------------------------------- fmnist.course.report: reading the records back
# (These belong in tests/test_report.py, which was not part of this change.)


def test_atomic_directory_publishes_all_files_at_once_or_none(tmp_path, umask):
    target = tmp_path / "snap" / "epoch-0001"
    with atomic_directory(target) as tmp:
        assert tmp.parent == target.parent and tmp.name.startswith(".") and tmp.is_dir()
        (tmp / "a.txt").write_text("a")
        (tmp / "sub").mkdir()
        (tmp / "sub" / "b.txt").write_text("b")
        assert not target.exists()  # nothing visible under the name before the block ends
    assert (target / "a.txt").read_text() == "a" and (target / "sub" / "b.txt").read_text() == "b"
    assert os.listdir(tmp_path / "snap") == ["epoch-0001"]
    assert mode(target) == 0o755  # a plain new directory under the umask
    with pytest.raises(KeyboardInterrupt):
        with atomic_directory(tmp_path / "snap" / "epoch-0002") as tmp:
            (tmp / "a.txt").write_text("half")
            raise KeyboardInterrupt
    assert os.listdir(tmp_path / "snap") == ["epoch-0001"]  # the temporary directory is gone
    with pytest.raises(FileExistsError, match="epoch-0001 exists; atomic_directory publishes new directories only"):
        with atomic_directory(target):
            pass
    assert (target / "a.txt").read_text() == "a"
