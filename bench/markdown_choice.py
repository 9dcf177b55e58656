"""Why untrusted API text goes through markdown-it-py: CPU per abstract, side by side.

    .venv/bin/python bench/markdown_choice.py [--abstracts 2000]

Renders the same synthetic abstracts (bench/gen.py, ~150 words of Markdown
each) with Python-Markdown and with sitegen's untrusted-text renderer
(markdown-it-py, raw HTML off, plus the plain-text summary), in one process,
and prints CPU milliseconds per abstract (best of three passes) and the ratio.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import markdown

sys.path.insert(0, str(Path(__file__).parent))
import gen  # noqa: E402 - the benchmark's own generator, beside this file

from sitegen.content import render_untrusted, untrusted_markdown  # noqa: E402


def cpu_ms_per_text(render: Callable[[str], object], texts: list[str], passes: int = 3) -> float:
    best = float("inf")
    for _ in range(passes):
        started = time.process_time()
        for text in texts:
            render(text)
        best = min(best, time.process_time() - started)
    return best / len(texts) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--abstracts", type=int, default=2000)
    args = parser.parse_args()
    texts = [s["abstract"] for s in gen.generate(args.abstracts, 1)["sessions"]][: args.abstracts]
    python_markdown = markdown.Markdown(extensions=["tables"])
    markdown_it = untrusted_markdown()
    slow = cpu_ms_per_text(lambda t: (python_markdown.reset(), python_markdown.convert(t)), texts)
    fast = cpu_ms_per_text(lambda t: render_untrusted(markdown_it, t), texts)
    words = sum(len(t.split()) for t in texts) // len(texts)
    print(f"{len(texts)} abstracts of ~{words} words; CPU ms per abstract, best of 3")
    print(f"| renderer | ms |\n| --- | ---: |\n| Python-Markdown (tables) | {slow:.3f} |")
    print(f"| markdown-it-py, raw HTML off (sitegen's, summary included) | {fast:.3f} |")
    print(f"ratio: markdown-it-py is {slow / fast:.2f}x faster")


if __name__ == "__main__":
    main()
