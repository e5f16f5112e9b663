"""The ISO 3166-1 table and the lookup that folds what people type."""

from __future__ import annotations

import collections
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from amcards.core import countries
from amcards.core.countries import (
    ALIASES,
    COUNTRIES,
    find_country,
    fold_country_name,
    lookup_keys,
    to_alpha_2,
)

ALL_KEYS = sorted(set(lookup_keys()))


def test_table_has_every_assigned_code_once():
    """249 countries, each alpha-2 and alpha-3 code unique and well formed."""
    alpha_2 = [c.alpha_2 for c in COUNTRIES]
    alpha_3 = [c.alpha_3 for c in COUNTRIES]
    assert len(COUNTRIES) == 249
    assert len(set(alpha_2)) == len(set(alpha_3)) == 249
    assert alpha_2 == sorted(alpha_2)
    for code in alpha_2 + alpha_3:
        assert set(code) <= set(string.ascii_uppercase)
    assert all(len(code) == 2 for code in alpha_2)
    assert all(len(code) == 3 for code in alpha_3)


def test_aliases_point_at_codes_in_the_table():
    """Every alias key is an alpha-2 code the table holds."""
    assert set(ALIASES) <= {c.alpha_2 for c in COUNTRIES}


def test_no_folded_name_means_two_countries():
    """No name or code, once folded, leads to two different countries."""
    codes = collections.defaultdict(set)
    for name, code in lookup_keys():
        codes[fold_country_name(name)].add(code)
    assert {key: found for key, found in codes.items() if len(found) > 1} == {}


def test_aliases_add_names_the_iso_table_lacks():
    """An alias is never already an ISO name or code (no dead entries)."""
    iso = {
        fold_country_name(name)
        for c in COUNTRIES
        for name in (c.alpha_2, c.alpha_3, c.name, *c.other_names)
    }
    for names in ALIASES.values():
        for name in names:
            assert fold_country_name(name) not in iso, name


@pytest.mark.parametrize(("name", "code"), ALL_KEYS)
def test_every_code_and_name_finds_its_country(name, code):
    """Each code, ISO name and alias, exactly as listed, gives its code."""
    assert to_alpha_2(name) == code
    found = find_country(name)
    assert found is not None and found.alpha_2 == code


def _spell(text: str, upper: list[bool]) -> str:
    flags = upper + [False] * len(text)
    return "".join(
        ch.upper() if flag else ch.lower()
        for ch, flag in zip(text, flags, strict=False)
    )


@given(
    key=st.sampled_from(ALL_KEYS),
    upper=st.lists(st.booleans(), max_size=60),
    before=st.sampled_from(["", " ", "  ", "\t"]),
    after=st.sampled_from(["", " ", ".", " . ", "\n"]),
)
def test_lookup_folds_case_spaces_and_dots(key, upper, before, after):
    """Case, surrounding whitespace and trailing dots do not matter."""
    name, code = key
    typed = before + _spell(name, upper) + after
    assert to_alpha_2(typed) == code


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("USA", "US"),
        ("U.S.", "US"),
        ("U.S.A.", "US"),
        ("u. s. a.", "US"),
        ("United States of America", "US"),
        ("  united states  ", "US"),
        ("America", "US"),
        ("UK", "GB"),
        ("U.K.", "GB"),
        ("Great Britain", "GB"),
        ("England", "GB"),
        ("Scotland", "GB"),
        ("Wales", "GB"),
        ("Northern Ireland", "GB"),
        ("Deutschland", "DE"),
        ("Holland", "NL"),
        ("The Netherlands", "NL"),
        ("South Korea", "KR"),
        ("North Korea", "KP"),
        ("Russia", "RU"),
        ("Czech Republic", "CZ"),
        ("Czechia", "CZ"),
        ("Ivory Coast", "CI"),
        ("Cote d'Ivoire", "CI"),
        ("C\u00f4te d\u2019Ivoire", "CI"),
        ("St. Lucia", "LC"),
        ("Trinidad & Tobago", "TT"),
        ("Guinea Bissau", "GW"),
        ("Korea, Republic of", "KR"),
        ("Turkey", "TR"),
        ("Türkiye", "TR"),
        ("Curacao", "CW"),
        ("Vietnam", "VN"),
        ("the Gambia", "GM"),
        ("DRC", "CD"),
        ("gbr", "GB"),
        ("ca", "CA"),
    ],
)
def test_common_spellings(typed, code):
    """What people commonly type for a country finds its code."""
    assert to_alpha_2(typed) == code


@pytest.mark.parametrize(
    "typed", ["", "   ", "Korea", "Kosovo", "Atlantis", "XK", "U.S.S.R.", "1"]
)
def test_names_of_no_country_give_none(typed):
    """Unknown, ambiguous or empty values are not guessed at."""
    assert to_alpha_2(typed) is None
    assert find_country(typed) is None


def test_public_names_are_listed_and_sorted():
    """__all__ is sorted and every name in it exists."""
    assert countries.__all__ == sorted(countries.__all__)
    for name in countries.__all__:
        assert hasattr(countries, name)
