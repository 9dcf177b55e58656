"""The code version in every page's digest (``render.digest.code_version``) covers the code
that decides what pages hold: a rebuild after an upgrade of that code renders them again."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import sitegen
from sitegen.render.digest import CODE

#: Modules the render and content stages import whose code gives no page bytes: errors,
#: bounded reads, the cache, forking, and values that reach the pages as data (the config,
#: the asset manifest, an editor page's front matter), which the digests cover as data.
NOT_PAGE_CODE = {
    "sitegen",
    "sitegen.assets",
    "sitegen.atomic",
    "sitegen.bounded",
    "sitegen.config",
    "sitegen.errors",
    "sitegen.forked",
    "sitegen.frontmatter",
    "sitegen.kept",
    "sitegen.s3names",
}


def test_code_version_covers_every_module_rendering_imports():
    """A fresh interpreter imports the render stage (and so content and untrusted); every
    sitegen module it loads is in ``CODE`` or known to give no page bytes. The untrusted-text
    renderer and the contract's spelling rules were once missing, so an upgrade of either
    left old pages in an incremental build."""
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, sitegen.render; print(*sorted(m for m in sys.modules if m.startswith('sitegen')))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    package = Path(sitegen.__file__).parent
    covered = {package / name for name in CODE}

    def in_code(module: str) -> bool:
        path = package.joinpath(*module.split(".")[1:])
        return any(place in covered for place in (path.with_suffix(".py"), path, *path.parents))

    uncovered = [m for m in loaded if not in_code(m) and m not in NOT_PAGE_CODE and m.rsplit(".", 1)[0] not in NOT_PAGE_CODE]
    assert uncovered == []
    assert "sitegen.untrusted" in loaded and "sitegen.contract.slugs" in loaded
