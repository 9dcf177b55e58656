"""Why untrusted API text goes through comrak: CPU per text, and hostile input, side by side.

    .venv/bin/python bench/markdown_choice.py [--abstracts 2000] [--pyvideo DIR]

Renders the same texts with each candidate in one process and prints CPU
milliseconds per text (best of three passes) and the ratio to sitegen's renderer:

- sitegen's (``sitegen.untrusted.UntrustedMarkdown.markdown``: comrak with raw HTML escaped,
  headings demoted, links marked, the plain-text summary);
- markdown-it-py as sitegen used it before (raw HTML off, tables and
  strikethrough, the same hardening and summary from its tokens);
- Python-Markdown (tables), which renders the editors' pages;
- markdown-it-pyrs and pyromark, when installed (``pip install`` them into a
  scratch venv; the locks do not hold them), rendering only.

The texts: generated abstracts (bench/gen.py), or with ``--pyvideo`` the
descriptions of a pyvideo/data checkout that hold Markdown markup (real text).

Then each renderer gets hostile texts of 100,000 characters (deep quotes, lists
and brackets, long mark runs) in a child process of its own: a renderer that
crashes the process (a Rust stack overflow) or takes over 10 s cannot take
untrusted text. pyromark is timed rendering only: its ``html`` passes raw HTML
through, with no option to show it as text, so it would need a renderer of its
events written in Python.

Measured here (2 CPUs, 2026-12-07; with markdown-it-pyrs and pyromark on
``PYTHONPATH``), CPU ms per text and the ratio to sitegen's:

- pyvideo/data, 6,427 descriptions with markup: sitegen (comrak) 0.047;
  markdown-it-py 0.284 (6.0×); Python-Markdown 0.427 (9.1×); markdown-it-pyrs
  0.023 (0.49×), which crashes (SIGSEGV) on ``>`` repeated 100,000 times;
  pyromark 0.004, without escaping.
- bench/gen.py, 2,000 abstracts: 0.030; 0.144 (4.7×); 0.353 (11.7×); 0.010
  (crashes as above); 0.002.
- comrak finishes every hostile text in under 0.2 s; markdown-it-py takes up to
  1.4 s on one.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import markdown

sys.path.insert(0, str(Path(__file__).parent))
import gen  # noqa: E402 - the benchmark's own generator, beside this file

from sitegen.untrusted import _MARKUP, UntrustedMarkdown  # noqa: E402

HOSTILE = {
    "quotes": ">" * 100_000,
    "nested lists": "".join("  " * i + "- x\n" for i in range(2_000)),
    "brackets": "[" * 100_000,
    "emphasis": "*_" * 50_000,
    "links": "[a](" * 25_000,
    "backticks": "`a``" * 25_000,
    "table": "|a|\n|-|\n" + "|x|\n" * 20_000,
}
#: How each candidate renders one text, as code for a child process (its text on stdin).
CHILD = {
    "sitegen (comrak)": "from sitegen.untrusted import UntrustedMarkdown; f = UntrustedMarkdown().markdown",
    "markdown-it-py": "from markdown_it import MarkdownIt; m = MarkdownIt('commonmark', {'html': False}).enable(['table', 'strikethrough']); f = m.render",
    "markdown-it-pyrs": "import markdown_it_pyrs as x; m = x.MarkdownIt('commonmark'); m.enable_many(['table', 'strikethrough']); f = m.render",
    "pyromark": "import pyromark; f = pyromark.html",
}


def markdown_it_py() -> Callable[[str], object]:
    """markdown-it-py as ``sitegen.content`` used it before comrak: tokens hardened, summary from the tokens."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(["table", "strikethrough"])

    def render(text: str) -> object:
        tokens = md.parse(text)
        words = []
        for token in tokens:
            if token.type in ("heading_open", "heading_close"):
                token.tag = f"h{min(6, int(token.tag[1]) + 2)}"
            for child in token.children or ():
                if child.type == "link_open":
                    child.attrSet("rel", "nofollow ugc noopener")
                elif child.type in ("text", "code_inline"):
                    words.append(child.content)
        return md.renderer.render(tokens, md.options, {}), " ".join(" ".join(words).split())[:160]

    return render


def optional(name: str) -> Callable[[str], object] | None:
    namespace: dict[str, object] = {}
    try:
        exec(CHILD[name], namespace)  # noqa: S102 - our own constant code
    except ImportError:
        return None
    return namespace["f"]  # type: ignore[return-value]


def cpu_ms_per_text(render: Callable[[str], object], texts: list[str], passes: int = 3) -> float:
    best = float("inf")
    for _ in range(passes):
        started = time.process_time()
        for text in texts:
            render(text)
        best = min(best, time.process_time() - started)
    return best / len(texts) * 1000


def pyvideo_texts(folder: Path) -> list[str]:
    texts = []
    for path in sorted(folder.glob("*/videos/*.json")):
        text = json.loads(path.read_text(encoding="utf-8")).get("description") or ""
        if text and len(text) < 100_000 and _MARKUP.search(text):
            texts.append(text)
    return texts


def hostile(name: str) -> str:
    """How the candidate fares on each hostile text, in a child process each."""
    results = []
    for case, text in HOSTILE.items():
        code = (
            CHILD[name]
            + "; import sys, time; t = sys.stdin.read(); s = time.perf_counter(); f(t); print(f'{time.perf_counter() - s:.2f} s')"
        )
        try:
            done = subprocess.run([sys.executable, "-c", code], input=text, capture_output=True, text=True, timeout=10, check=False)
            results.append(f"{case} {done.stdout.strip()}" if done.returncode == 0 else f"{case} CRASHED (exit {done.returncode})")
        except subprocess.TimeoutExpired:
            results.append(f"{case} over 10 s")
    return "; ".join(results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--abstracts", type=int, default=2000)
    parser.add_argument("--pyvideo", type=Path, help="a pyvideo/data checkout's data folder: its Markdown descriptions")
    args = parser.parse_args()
    texts = (
        pyvideo_texts(args.pyvideo)
        if args.pyvideo
        else [s["abstract"] for s in gen.generate(args.abstracts, 1)["sessions"]][: args.abstracts]
    )
    comrak = UntrustedMarkdown()
    python_markdown = markdown.Markdown(extensions=["tables"])
    candidates: dict[str, Callable[[str], object] | None] = {
        "sitegen (comrak)": comrak.markdown,
        "markdown-it-py": markdown_it_py(),
        "Python-Markdown": lambda t: (python_markdown.reset(), python_markdown.convert(t)),
        "markdown-it-pyrs": optional("markdown-it-pyrs"),
        "pyromark": optional("pyromark"),
    }
    words = sum(len(t.split()) for t in texts) // max(1, len(texts))
    print(f"{len(texts)} texts of ~{words} words ({'pyvideo/data' if args.pyvideo else 'bench/gen.py'}); CPU ms per text, best of 3\n")
    print("| renderer | ms | × sitegen's | hostile texts (100,000 characters, a process each) |\n| --- | ---: | ---: | --- |")
    ours = cpu_ms_per_text(candidates["sitegen (comrak)"], texts)  # type: ignore[arg-type]
    for name, render in candidates.items():
        if render is None:
            print(f"| {name} | not installed | | |")
            continue
        ms = ours if name == "sitegen (comrak)" else cpu_ms_per_text(render, texts)
        print(f"| {name} | {ms:.3f} | {ms / ours:.2f} | {hostile(name) if name in CHILD else '(trusted pages only)'} |")


if __name__ == "__main__":
    main()
