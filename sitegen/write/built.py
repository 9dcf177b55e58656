"""A written build, read back by ``sitegen check`` and ``publish``: its hashed
assets (the asset manifest), and the one rule for its immutable files: each
holds what its name says.

A hashed asset's name is ``assets.hashed_name_for`` of its bytes; the search
bundle's entry, what it names and its content-addressed files are
``search.verify.check_bundle``'s. ``sitegen check`` reports a damaged file of
the last build; ``publish`` uploads nothing while there is one (published
immutable, it would be served for a year; a damaged entry breaks search for
every visitor).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sitegen.assets import hashed_name_for
from sitegen.bounded import loads_json, read_file_bounded, shown
from sitegen.errors import OutputError, Problem, clip
from sitegen.search import BUNDLE_DIR
from sitegen.search.bundle import content_addressed
from sitegen.search.runtime import MAX_RUNTIME, is_runtime
from sitegen.search.verify import DAMAGED, FIX, check_bundle
from sitegen.write import ASSET_MANIFEST, SEARCH_MANIFEST, STATIC_DIR, files_under, output_path_problem

#: The build's record of its search bundle is a few hundred bytes; far larger is not one.
MAX_RECORD = 64 * 1024
#: An asset manifest: a line per asset; far larger is not one.
MAX_ASSET_MANIFEST = 64 * 1024 * 1024


def asset_sources(output_dir: Path) -> dict[str, str]:
    """The build's hashed assets, from its asset manifest: output path -> logical name."""
    manifest_path = output_dir / ASSET_MANIFEST
    if not manifest_path.is_file():
        raise OutputError.at(
            str(output_dir),
            "holds no sitegen build (no .sitegen/ record)",
            "run sitegen build first (if it refuses the folder, as its .sitegen/ was deleted, delete the folder), or point --root at the site",
        )
    names = _read_json(manifest_path, clip(str(manifest_path)), MAX_ASSET_MANIFEST, "run sitegen build again")
    if not isinstance(names, dict):
        raise OutputError.at(str(manifest_path), "is not an asset manifest (an object of names)", "run sitegen build again")
    return {f"{STATIC_DIR}/{name}": str(logical) for logical, name in names.items()}


def damaged_files(output_dir: Path) -> list[Problem]:
    """Every immutable file of the build in ``output_dir`` that is missing or does not
    hold what its name says, named ``<output_dir's name>/<path>``: each hashed asset
    of the asset manifest, and every problem of the search bundle (``check_bundle``,
    with the SHA-256 of Pagefind's runtime files the build recorded)."""
    label = output_dir.name
    problems = []
    for path, logical in sorted(asset_sources(output_dir).items()):
        file = output_dir / path
        if bad := output_path_problem(path):  # the manifest is read back like any outside input
            problems.append(Problem(clip(f"{label}/{ASSET_MANIFEST}"), f"names {shown(path)}, which {bad}", FIX))
        elif not file.is_file():
            problems.append(Problem(clip(f"{label}/{path}"), "is in the asset manifest but not in the build", FIX))
        elif f"{STATIC_DIR}/{hashed_name_for(logical, file.read_bytes())}" != path:
            problems.append(Problem(clip(f"{label}/{path}"), DAMAGED, FIX))
    try:
        sums: dict[str, str] | None = runtime_sums(output_dir)
    except OutputError as exc:  # the record itself: one line, instead of one per runtime file it cannot vouch for
        problems += exc.problems
        sums = None
    return problems + check_bundle(output_dir / BUNDLE_DIR, f"{label}/{BUNDLE_DIR}", sums)


def runtime_sums(output_dir: Path) -> dict[str, str]:
    """The SHA-256 of each of Pagefind's runtime files, as the build recorded them in
    ``.sitegen/search.json``; OutputError when the record is missing or is not one."""
    where = clip(f"{output_dir.name}/{SEARCH_MANIFEST}")
    data = _read_json(output_dir / SEARCH_MANIFEST, where, MAX_RECORD, FIX)
    sums = data.get("runtime_sha256") if isinstance(data, dict) else None
    if not isinstance(sums, dict):
        raise OutputError.at(where, "is not the build's record of its search bundle", FIX)
    return {name: digest for name, digest in list(sums.items())[:MAX_RUNTIME] if is_runtime(name) and isinstance(digest, str)}


def _read_json(path: Path, where: str, limit: int, fix: str) -> Any:
    """A JSON file the build wrote, read as outside input: a regular file, bounded, parsed
    with bounded nesting; ``where`` names it in messages."""
    try:
        return loads_json(read_file_bounded(path, limit, where, OutputError, fix), where, OutputError, fix)
    except OSError as exc:
        raise OutputError.at(where, f"cannot be read: {clip(exc.strerror or str(exc))}", fix) from None


def bundle_hashed(output_dir: Path) -> set[str]:
    """The search bundle's content-addressed files (``search.bundle.content_addressed``), from
    the bundle itself: immutable when published, uploaded with the assets and collected like
    them. ``damaged_files`` has checked each holds what its name says."""
    folder = output_dir / BUNDLE_DIR
    if not folder.is_dir():
        return set()
    return {path for path, entry in files_under(folder, f"{BUNDLE_DIR}/") if content_addressed(path) and entry.is_file()}
