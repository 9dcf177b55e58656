# Copied by bench/gen.py --form pelican: the Pelican side of bench/compare.py.
# Sessions are articles (content/sessions/*.md); an event is a category named
# "<year>/<event slug>", speakers are authors, topics are tags. The event and
# person details that a category or an author cannot hold (dates, venue,
# description, bio, links) are in events.json and people.json beside this file,
# and their Markdown is rendered at template time by the `markdown` filter.
import json
from pathlib import Path

import markdown as _markdown

_HERE = Path(__file__).resolve().parent
EVENTS = json.loads((_HERE / "events.json").read_text(encoding="utf-8"))  # by category slug
PEOPLE = json.loads((_HERE / "people.json").read_text(encoding="utf-8"))  # by author name

SITENAME = "Synthetic conference archive"
SITEURL = "https://archive.example.org"
PATH = "content"
OUTPUT_PATH = "output"
THEME = "theme"
TIMEZONE = "UTC"
DEFAULT_LANG = "en"
LOCALE = ("C",)

ARTICLE_PATHS = ["sessions"]
PAGE_PATHS = []
STATIC_PATHS = []

# Same URL scheme as sitegen: /<year>/<event>/<session>/, /<year>/, /people/<slug>/, /topics/<slug>/.
# The category slug keeps its "/" so that an event lives at /<year>/<event>/.
CATEGORY_REGEX_SUBSTITUTIONS = [
    (r"[^\w\s/-]", ""),
    (r"(?u)\A\s*", ""),
    (r"(?u)\s*\Z", ""),
    (r"[-\s]+", "-"),
]
ARTICLE_URL = "{category}/{slug}/"
ARTICLE_SAVE_AS = "{category}/{slug}/index.html"
CATEGORY_URL = "{slug}/"
CATEGORY_SAVE_AS = "{slug}/index.html"
AUTHOR_URL = "people/{slug}/"
AUTHOR_SAVE_AS = "people/{slug}/index.html"
TAG_URL = "topics/{slug}/"
TAG_SAVE_AS = "topics/{slug}/index.html"
YEAR_ARCHIVE_URL = "{date:%Y}/"
YEAR_ARCHIVE_SAVE_AS = "{date:%Y}/index.html"
AUTHORS_SAVE_AS = "people/index.html"
TAGS_SAVE_AS = "topics/index.html"
CATEGORIES_SAVE_AS = "events/index.html"
DIRECT_TEMPLATES = ["index", "tags", "categories", "authors"]  # no archives.html (every talk on one page)
DEFAULT_PAGINATION = False
ARTICLE_TRANSLATION_ID = None  # no translations; a session slug is unique within its event only

# One feed, like sitegen's feed.atom (50 entries) and Hugo's index.xml.
FEED_ALL_ATOM = "feed.atom"
FEED_MAX_ITEMS = 50
CATEGORY_FEED_ATOM = None
AUTHOR_FEED_ATOM = None
AUTHOR_FEED_RSS = None
TRANSLATION_FEED_ATOM = None
TAG_FEED_ATOM = None

# Pelican's content cache (off by default): parsed articles are pickled to cache/
# and reused when a file's mtime has not changed. bench/compare.py turns it off
# with PELICAN_BENCH_CACHE=0.
import os as _os  # noqa: E402 - kept beside the setting it serves

CACHE_CONTENT = _os.environ.get("PELICAN_BENCH_CACHE", "1") != "0"
LOAD_CONTENT_CACHE = CACHE_CONTENT
CACHE_PATH = "cache"

_md = _markdown.Markdown(extensions=["markdown.extensions.extra"], output_format="html5")


def _render(text):
    return _md.reset().convert(text) if text else ""


JINJA_FILTERS = {"markdown": _render}
