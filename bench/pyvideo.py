#!/usr/bin/env python3
"""A checkout of github.com/pyvideo/data (CC0, about 21,700 talks) as the API's folder form.

    .venv/bin/python bench/pyvideo.py --data /tmp/pyvideo-data --out /tmp/pyvideo
    .venv/bin/sitegen build --root /tmp/pyvideo --today 2026-11-22

Writes ``OUT/sitegen.toml`` (``[build] strict = false``), ``OUT/data/<collection>.json``
(contract v1) and ``OUT/pyvideo-report.json`` (what was read and written, and the reader's
warnings counted by kind). The conversion is sitegen's own pyvideo reader
(``sitegen.sources.pyvideo``: its docstring and the README say what becomes what); this
script only writes its collections as files, so a benchmark measures the build from the
folder form, as before.

Deterministic: the reader takes files in sorted order and makes ids and slugs from the data
alone, and the JSON is written with sorted keys, so the same checkout gives byte-identical files.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parent))

import gen  # noqa: E402

from sitegen.errors import SourceError  # noqa: E402
from sitegen.sources import pyvideo  # noqa: E402

#: Each file of the checkout is read up to this many bytes (the reader's own cap is lower).
MAX_BYTES = 64 << 20
SITEGEN_TOML = f"""# Written by bench/pyvideo.py from a checkout of github.com/pyvideo/data (CC0).
[site]
title = "PyVideo archive"
base_url = "{gen.BASE_URL}"

[source]
url = "data"

[build]
strict = false
"""


def write_archive(data: Path, out: Path) -> dict[str, Any]:
    """Convert the checkout ``data`` into ``out`` (sitegen.toml, data/, pyvideo-report.json); the report."""
    converted = pyvideo.read(data, MAX_BYTES)
    collections = converted.collections
    (out / "data").mkdir(parents=True, exist_ok=True)
    (out / "sitegen.toml").write_bytes(SITEGEN_TOML.encode())
    for name in gen.COLLECTIONS:
        (out / "data" / f"{name}.json").write_bytes(gen.dump(collections[name]))
    report = {
        "written": {name: len(collections[name]) for name in gen.COLLECTIONS},
        "warnings": pyvideo.warning_kinds(converted.warnings),
    }
    (out / "pyvideo-report.json").write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="a checkout of github.com/pyvideo/data")
    parser.add_argument("--out", type=Path, required=True, help="output folder: gets sitegen.toml, data/ and pyvideo-report.json")
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        parser.error(f"{args.data} is not a folder")
    try:
        report = write_archive(args.data, args.out)
    except SourceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(report, indent=1, ensure_ascii=False), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
