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

import json
from pathlib import Path

from sitegen.assets import hashed_name_for
from sitegen.errors import OutputError, Problem, clip
from sitegen.search import BUNDLE_DIR
from sitegen.search.bundle import content_addressed
from sitegen.search.runtime import MAX_RUNTIME, is_runtime
from sitegen.search.verify import FIX, check_bundle
from sitegen.write import ASSET_MANIFEST, SEARCH_MANIFEST, STATIC_DIR

#: The build's record of its search bundle is a few hundred bytes; far larger is not one.
MAX_RECORD = 64 * 1024


def asset_sources(output_dir: Path) -> dict[str, str]:
    """The build's hashed assets, from its asset manifest: output path -> logical name."""
    manifest_path = output_dir / ASSET_MANIFEST
    if not manifest_path.is_file():
        raise OutputError.at(str(output_dir), "holds no sitegen build", "run sitegen build first, or point --root at the site")
    try:
        names = json.loads(manifest_path.read_text(encoding="utf-8"))
        return {f"{STATIC_DIR}/{name}": str(logical) for logical, name in names.items()}
    except (OSError, ValueError, AttributeError) as exc:
        raise OutputError.at(str(manifest_path), f"cannot be read: {exc}", "run sitegen build again") from exc


def damaged_files(output_dir: Path) -> list[Problem]:
    """Every immutable file of the build in ``output_dir`` that is missing or does not
    hold what its name says, named ``<output_dir's name>/<path>``: each hashed asset
    of the asset manifest, and every problem of the search bundle (``check_bundle``,
    with the SHA-256 of Pagefind's runtime files the build recorded)."""
    label = output_dir.name
    problems = []
    for path, logical in sorted(asset_sources(output_dir).items()):
        file = output_dir / path
        if not file.is_file():
            problems.append(Problem(clip(f"{label}/{path}"), "is in the asset manifest but not in the build", FIX))
        elif f"{STATIC_DIR}/{hashed_name_for(logical, file.read_bytes())}" != path:
            problems.append(Problem(clip(f"{label}/{path}"), "does not hold what its name says (damaged or changed by hand)", FIX))
    return problems + check_bundle(output_dir / BUNDLE_DIR, f"{label}/{BUNDLE_DIR}", runtime_sums(output_dir))


def runtime_sums(output_dir: Path) -> dict[str, str]:
    """The SHA-256 of each of Pagefind's runtime files, as the build recorded them in
    ``.sitegen/search.json``; none when it did not (every runtime file is then refused)."""
    try:
        path = output_dir / SEARCH_MANIFEST
        if path.stat().st_size > MAX_RECORD:
            return {}
        sums = json.loads(path.read_text(encoding="utf-8")).get("runtime_sha256")
    except (OSError, ValueError, AttributeError, RecursionError):
        return {}  # a missing or unreadable record: the runtime files cannot be checked, so they are refused
    if not isinstance(sums, dict):
        return {}
    return {name: digest for name, digest in list(sums.items())[:MAX_RUNTIME] if is_runtime(name) and isinstance(digest, str)}


def bundle_hashed(output_dir: Path) -> set[str]:
    """The search bundle's content-addressed files (``search.bundle.content_addressed``), from
    the bundle itself: immutable when published, uploaded with the assets and collected like
    them. ``damaged_files`` has checked each holds what its name says."""
    folder = output_dir / BUNDLE_DIR
    if not folder.is_dir():
        return set()
    files = (path.relative_to(output_dir).as_posix() for path in sorted(folder.rglob("*")) if path.is_file())
    return {path for path in files if content_addressed(path)}
