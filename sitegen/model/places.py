"""Place names for pages: the country name a visitor expects, and a path-safe
slug for a city. Shared with the renderer."""

from __future__ import annotations

import functools

import iso3166

from sitegen.contract import slugify

#: Where ISO 3166's formal name is not what people call the country, and the
#: rule in ``country_name`` (drop ", Republic of" and the like) gets it wrong.
COMMON_COUNTRY_NAMES = {
    "GB": "United Kingdom",
    "US": "United States",
    "KR": "South Korea",
    "KP": "North Korea",
    "RU": "Russia",
    "VN": "Vietnam",
    "LA": "Laos",
    "SY": "Syria",
    "CD": "DR Congo",
    "VG": "British Virgin Islands",
    "VI": "U.S. Virgin Islands",
}


@functools.cache  # pages ask for the same few countries over and over
def country_name(code: str) -> str:
    """The name a visitor expects: "Bolivia", not "Bolivia, Plurinational State of"."""
    if code in COMMON_COUNTRY_NAMES:
        return COMMON_COUNTRY_NAMES[code]
    name = iso3166.countries_by_alpha2[code].apolitical_name
    head, _, tail = name.partition(", ")
    return head if tail.endswith((" of", " of the")) else name


def city_slug(city: str) -> str:
    """A path-safe slug for a city name: the contract's one slug of a name
    (``sitegen.contract.slugify``; 東京 is ``dongjing-`` and a digest), else "city"."""
    return slugify(city) or "city"
