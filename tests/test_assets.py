"""The assets stage: content hashing, minification and CSS reference rewriting."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from sitegen.assets import Asset, AssetBundle, build_assets
from sitegen.errors import AssetError


def make_static(root: Path, files: dict[str, str | bytes]) -> Path:
    """Write ``files`` (logical path -> content) under ``root`` and return it."""
    for logical, content in files.items():
        path = root / logical
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def build(tmp_path: Path, files: dict[str, str | bytes]) -> AssetBundle:
    return build_assets([make_static(tmp_path / "static", files)])


def sha10(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()[:10]


def css(bundle: AssetBundle, logical: str) -> str:
    return bundle.assets[logical].data.decode("utf-8")


# --- hashing ---------------------------------------------------------------------------


def test_hashed_name_is_stem_dot_first_10_hex_of_sha1_of_final_bytes_dot_last_suffix(tmp_path: Path) -> None:
    png = b"\x89PNG\r\n\x1a\n fake image"
    bundle = build(
        tmp_path,
        {
            "img/logo.png": png,
            "js/vendor.min.js": "var x = 1 ;",
            "LICENSE": "MIT",
            "css/site.css": "body {\n  color : red ;\n}\n",
        },
    )
    for logical, asset in bundle.assets.items():
        assert asset.logical == logical
        assert re.fullmatch(r"[0-9a-f]{10}", sha10(asset.data))
    assert bundle.hashed_name("img/logo.png") == f"img/logo.{sha10(png)}.png"
    assert bundle.assets["img/logo.png"].data == png  # images are copied as bytes
    assert bundle.hashed_name("js/vendor.min.js") == f"js/vendor.min.{sha10(b'var x = 1 ;')}.js"
    assert bundle.hashed_name("LICENSE") == f"LICENSE.{sha10(b'MIT')}"
    # The hash is of the minified bytes, not of the source.
    assert bundle.assets["css/site.css"].data == b"body{color:red}"
    assert bundle.hashed_name("css/site.css") == f"css/site.{sha10(b'body{color:red}')}.css"
    assert bundle.assets["css/site.css"].source == tmp_path / "static" / "css" / "site.css"


def test_js_is_minified_keeping_licence_comments_but_min_js_is_left_alone(tmp_path: Path) -> None:
    source = "/*! MIT */\nfunction  add ( a , b ) {\n  // sum\n  return a + b ;\n}\n"
    bundle = build(tmp_path, {"js/app.js": source, "js/lib.min.js": source})
    assert bundle.assets["js/app.js"].data == b"/*! MIT */function add(a,b){return a+b;}"
    assert bundle.assets["js/lib.min.js"].data == source.encode()


def test_css_is_minified_but_min_css_only_has_its_references_rewritten(tmp_path: Path) -> None:
    source = "/* note */\nbody {\n  color : #ffffff ;\n  margin : 0px ;\n  background: url( logo.png );\n}\n"
    bundle = build(tmp_path, {"site.css": source, "vendor.min.css": source, "logo.png": b"L"})
    logo = f"logo.{sha10(b'L')}.png"
    assert css(bundle, "site.css") == f"body{{color:#fff;margin:0;background:url({logo})}}"
    assert css(bundle, "vendor.min.css") == source.replace("url( logo.png )", f"url({logo})")


# --- reference rewriting ---------------------------------------------------------------


def test_url_references_are_rewritten_relative_to_the_css_folder_in_every_quoting_style(tmp_path: Path) -> None:
    bundle = build(
        tmp_path,
        {
            "img/logo.png": b"logo",
            "css/site.css": (
                "a { background: url(../img/logo.png) }\n"
                "b { background: url( '../img/logo.png' ) }\n"
                'c { background: url("../img/logo.png") }\n'
                "d { background: URL(  ../img/logo.png  ) }\n"
            ),
            "css/deep/x.css": "e { background: url(../../img/logo.png) }",
            "root.css": "f { background: url(./img/logo.png) }",
        },
    )
    logo = f"logo.{sha10(b'logo')}.png"
    assert css(bundle, "css/site.css") == (
        f"a{{background:url(../img/{logo})}}b{{background:url('../img/{logo}')}}"
        f'c{{background:url("../img/{logo}")}}d{{background:url(../img/{logo})}}'
    )
    assert css(bundle, "css/deep/x.css") == f"e{{background:url(../../img/{logo})}}"
    assert css(bundle, "root.css") == f"f{{background:url(img/{logo})}}"


def test_import_references_are_rewritten_in_both_forms_and_survive_minification(tmp_path: Path) -> None:
    bundle = build(
        tmp_path,
        {
            "css/base.css": "p { margin: 0 }",
            "css/print.css": "p { color: black }",
            "css/site.css": (
                '@charset "utf-8";\n@import "base.css";\n@import url(print.css) print;\n'
                "@import 'print.css' screen;\nbody { color: red }\n"
            ),
        },
    )
    base, printing = bundle.hashed_name("css/base.css"), bundle.hashed_name("css/print.css")
    assert css(bundle, "css/site.css") == (
        f'@charset "utf-8";@import "{base[4:]}";@import url({printing[4:]}) print;@import \'{printing[4:]}\' screen;body{{color:red}}'
    )


def test_a_css_file_is_hashed_after_the_css_it_imports(tmp_path: Path) -> None:
    def build_with(b_css: str, where: Path) -> AssetBundle:
        return build_assets([make_static(where, {"a.css": '@import "b.css";', "b.css": b_css})])

    first = build_with("b { color: red }", tmp_path / "one")
    second = build_with("b { color: blue }", tmp_path / "two")
    for bundle in (first, second):
        assert css(bundle, "a.css") == f'@import "{bundle.hashed_name("b.css")}";'
        assert bundle.hashed_name("a.css") == f"a.{sha10(bundle.assets['a.css'].data)}.css"
    assert first.hashed_name("b.css") != second.hashed_name("b.css")
    assert first.hashed_name("a.css") != second.hashed_name("a.css")


def test_chained_css_dependencies_resolve_in_any_file_name_order(tmp_path: Path) -> None:
    # z imports y imports x: sorted name order is the opposite of the dependency order.
    bundle = build(tmp_path, {"z.css": "@import 'y.css';", "y.css": "@import 'x.css';", "x.css": "i{color:red}"})
    assert css(bundle, "z.css") == f"@import '{bundle.hashed_name('y.css')}';"
    assert css(bundle, "y.css") == f"@import '{bundle.hashed_name('x.css')}';"


def test_external_absolute_data_and_fragment_references_are_left_untouched(tmp_path: Path) -> None:
    svg = "data:image/svg+xml;utf8,<svg xmlns='http://www.w3.org/2000/svg'><rect fill='%23ffffff'/></svg>"
    source = (
        "a{background:url(data:image/png;base64,iVBORw0KGgo=)}"
        f'b{{background:url("{svg}")}}'
        "c{background:url(http://example.com/x.png)}"
        "d{background:url('https://example.com/x.png')}"
        "e{background:url(//cdn.example.com/x.png)}"
        "f{background:url(/static/abs.png)}"
        "g{filter:url(#blur)}"
        "h{mask:url('#m')}"
        "@import url(https://fonts.example.com/css?family=X);"
    )
    bundle = build(tmp_path, {"site.css": source})
    assert css(bundle, "site.css") == source  # already minimal, nothing to rewrite


def test_query_and_fragment_suffixes_are_kept_exactly(tmp_path: Path) -> None:
    bundle = build(
        tmp_path,
        {
            "fonts/f.woff2": b"woff2",
            "fonts/f.eot": b"eot",
            "img/sprite.svg": b"<svg/>",
            "css/font.css": (
                "@font-face { src: url('../fonts/f.eot?#iefix') format('embedded-opentype'),\n"
                '  url("../fonts/f.woff2?v=3#iefix") format("woff2"); }\n'
                # csscompressor alone would shorten this unquoted fragment to #abc.
                "i { background: url(../img/sprite.svg#aabbcc) }\n"
            ),
        },
    )
    eot, woff2 = bundle.hashed_name("fonts/f.eot"), bundle.hashed_name("fonts/f.woff2")
    sprite = bundle.hashed_name("img/sprite.svg")
    assert css(bundle, "css/font.css") == (
        f"@font-face{{src:url('../{eot}?#iefix') format('embedded-opentype'),"
        f'url("../{woff2}?v=3#iefix") format("woff2")}}'
        f"i{{background:url(../{sprite}#aabbcc)}}"
    )


def test_references_inside_comments_and_strings_are_not_references(tmp_path: Path) -> None:
    source = "/* url(old.png) */a{content:\"url(nope.png)\"}/*! @import 'gone.css'; */"
    bundle = build(tmp_path, {"site.css": source})
    assert css(bundle, "site.css") == "a{content:\"url(nope.png)\"}/*! @import 'gone.css'; */"


# --- errors ----------------------------------------------------------------------------


def test_a_missing_reference_names_the_css_file_the_reference_and_the_fix(tmp_path: Path) -> None:
    with pytest.raises(AssetError) as caught:
        build(tmp_path, {"img/logo.png": b"L", "css/site.css": "a { background: url('../img/logoo.png?v=1') }"})
    message = str(caught.value)
    assert str(tmp_path / "static" / "css" / "site.css") in message
    assert "'../img/logoo.png?v=1'" in message  # as written
    assert "img/logoo.png" in message and "did you mean 'img/logo.png'" in message
    assert "fix: add the file or correct the reference" in message


def test_every_missing_reference_in_every_css_file_is_reported_in_one_error(tmp_path: Path) -> None:
    with pytest.raises(AssetError) as caught:
        build(
            tmp_path,
            {
                "a.css": "a{background:url(one.png)} b{background:url(two.png)}",
                "b.css": '@import "three.css";',
            },
        )
    assert len(caught.value.problems) == 3
    message = str(caught.value)
    assert "(3)" in message
    for reference, css_file in (("one.png", "a.css"), ("two.png", "a.css"), ("three.css", "b.css")):
        assert re.search(rf"{css_file} \(reference '{reference}'\)", message), message


def test_a_reference_escaping_the_static_root_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "secret.png").write_bytes(b"outside")
    with pytest.raises(AssetError) as caught:
        build(tmp_path, {"css/site.css": "a { background: url(../../secret.png) }"})
    message = str(caught.value)
    assert "site.css" in message and "'../../secret.png'" in message
    assert "outside the static folder" in message and "fix: keep referenced files inside static/" in message


def test_a_css_reference_cycle_is_an_error_naming_the_cycle(tmp_path: Path) -> None:
    with pytest.raises(AssetError) as caught:
        build(tmp_path, {"css/a.css": '@import "b.css";', "css/b.css": "x{background:url(a.css)}"})
    message = str(caught.value)
    assert "css/a.css -> css/b.css -> css/a.css" in message
    assert "fix: remove one reference" in message


def test_a_css_file_referencing_itself_is_a_cycle(tmp_path: Path) -> None:
    with pytest.raises(AssetError, match=r"self\.css -> self\.css"):
        build(tmp_path, {"self.css": "@import 'self.css';"})


def test_css_that_is_not_utf8_is_an_error_naming_the_file(tmp_path: Path) -> None:
    with pytest.raises(AssetError) as caught:
        build(tmp_path, {"latin1.css": "a{content:'caf\xe9'}".encode("latin-1")})
    assert "latin1.css" in str(caught.value) and "not UTF-8" in str(caught.value)


def test_an_unknown_logical_name_suggests_close_matches(tmp_path: Path) -> None:
    bundle = build(tmp_path, {"css/site.css": "a{color:red}"})
    with pytest.raises(AssetError) as caught:
        bundle.hashed_name("css/sit.css")
    assert "'css/sit.css'" in str(caught.value) and "did you mean 'css/site.css'?" in str(caught.value)


# --- discovery, determinism, manifest ---------------------------------------------------


def test_the_first_static_dir_wins_and_missing_dirs_are_skipped(tmp_path: Path) -> None:
    site = make_static(tmp_path / "site", {"css/site.css": "a{color:blue}"})
    parent = make_static(tmp_path / "parent", {"css/site.css": "a{color:red}", "img/logo.png": b"L"})
    bundle = build_assets([tmp_path / "absent", site, parent])
    assert css(bundle, "css/site.css") == "a{color:blue}"
    assert bundle.assets["css/site.css"].source == site / "css" / "site.css"
    assert bundle.assets["img/logo.png"].source == parent / "img" / "logo.png"


def test_hidden_files_and_editor_junk_are_ignored(tmp_path: Path) -> None:
    bundle = build(
        tmp_path,
        {
            "app.js": "x()",
            ".DS_Store": b"junk",
            ".git/config": "x",
            "css/.hidden.css": "a{}",
            "app.js~": "old",
            "css/.site.css.swp": b"swap",
            "notes.swp": b"swap",
        },
    )
    assert list(bundle.assets) == ["app.js"]


def test_two_builds_of_the_same_input_are_identical(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {
        "css/b.css": "b{color:red}",
        "css/a.css": "@import 'b.css'; a{background:url(../img/x.png)}",
        "img/x.png": b"x",
        "js/app.js": "var  a = 1;",
    }
    first = build_assets([make_static(tmp_path / "one", files)])
    second = build_assets([make_static(tmp_path / "two", files)])
    assert first.manifest() == second.manifest()
    assert [(a.hashed, a.data) for a in first.assets.values()] == [(a.hashed, a.data) for a in second.assets.values()]
    assert list(first.assets) == sorted(first.assets)


def test_manifest_json_is_sorted_indented_and_stable(tmp_path: Path) -> None:
    bundle = build(tmp_path, {"z.js": "z()", "a.css": "a{color:red}", "m/logo.png": b"L"})
    text = bundle.manifest_json()
    assert text == bundle.manifest_json() and text.endswith(b"}\n")
    manifest = json.loads(text)
    assert list(manifest) == ["a.css", "m/logo.png", "z.js"] == list(bundle.manifest())
    assert manifest == {logical: asset.hashed for logical, asset in bundle.assets.items()}
    assert text == (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode("utf-8")


def test_a_bundle_built_by_hand_is_sorted_and_read_only() -> None:
    assets = {name: Asset(name, name, b"", Path(name)) for name in ("b.css", "a.css")}
    bundle = AssetBundle(assets)
    assert list(bundle.assets) == ["a.css", "b.css"]
    with pytest.raises(TypeError):
        bundle.assets["c.css"] = assets["a.css"]  # type: ignore[index]
