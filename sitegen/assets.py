"""The assets stage: a theme's ``static/`` folders in, a content-hashed bundle out.

Every file is renamed ``name.<10 hex of SHA-1>.ext`` so it can be cached forever;
references inside CSS are rewritten to those names, so a CSS file is hashed only
after everything it references (a topological order). Nothing is written to disk
here: the bundle lives in memory until the write stage.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import posixpath
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from urllib.parse import quote, unquote

import csscompressor
import rjsmin

from sitegen.bounded import shown
from sitegen.errors import AssetError, Problem, clip

HASH_LENGTH = 10
EDITOR_JUNK_SUFFIXES = ("~", ".swp")
#: Characters a static file's name may not hold, in any folder of its path: S3
#: keys and URLs mangle them or read them as syntax. So are control characters
#: (C0, DEL, C1), invisible format characters, line separators and bytes that
#: are not UTF-8 (the Unicode categories below).
UNSAFE_NAME_CHARACTERS = frozenset('\\{}^%`[]"<>#|?')
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
#: The longest part of a static file's path, in UTF-8 bytes, with the hash added (most file systems' limit).
MAX_NAME_PART_BYTES = 255
#: The longest static file path: an S3 key is at most 1,024 bytes, and the prefix and static URL need room.
MAX_STATIC_PATH_BYTES = 512

# One left-to-right pass over CSS finds whichever comes first. Comments and plain strings
# are matched only so they are skipped: `content: "url(x)"` or a commented-out rule is not
# a reference. `@import "x.css"` and `url(...)` in any quoting are the references.
_CSS_TOKEN = re.compile(
    r"""
    (?P<comment>/\*.*?\*/)
  | (?P<import_at>@import\s+)(?P<iq>["'])(?P<imported>(?:\\.|(?!(?P=iq))[^\\\n])*)(?P=iq)
  | (?P<string>"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*')
  | (?<![\w-])url\(\s*(?:(?P<uq>["'])(?P<quoted>(?:\\.|(?!(?P=uq))[^\\\n])*)(?P=uq)
                      |(?P<bare>(?:\\.|[^\s"'()\\])*))\s*\)
    """,
    re.IGNORECASE | re.DOTALL | re.VERBOSE,
)
# A scheme (data:, http:, mailto:…), a site-absolute or protocol-relative URL, or a pure
# fragment (SVG `url(#filter)`): not a file of ours, so left exactly as written.
_NOT_OURS = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|/|#|$)", re.IGNORECASE)
# Strings survive csscompressor verbatim, its url() handling does not (it shortens an
# unquoted `#aabbcc` fragment to `#abc`, squeezes spaces out of data: URIs), so every
# reference hides behind a private-use placeholder string while minifying.
_PLACEHOLDER = '"\ue000{}\ue000"'
_PLACEHOLDER_PATTERN = re.compile('"\ue000(\\d+)\ue000"')


@dataclass(frozen=True)
class Asset:
    """One static file as it will be published."""

    logical: str  # POSIX path relative to the static root, e.g. "css/site.css"
    hashed: str  # e.g. "css/site.3f2a9c01bd.css"
    data: bytes  # final bytes (minified/rewritten)
    source: Path  # the file it came from (for messages)


@dataclass(frozen=True)
class AssetBundle:
    """Every asset of the theme, keyed by logical path in sorted order."""

    assets: Mapping[str, Asset]

    def __post_init__(self) -> None:
        # Sorted and read-only whatever the caller passed, so iteration is deterministic.
        object.__setattr__(self, "assets", MappingProxyType(dict(sorted(self.assets.items()))))

    def hashed_name(self, logical: str) -> str:
        """The published name of ``logical``; an unknown name is an AssetError."""
        asset = self.assets.get(logical)
        if asset is None:
            raise AssetError.at(
                f"static asset {shown(logical)}",
                "is not in any of the theme's static/ folders",
                _did_you_mean(logical, self.assets) or "add the file to static/ or fix the name",
            )
        return asset.hashed

    def manifest(self) -> dict[str, str]:
        """Logical path -> hashed path, sorted by logical path."""
        return {logical: asset.hashed for logical, asset in self.assets.items()}

    def manifest_json(self) -> bytes:
        """The manifest as stable, diff-friendly JSON."""
        return (json.dumps(self.manifest(), indent=2, sort_keys=True) + "\n").encode("utf-8")


def build_assets(static_dirs: Sequence[Path]) -> AssetBundle:
    """Read, minify, hash and cross-link the files of ``static_dirs`` (most specific first)."""
    sources = _collect_sources(static_dirs)
    raw, texts = _read_all(sources)
    css_dependencies = _css_dependencies(sources, texts)
    assets: dict[str, Asset] = {}
    hashed_so_far: dict[str, str] = {}
    for logical in _processing_order(sources, css_dependencies):
        data = _final_bytes(logical, raw[logical], texts.get(logical), hashed_so_far)
        hashed_so_far[logical] = hashed_name_for(logical, data)
        assets[logical] = Asset(logical, hashed_so_far[logical], data, sources[logical])
    return AssetBundle(assets)


def hashed_name_for(logical: str, data: bytes) -> str:
    """``css/site.css`` -> ``css/site.<h>.css``; only the last suffix counts as the extension."""
    folder, name = posixpath.split(logical)
    stem, ext = posixpath.splitext(name)
    # SHA-1 names content, it guards nothing; say so for FIPS-mode interpreters.
    digest = hashlib.sha1(data, usedforsecurity=False).hexdigest()[:HASH_LENGTH]
    return posixpath.join(folder, f"{stem}.{digest}{ext}")


def _collect_sources(static_dirs: Sequence[Path]) -> dict[str, Path]:
    """Logical path -> file, the first (most specific) folder winning, sorted."""
    sources: dict[str, Path] = {}
    problems: list[Problem] = []
    for root in static_dirs:
        if not root.is_dir():
            continue  # a theme need not have static files
        for path in sorted(root.rglob("*")):
            logical = path.relative_to(root).as_posix()
            if path.is_file() and not _is_ignored(logical):
                wrong = _name_problem(logical)
                if wrong is not None:
                    problems.append(
                        Problem(f"{shown(logical)} in {root}", wrong, "rename it (and its folders) with letters, digits, '-', '_' and '.'")
                    )
                sources.setdefault(logical, path)
    _raise_if_any(problems, "theme static files have names that cannot be published")
    return dict(sorted(sources.items()))


def _name_problem(logical: str) -> str | None:
    """What keeps ``logical`` from being published, if anything: a character,
    a name part longer than a file system allows once hashed, or a whole path
    that leaves no room in an S3 key for the prefix and the static URL."""
    unsafe = _unsafe_character(logical)
    if unsafe is not None:
        return f"has {unsafe} in its name, which S3 keys and URLs do not carry safely"
    if unicodedata.normalize("NFC", logical) != logical:
        return "is not in Unicode NFC form (a decomposed accent), which S3 and URLs would keep apart from the composed spelling"
    *folders, name = logical.split("/")
    if any(len(part.encode("utf-8")) > MAX_NAME_PART_BYTES for part in folders) or (
        len(name.encode("utf-8")) > MAX_NAME_PART_BYTES - HASH_LENGTH - 1
    ):
        return f"has a name part longer than {MAX_NAME_PART_BYTES} bytes once hashed (a file system's limit)"
    if len(logical.encode("utf-8")) > MAX_STATIC_PATH_BYTES:
        return f"has a path longer than {MAX_STATIC_PATH_BYTES} bytes, which leaves no room in an S3 key (1,024 bytes)"
    return None


def _unsafe_character(logical: str) -> str | None:
    """How to name the first character of ``logical`` a published name may not hold, if any."""
    for character in logical:
        if character in UNSAFE_NAME_CHARACTERS:
            return f"the character {character!r}"
        if 0xDC80 <= ord(character) <= 0xDCFF:  # how Python spells a byte of a name that is not UTF-8
            return f"the byte 0x{ord(character) - 0xDC00:02X}, which is not UTF-8,"
        if unicodedata.category(character) in _UNSAFE_CATEGORIES:
            return f"the control or invisible character U+{ord(character):04X}"
    return None


def _is_ignored(logical: str) -> bool:
    """Hidden files and folders (.git, .DS_Store) and editor backups never ship."""
    parts = logical.split("/")
    return any(part.startswith(".") for part in parts) or parts[-1].endswith(EDITOR_JUNK_SUFFIXES)


def _read_all(sources: Mapping[str, Path]) -> tuple[dict[str, bytes], dict[str, str]]:
    """The bytes of every file, and the text of each one we must parse or minify."""
    raw: dict[str, bytes] = {}
    texts: dict[str, str] = {}
    problems: list[Problem] = []
    for logical, path in sources.items():
        try:
            raw[logical] = path.read_bytes()
            if _is_css(logical) or _is_minifiable_js(logical):
                texts[logical] = raw[logical].decode("utf-8-sig")  # a BOM is legal; drop it
        except OSError as error:
            problems.append(Problem(str(path), f"cannot be read: {error.strerror or error}", "check that the file exists and is readable"))
        except UnicodeDecodeError as error:
            problems.append(Problem(str(path), f"is not UTF-8 (bad byte at offset {error.start})", "save the file as UTF-8"))
    _raise_if_any(problems, "theme static files could not be read")
    return raw, texts


def _css_dependencies(sources: Mapping[str, Path], texts: Mapping[str, str]) -> dict[str, list[str]]:
    """CSS file -> the CSS files it references; every unresolvable reference, at once."""
    dependencies: dict[str, list[str]] = {}
    problems: list[Problem] = []
    for logical, text in texts.items():
        if not _is_css(logical):
            continue
        references: list[str] = []

        def collect(reference: str, found: list[str] = references) -> str:
            found.append(reference)
            return reference

        _shield_references(text, collect)
        targets: set[str] = set()
        for reference in references:
            target, problem = _resolve(logical, reference, sources)
            if problem:
                problems.append(problem)
            elif target and _is_css(target):
                targets.add(target)
        dependencies[logical] = sorted(targets)
    _raise_if_any(problems, "theme CSS has references that cannot be resolved")
    return dependencies


def _resolve(css: str, reference: str, sources: Mapping[str, Path]) -> tuple[str | None, Problem | None]:
    """The logical path ``reference`` names (None if not ours), or the problem with it."""
    path, _suffix = _split_suffix(reference)
    if _NOT_OURS.match(path):
        return None, None
    target = _target_of(css, path)
    where = f"{sources[css]} (reference {shown(reference)})"
    if target == ".." or target.startswith("../"):
        return None, Problem(
            where, "points outside the static folder", "keep referenced files inside static/, or use a site-absolute URL such as /img/x.png"
        )
    if target not in sources:
        hint = _did_you_mean(target, sources)
        return None, Problem(
            where,
            f"names {shown(target)}, which is in no static folder",
            f"add the file or correct the reference{'; ' + hint if hint else ''}",
        )
    return target, None


def _processing_order(sources: Mapping[str, Path], css_dependencies: Mapping[str, list[str]]) -> list[str]:
    """Leaves (everything but CSS) first, then CSS after all the CSS it references."""
    order = [logical for logical in sources if not _is_css(logical)]
    done: set[str] = set()
    path: list[str] = []

    def visit(css: str) -> None:
        if css in done:
            return
        if css in path:
            cycle = clip(" -> ".join(path[path.index(css) :] + [css]), 400)
            raise AssetError.at(
                str(sources[css]),
                f"CSS files reference each other in a cycle: {cycle}",
                "remove one reference; a file's hashed name depends on those it references",
            )
        path.append(css)
        for dependency in css_dependencies[css]:
            visit(dependency)
        path.pop()
        done.add(css)
        order.append(css)

    for css in css_dependencies:
        visit(css)
    return order


def _final_bytes(logical: str, raw: bytes, text: str | None, hashed: Mapping[str, str]) -> bytes:
    if _is_css(logical):
        assert text is not None
        return _rewrite_and_minify_css(logical, text, hashed).encode("utf-8")
    if _is_minifiable_js(logical):
        assert text is not None
        minified: str = rjsmin.jsmin(text, keep_bang_comments=True)  # licences stay
        return minified.encode("utf-8")
    return raw


def _rewrite_and_minify_css(logical: str, text: str, hashed: Mapping[str, str]) -> str:
    """Rewrite references first, minify second (placeholders shielding the references)."""
    folder = posixpath.dirname(logical) or "."

    def rewrite(reference: str) -> str:
        path, suffix = _split_suffix(reference)
        if _NOT_OURS.match(path):
            return reference
        relative = posixpath.relpath(hashed[_target_of(logical, path)], folder)
        return (quote(relative) if "%" in path else relative) + suffix

    shielded, tokens = _shield_references(text, rewrite)
    if not logical.endswith(".min.css"):
        shielded = csscompressor.compress(shielded)
    return _PLACEHOLDER_PATTERN.sub(lambda match: tokens[int(match[1])], shielded)


def _shield_references(text: str, rewrite: Callable[[str], str]) -> tuple[str, list[str]]:
    """Replace each reference token by a placeholder; return the text and the rewritten tokens."""
    tokens: list[str] = []

    def shield(match: re.Match[str]) -> str:
        if match["iq"]:
            token, prefix = f"{match['iq']}{rewrite(match['imported'])}{match['iq']}", match["import_at"]
        elif match["uq"] or match["bare"] is not None:
            quote_mark = match["uq"] or ""
            reference = match["quoted"] if quote_mark else match["bare"]
            token, prefix = f"url({quote_mark}{rewrite(reference)}{quote_mark})", ""
        else:
            return match[0]  # a comment or a plain string
        tokens.append(token)
        return prefix + _PLACEHOLDER.format(len(tokens) - 1)

    return _CSS_TOKEN.sub(shield, text), tokens


def _target_of(css: str, path: str) -> str:
    """The logical path a relative reference in ``css`` names (``%20`` decoded)."""
    return posixpath.normpath(posixpath.join(posixpath.dirname(css), unquote(path)))


def _split_suffix(reference: str) -> tuple[str, str]:
    """``font.woff2?v=3#iefix`` -> (``font.woff2``, ``?v=3#iefix``): the suffix is kept verbatim."""
    cut = min((i for i in (reference.find("?"), reference.find("#")) if i >= 0), default=len(reference))
    return reference[:cut], reference[cut:]


def _is_css(logical: str) -> bool:
    return logical.endswith(".css")


def _is_minifiable_js(logical: str) -> bool:
    return logical.endswith(".js") and not logical.endswith(".min.js")


def _did_you_mean(name: str, known: Mapping[str, object]) -> str:
    matches = difflib.get_close_matches(name, list(known), n=3)
    return "did you mean " + " or ".join(shown(match) for match in matches) + "?" if matches else ""


def _raise_if_any(problems: list[Problem], summary: str) -> None:
    if problems:
        raise AssetError(f"{summary} ({len(problems)}):" if len(problems) > 1 else summary, sorted(problems))
