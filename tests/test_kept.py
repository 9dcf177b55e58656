"""What builds keep in the cache folder (``sitegen.kept``): sealed files and framed ones come
back as they were kept, and anything else (damaged, cut short, for something else, not a
regular file, too large) comes back as nothing, never as wrong data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sitegen.kept import load_frames, save_frames

FRAMES = [b"head", b"", b"x" * 5000, bytes(range(256)) * 10]


def test_frames_come_back_one_by_one_as_kept(tmp_path: Path) -> None:
    path = tmp_path / "kept" / "file"
    save_frames(path, 1 << 20, b"seal", iter(FRAMES))
    frames = load_frames(path, 1 << 20, b"seal")
    assert frames is not None and list(frames) == FRAMES
    assert not [name for name in os.listdir(path.parent) if name != "file"]  # no temporary file left


@pytest.mark.parametrize("damage", ["cut short", "one byte flipped", "a frame longer than the file", "garbage", "empty", "other seal"])
def test_a_damaged_framed_file_is_nothing(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "file"
    save_frames(path, 1 << 20, b"seal", iter(FRAMES))
    data = path.read_bytes()
    seal = b"seal"
    if damage == "cut short":
        path.write_bytes(data[:-1])
    elif damage == "one byte flipped":
        path.write_bytes(data[:10] + bytes([data[10] ^ 1]) + data[11:])
    elif damage == "a frame longer than the file":
        path.write_bytes((10**6).to_bytes(4, "big") + data[4:])
    elif damage == "garbage":
        path.write_bytes(os.urandom(len(data)))
    elif damage == "empty":
        path.write_bytes(b"")
    else:
        seal = b"another"
    assert load_frames(path, 1 << 20, seal) is None


def test_a_framed_file_over_its_limit_is_neither_kept_nor_read(tmp_path: Path) -> None:
    path = tmp_path / "file"
    save_frames(path, 1000, b"seal", iter([b"x" * 600, b"y" * 600]))
    assert not path.exists() and os.listdir(tmp_path) == []
    save_frames(path, 1 << 20, b"seal", iter([b"x" * 600, b"y" * 600]))
    assert load_frames(path, 1000, b"seal") is None


@pytest.mark.parametrize("kind", ["folder", "device", "missing"])
def test_what_is_not_a_regular_file_is_nothing(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "file"
    if kind == "folder":
        path.mkdir()
    elif kind == "device":
        path.symlink_to("/dev/zero")
    assert load_frames(path, 1 << 20, b"seal") is None
