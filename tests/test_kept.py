"""What builds keep in the cache folder (``sitegen.kept``): sealed files and framed ones come
back as they were kept, and anything else (damaged, cut short, for something else, not a
regular file, too large) comes back as nothing, never as wrong data."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
from pathlib import Path

import pytest
from conftest import CACHE_KEY as KEY
from conftest import TODAY, tree

from sitegen.build import REPORT_FILE, build_site
from sitegen.config import load_config
from sitegen.errors import ConfigError
from sitegen.kept import KEY_FILE, SEAL_BYTES, cache_key, load_frames, save_frames, unlink_links

FRAMES = [b"head", b"", b"x" * 5000, bytes(range(256)) * 10]


def test_frames_come_back_one_by_one_as_kept(tmp_path: Path) -> None:
    path = tmp_path / "kept" / "file"
    save_frames(path, 1 << 20, b"seal", iter(FRAMES), KEY)
    frames = load_frames(path, 1 << 20, b"seal", KEY)
    assert frames is not None and list(frames) == FRAMES
    assert not [name for name in os.listdir(path.parent) if name != "file"]  # no temporary file left


@pytest.mark.parametrize(
    "damage", ["cut short", "one byte flipped", "a frame longer than the file", "garbage", "empty", "other seal", "other key", "unkeyed"]
)
def test_a_damaged_framed_file_is_nothing(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "file"
    save_frames(path, 1 << 20, b"seal", iter(FRAMES), KEY)
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
    elif damage == "other key":  # sealed by whoever wrote it, without the build's key
        save_frames(path, 1 << 20, b"seal", iter(FRAMES), b"a key of 32 characters the attacker holds")
    elif damage == "unkeyed":  # the checksum anyone can compute: what an earlier version kept
        trailer = hashlib.sha256(b"seal\0" + data[:-SEAL_BYTES]).digest()
        path.write_bytes(data[:-SEAL_BYTES] + trailer)
    else:
        seal = b"another"
    assert load_frames(path, 1 << 20, seal, KEY) is None


def test_a_framed_file_over_its_limit_is_neither_kept_nor_read(tmp_path: Path) -> None:
    path = tmp_path / "file"
    save_frames(path, 1000, b"seal", iter([b"x" * 600, b"y" * 600]), KEY)
    assert not path.exists() and os.listdir(tmp_path) == []
    save_frames(path, 1 << 20, b"seal", iter([b"x" * 600, b"y" * 600]), KEY)
    assert load_frames(path, 1000, b"seal", KEY) is None


@pytest.mark.parametrize("kind", ["folder", "device", "missing"])
def test_what_is_not_a_regular_file_is_nothing(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "file"
    if kind == "folder":
        path.mkdir()
    elif kind == "device":
        path.symlink_to("/dev/zero")
    assert load_frames(path, 1 << 20, b"seal", KEY) is None


def test_the_cache_key_comes_from_the_environment_else_a_private_file_made_once(tmp_path: Path) -> None:
    """``$SITEGEN_CACHE_KEY`` (CI: a secret) wins; else a key file under the user's cache
    home, made with mode 0600 and the same on every call; a key too short is a configuration
    error; a home where no file can be made gives a key of the process alone."""
    given = "k" * 40
    assert cache_key({"SITEGEN_CACHE_KEY": given}, tmp_path) == given.encode()
    with pytest.raises(ConfigError, match="shorter than 32") as raised:
        cache_key({"SITEGEN_CACHE_KEY": "short"}, tmp_path)
    assert raised.value.exit_code == 2
    first = cache_key({}, tmp_path)
    path = tmp_path / ".cache" / KEY_FILE
    assert path.read_bytes() == first and len(first) >= 32 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert cache_key({}, tmp_path) == first
    assert not [name for name in os.listdir(path.parent) if name != path.name]  # no temporary file left
    elsewhere = cache_key({"XDG_CACHE_HOME": str(tmp_path / "xdg")}, tmp_path)
    assert (tmp_path / "xdg" / KEY_FILE).read_bytes() == elsewhere != first
    (tmp_path / "ro").mkdir()
    (tmp_path / "ro").chmod(0o500)
    try:
        if os.access(tmp_path / "ro", os.W_OK):  # root writes anyway: a file where the folder goes instead
            (tmp_path / "ro" / ".cache").write_text("not a folder")
        assert cache_key({}, tmp_path / "ro") != cache_key({}, tmp_path / "ro")  # nothing kept is used
    finally:
        (tmp_path / "ro").chmod(0o700)


def test_a_build_writes_and_deletes_nothing_through_links_planted_in_the_cache(minimal_site: Path, tmp_path: Path) -> None:
    """CI restores the cache folder from a cache other branches may write, links included: a
    build removes them first (``unlink_links``), so nothing is written or pruned where they
    point, and the build is the one a build without them makes."""
    config = load_config(minimal_site, {"build.workers": 1})
    build_site(config, today=TODAY)
    clean = tree(minimal_site / "build")
    cache = minimal_site / ".sitegen-cache"
    (version,) = (cache / "templates").iterdir()
    victims = {}
    for place in ["search", "model", "pyvideo", "personal", f"templates/{version.name}"]:
        victim = tmp_path / "victims" / place.replace("/", "-")
        victim.mkdir(parents=True)
        (victim / "precious.read").write_text("keep")
        (victim / "precious.json").write_text("keep")
        if (cache / place).exists():
            shutil.rmtree(cache / place)
        (cache / place).symlink_to(victim)
        victims[place] = victim
    build_site(config, today=TODAY, full=True)
    for place, victim in victims.items():
        assert sorted(os.listdir(victim)) == ["precious.json", "precious.read"], place
        assert not (cache / place).is_symlink(), place
    built = tree(minimal_site / "build")
    for files in (clean, built):
        files.pop(REPORT_FILE)
    assert built == clean


@pytest.mark.parametrize("unsafe", ["readable by others", "a link", "a folder", "too short"])
def test_a_key_file_others_could_read_or_write_is_a_configuration_error(tmp_path: Path, unsafe: str) -> None:
    """Anyone who can read the key can seal what the build runs (compiled templates): a key
    file that is not a private regular file of this user is refused, with the fix, exit 2."""
    first = cache_key({}, tmp_path)
    path = tmp_path / ".cache" / KEY_FILE
    if unsafe == "readable by others":
        path.chmod(0o644)
    elif unsafe == "a link":
        other = tmp_path / "elsewhere"
        other.write_bytes(first)
        other.chmod(0o600)
        path.unlink()
        path.symlink_to(other)
    elif unsafe == "a folder":
        path.unlink()
        path.mkdir()
    else:
        path.write_bytes(b"short")
    with pytest.raises(ConfigError, match="delete it") as raised:
        cache_key({}, tmp_path)
    assert raised.value.exit_code == 2


def test_a_relative_cache_home_is_ignored_and_any_bytes_make_a_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A relative ``$XDG_CACHE_HOME`` would put the key in the site (the XDG spec says to
    ignore it); a key in the environment need not be UTF-8."""
    monkeypatch.chdir(tmp_path)
    key = cache_key({"XDG_CACHE_HOME": ".sitegen-cache"}, tmp_path / "home")
    assert (tmp_path / "home" / ".cache" / KEY_FILE).read_bytes() == key
    assert not (tmp_path / ".sitegen-cache").exists()
    odd = "\udcff" * 40  # what Python makes of bytes that are not UTF-8 in the environment
    assert cache_key({"SITEGEN_CACHE_KEY": odd}, tmp_path) == b"\xff" * 40


def test_links_planted_among_the_cache_folders_are_removed_not_followed(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    (victim / "v1").mkdir(parents=True)
    (victim / "precious.read").write_text("keep")
    cache = tmp_path / "cache"
    (cache / "templates").mkdir(parents=True)
    (cache / "personal").mkdir()
    (cache / "search").symlink_to(victim)
    (cache / "templates" / "v1").symlink_to(victim / "v1")
    (cache / "personal" / "http").symlink_to(victim)  # ``sitegen fragments``' own cache folder
    unlink_links(cache)
    assert not (cache / "search").exists() and not (cache / "templates" / "v1").exists()
    assert not (cache / "personal" / "http").exists() and (cache / "personal").is_dir()
    assert (victim / "precious.read").read_text() == "keep" and (victim / "v1").is_dir()


def test_a_user_with_no_home_gets_a_key_of_the_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """No ``HOME`` and no password entry (a container run as an unknown user): ``Path.home()``
    raises; the build still runs, with a key of its own (nothing kept is used)."""

    def no_home() -> Path:
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.setattr(Path, "home", no_home)
    assert cache_key({}) != cache_key({})
    assert len(cache_key({})) >= 32
