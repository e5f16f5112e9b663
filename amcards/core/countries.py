"""ISO 3166-1 countries, and the other names people type for them.

:func:`to_alpha_2` turns what someone typed into a country field ("USA",
"u.s.a.", " Deutschland ", "Côte d'Ivoire", "GBR") into the two-letter
ISO code, or None when the value names no country it knows.

Lookup folds away what does not tell countries apart: letter case,
accents, surrounding and repeated spaces, dots ("U.S.A."), commas,
hyphens, brackets, a leading "the" and a leading "St" for "Saint".  The
table holds every officially assigned ISO 3166-1 code with its alpha-3
code, its ISO short name and, where there is one, the common and the
formal name; :data:`ALIASES` adds the names people use instead.

This module imports nothing outside the standard library.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from typing import NamedTuple

__all__ = [
    "ALIASES",
    "COUNTRIES",
    "Country",
    "find_country",
    "fold_country_name",
    "lookup_keys",
    "to_alpha_2",
]


class Country(NamedTuple):
    """One ISO 3166-1 country: its codes, its ISO short name, other names."""

    alpha_2: str
    alpha_3: str
    name: str
    other_names: tuple[str, ...] = ()


# The ISO short name first, then the common and the formal name where
# they differ from it.  Sorted by alpha-2 code.
COUNTRIES: tuple[Country, ...] = (
    Country("AD", "AND", "Andorra", ("Principality of Andorra",)),
    Country("AE", "ARE", "United Arab Emirates", ()),
    Country("AF", "AFG", "Afghanistan", ("Islamic Republic of Afghanistan",)),
    Country("AG", "ATG", "Antigua and Barbuda", ()),
    Country("AI", "AIA", "Anguilla", ()),
    Country("AL", "ALB", "Albania", ("Republic of Albania",)),
    Country("AM", "ARM", "Armenia", ("Republic of Armenia",)),
    Country("AO", "AGO", "Angola", ("Republic of Angola",)),
    Country("AQ", "ATA", "Antarctica", ()),
    Country("AR", "ARG", "Argentina", ("Argentine Republic",)),
    Country("AS", "ASM", "American Samoa", ()),
    Country("AT", "AUT", "Austria", ("Republic of Austria",)),
    Country("AU", "AUS", "Australia", ()),
    Country("AW", "ABW", "Aruba", ()),
    Country("AX", "ALA", "Åland Islands", ()),
    Country("AZ", "AZE", "Azerbaijan", ("Republic of Azerbaijan",)),
    Country(
        "BA",
        "BIH",
        "Bosnia and Herzegovina",
        ("Republic of Bosnia and Herzegovina",),
    ),
    Country("BB", "BRB", "Barbados", ()),
    Country("BD", "BGD", "Bangladesh", ("People's Republic of Bangladesh",)),
    Country("BE", "BEL", "Belgium", ("Kingdom of Belgium",)),
    Country("BF", "BFA", "Burkina Faso", ()),
    Country("BG", "BGR", "Bulgaria", ("Republic of Bulgaria",)),
    Country("BH", "BHR", "Bahrain", ("Kingdom of Bahrain",)),
    Country("BI", "BDI", "Burundi", ("Republic of Burundi",)),
    Country("BJ", "BEN", "Benin", ("Republic of Benin",)),
    Country("BL", "BLM", "Saint Barthélemy", ()),
    Country("BM", "BMU", "Bermuda", ()),
    Country("BN", "BRN", "Brunei Darussalam", ()),
    Country(
        "BO",
        "BOL",
        "Bolivia, Plurinational State of",
        ("Bolivia", "Plurinational State of Bolivia"),
    ),
    Country("BQ", "BES", "Bonaire, Sint Eustatius and Saba", ()),
    Country("BR", "BRA", "Brazil", ("Federative Republic of Brazil",)),
    Country("BS", "BHS", "Bahamas", ("Commonwealth of the Bahamas",)),
    Country("BT", "BTN", "Bhutan", ("Kingdom of Bhutan",)),
    Country("BV", "BVT", "Bouvet Island", ()),
    Country("BW", "BWA", "Botswana", ("Republic of Botswana",)),
    Country("BY", "BLR", "Belarus", ("Republic of Belarus",)),
    Country("BZ", "BLZ", "Belize", ()),
    Country("CA", "CAN", "Canada", ()),
    Country("CC", "CCK", "Cocos (Keeling) Islands", ()),
    Country("CD", "COD", "Congo, The Democratic Republic of the", ()),
    Country("CF", "CAF", "Central African Republic", ()),
    Country("CG", "COG", "Congo", ("Republic of the Congo",)),
    Country("CH", "CHE", "Switzerland", ("Swiss Confederation",)),
    Country("CI", "CIV", "Côte d'Ivoire", ("Republic of Côte d'Ivoire",)),
    Country("CK", "COK", "Cook Islands", ()),
    Country("CL", "CHL", "Chile", ("Republic of Chile",)),
    Country("CM", "CMR", "Cameroon", ("Republic of Cameroon",)),
    Country("CN", "CHN", "China", ("People's Republic of China",)),
    Country("CO", "COL", "Colombia", ("Republic of Colombia",)),
    Country("CR", "CRI", "Costa Rica", ("Republic of Costa Rica",)),
    Country("CU", "CUB", "Cuba", ("Republic of Cuba",)),
    Country("CV", "CPV", "Cabo Verde", ("Republic of Cabo Verde",)),
    Country("CW", "CUW", "Curaçao", ()),
    Country("CX", "CXR", "Christmas Island", ()),
    Country("CY", "CYP", "Cyprus", ("Republic of Cyprus",)),
    Country("CZ", "CZE", "Czechia", ("Czech Republic",)),
    Country("DE", "DEU", "Germany", ("Federal Republic of Germany",)),
    Country("DJ", "DJI", "Djibouti", ("Republic of Djibouti",)),
    Country("DK", "DNK", "Denmark", ("Kingdom of Denmark",)),
    Country("DM", "DMA", "Dominica", ("Commonwealth of Dominica",)),
    Country("DO", "DOM", "Dominican Republic", ()),
    Country(
        "DZ", "DZA", "Algeria", ("People's Democratic Republic of Algeria",)
    ),
    Country("EC", "ECU", "Ecuador", ("Republic of Ecuador",)),
    Country("EE", "EST", "Estonia", ("Republic of Estonia",)),
    Country("EG", "EGY", "Egypt", ("Arab Republic of Egypt",)),
    Country("EH", "ESH", "Western Sahara", ()),
    Country("ER", "ERI", "Eritrea", ("the State of Eritrea",)),
    Country("ES", "ESP", "Spain", ("Kingdom of Spain",)),
    Country(
        "ET", "ETH", "Ethiopia", ("Federal Democratic Republic of Ethiopia",)
    ),
    Country("FI", "FIN", "Finland", ("Republic of Finland",)),
    Country("FJ", "FJI", "Fiji", ("Republic of Fiji",)),
    Country("FK", "FLK", "Falkland Islands (Malvinas)", ()),
    Country(
        "FM",
        "FSM",
        "Micronesia, Federated States of",
        ("Federated States of Micronesia",),
    ),
    Country("FO", "FRO", "Faroe Islands", ()),
    Country("FR", "FRA", "France", ("French Republic",)),
    Country("GA", "GAB", "Gabon", ("Gabonese Republic",)),
    Country(
        "GB",
        "GBR",
        "United Kingdom",
        ("United Kingdom of Great Britain and Northern Ireland",),
    ),
    Country("GD", "GRD", "Grenada", ()),
    Country("GE", "GEO", "Georgia", ()),
    Country("GF", "GUF", "French Guiana", ()),
    Country("GG", "GGY", "Guernsey", ()),
    Country("GH", "GHA", "Ghana", ("Republic of Ghana",)),
    Country("GI", "GIB", "Gibraltar", ()),
    Country("GL", "GRL", "Greenland", ()),
    Country("GM", "GMB", "Gambia", ("Republic of the Gambia",)),
    Country("GN", "GIN", "Guinea", ("Republic of Guinea",)),
    Country("GP", "GLP", "Guadeloupe", ()),
    Country(
        "GQ", "GNQ", "Equatorial Guinea", ("Republic of Equatorial Guinea",)
    ),
    Country("GR", "GRC", "Greece", ("Hellenic Republic",)),
    Country("GS", "SGS", "South Georgia and the South Sandwich Islands", ()),
    Country("GT", "GTM", "Guatemala", ("Republic of Guatemala",)),
    Country("GU", "GUM", "Guam", ()),
    Country("GW", "GNB", "Guinea-Bissau", ("Republic of Guinea-Bissau",)),
    Country("GY", "GUY", "Guyana", ("Republic of Guyana",)),
    Country(
        "HK",
        "HKG",
        "Hong Kong",
        ("Hong Kong Special Administrative Region of China",),
    ),
    Country("HM", "HMD", "Heard Island and McDonald Islands", ()),
    Country("HN", "HND", "Honduras", ("Republic of Honduras",)),
    Country("HR", "HRV", "Croatia", ("Republic of Croatia",)),
    Country("HT", "HTI", "Haiti", ("Republic of Haiti",)),
    Country("HU", "HUN", "Hungary", ()),
    Country("ID", "IDN", "Indonesia", ("Republic of Indonesia",)),
    Country("IE", "IRL", "Ireland", ()),
    Country("IL", "ISR", "Israel", ("State of Israel",)),
    Country("IM", "IMN", "Isle of Man", ()),
    Country("IN", "IND", "India", ("Republic of India",)),
    Country("IO", "IOT", "British Indian Ocean Territory", ()),
    Country("IQ", "IRQ", "Iraq", ("Republic of Iraq",)),
    Country(
        "IR",
        "IRN",
        "Iran, Islamic Republic of",
        ("Iran", "Islamic Republic of Iran"),
    ),
    Country("IS", "ISL", "Iceland", ("Republic of Iceland",)),
    Country("IT", "ITA", "Italy", ("Italian Republic",)),
    Country("JE", "JEY", "Jersey", ()),
    Country("JM", "JAM", "Jamaica", ()),
    Country("JO", "JOR", "Jordan", ("Hashemite Kingdom of Jordan",)),
    Country("JP", "JPN", "Japan", ()),
    Country("KE", "KEN", "Kenya", ("Republic of Kenya",)),
    Country("KG", "KGZ", "Kyrgyzstan", ("Kyrgyz Republic",)),
    Country("KH", "KHM", "Cambodia", ("Kingdom of Cambodia",)),
    Country("KI", "KIR", "Kiribati", ("Republic of Kiribati",)),
    Country("KM", "COM", "Comoros", ("Union of the Comoros",)),
    Country("KN", "KNA", "Saint Kitts and Nevis", ()),
    Country(
        "KP",
        "PRK",
        "Korea, Democratic People's Republic of",
        ("North Korea", "Democratic People's Republic of Korea"),
    ),
    Country("KR", "KOR", "Korea, Republic of", ("South Korea",)),
    Country("KW", "KWT", "Kuwait", ("State of Kuwait",)),
    Country("KY", "CYM", "Cayman Islands", ()),
    Country("KZ", "KAZ", "Kazakhstan", ("Republic of Kazakhstan",)),
    Country("LA", "LAO", "Lao People's Democratic Republic", ("Laos",)),
    Country("LB", "LBN", "Lebanon", ("Lebanese Republic",)),
    Country("LC", "LCA", "Saint Lucia", ()),
    Country("LI", "LIE", "Liechtenstein", ("Principality of Liechtenstein",)),
    Country(
        "LK",
        "LKA",
        "Sri Lanka",
        ("Democratic Socialist Republic of Sri Lanka",),
    ),
    Country("LR", "LBR", "Liberia", ("Republic of Liberia",)),
    Country("LS", "LSO", "Lesotho", ("Kingdom of Lesotho",)),
    Country("LT", "LTU", "Lithuania", ("Republic of Lithuania",)),
    Country("LU", "LUX", "Luxembourg", ("Grand Duchy of Luxembourg",)),
    Country("LV", "LVA", "Latvia", ("Republic of Latvia",)),
    Country("LY", "LBY", "Libya", ()),
    Country("MA", "MAR", "Morocco", ("Kingdom of Morocco",)),
    Country("MC", "MCO", "Monaco", ("Principality of Monaco",)),
    Country(
        "MD", "MDA", "Moldova, Republic of", ("Moldova", "Republic of Moldova")
    ),
    Country("ME", "MNE", "Montenegro", ()),
    Country("MF", "MAF", "Saint Martin (French part)", ()),
    Country("MG", "MDG", "Madagascar", ("Republic of Madagascar",)),
    Country(
        "MH", "MHL", "Marshall Islands", ("Republic of the Marshall Islands",)
    ),
    Country("MK", "MKD", "North Macedonia", ("Republic of North Macedonia",)),
    Country("ML", "MLI", "Mali", ("Republic of Mali",)),
    Country("MM", "MMR", "Myanmar", ("Republic of Myanmar",)),
    Country("MN", "MNG", "Mongolia", ()),
    Country(
        "MO", "MAC", "Macao", ("Macao Special Administrative Region of China",)
    ),
    Country(
        "MP",
        "MNP",
        "Northern Mariana Islands",
        ("Commonwealth of the Northern Mariana Islands",),
    ),
    Country("MQ", "MTQ", "Martinique", ()),
    Country("MR", "MRT", "Mauritania", ("Islamic Republic of Mauritania",)),
    Country("MS", "MSR", "Montserrat", ()),
    Country("MT", "MLT", "Malta", ("Republic of Malta",)),
    Country("MU", "MUS", "Mauritius", ("Republic of Mauritius",)),
    Country("MV", "MDV", "Maldives", ("Republic of Maldives",)),
    Country("MW", "MWI", "Malawi", ("Republic of Malawi",)),
    Country("MX", "MEX", "Mexico", ("United Mexican States",)),
    Country("MY", "MYS", "Malaysia", ()),
    Country("MZ", "MOZ", "Mozambique", ("Republic of Mozambique",)),
    Country("NA", "NAM", "Namibia", ("Republic of Namibia",)),
    Country("NC", "NCL", "New Caledonia", ()),
    Country("NE", "NER", "Niger", ("Republic of the Niger",)),
    Country("NF", "NFK", "Norfolk Island", ()),
    Country("NG", "NGA", "Nigeria", ("Federal Republic of Nigeria",)),
    Country("NI", "NIC", "Nicaragua", ("Republic of Nicaragua",)),
    Country("NL", "NLD", "Netherlands", ("Kingdom of the Netherlands",)),
    Country("NO", "NOR", "Norway", ("Kingdom of Norway",)),
    Country("NP", "NPL", "Nepal", ("Federal Democratic Republic of Nepal",)),
    Country("NR", "NRU", "Nauru", ("Republic of Nauru",)),
    Country("NU", "NIU", "Niue", ()),
    Country("NZ", "NZL", "New Zealand", ()),
    Country("OM", "OMN", "Oman", ("Sultanate of Oman",)),
    Country("PA", "PAN", "Panama", ("Republic of Panama",)),
    Country("PE", "PER", "Peru", ("Republic of Peru",)),
    Country("PF", "PYF", "French Polynesia", ()),
    Country(
        "PG",
        "PNG",
        "Papua New Guinea",
        ("Independent State of Papua New Guinea",),
    ),
    Country("PH", "PHL", "Philippines", ("Republic of the Philippines",)),
    Country("PK", "PAK", "Pakistan", ("Islamic Republic of Pakistan",)),
    Country("PL", "POL", "Poland", ("Republic of Poland",)),
    Country("PM", "SPM", "Saint Pierre and Miquelon", ()),
    Country("PN", "PCN", "Pitcairn", ()),
    Country("PR", "PRI", "Puerto Rico", ()),
    Country("PS", "PSE", "Palestine, State of", ("the State of Palestine",)),
    Country("PT", "PRT", "Portugal", ("Portuguese Republic",)),
    Country("PW", "PLW", "Palau", ("Republic of Palau",)),
    Country("PY", "PRY", "Paraguay", ("Republic of Paraguay",)),
    Country("QA", "QAT", "Qatar", ("State of Qatar",)),
    Country("RE", "REU", "Réunion", ()),
    Country("RO", "ROU", "Romania", ()),
    Country("RS", "SRB", "Serbia", ("Republic of Serbia",)),
    Country("RU", "RUS", "Russian Federation", ()),
    Country("RW", "RWA", "Rwanda", ("Rwandese Republic",)),
    Country("SA", "SAU", "Saudi Arabia", ("Kingdom of Saudi Arabia",)),
    Country("SB", "SLB", "Solomon Islands", ()),
    Country("SC", "SYC", "Seychelles", ("Republic of Seychelles",)),
    Country("SD", "SDN", "Sudan", ("Republic of the Sudan",)),
    Country("SE", "SWE", "Sweden", ("Kingdom of Sweden",)),
    Country("SG", "SGP", "Singapore", ("Republic of Singapore",)),
    Country("SH", "SHN", "Saint Helena, Ascension and Tristan da Cunha", ()),
    Country("SI", "SVN", "Slovenia", ("Republic of Slovenia",)),
    Country("SJ", "SJM", "Svalbard and Jan Mayen", ()),
    Country("SK", "SVK", "Slovakia", ("Slovak Republic",)),
    Country("SL", "SLE", "Sierra Leone", ("Republic of Sierra Leone",)),
    Country("SM", "SMR", "San Marino", ("Republic of San Marino",)),
    Country("SN", "SEN", "Senegal", ("Republic of Senegal",)),
    Country("SO", "SOM", "Somalia", ("Federal Republic of Somalia",)),
    Country("SR", "SUR", "Suriname", ("Republic of Suriname",)),
    Country("SS", "SSD", "South Sudan", ("Republic of South Sudan",)),
    Country(
        "ST",
        "STP",
        "Sao Tome and Principe",
        ("Democratic Republic of Sao Tome and Principe",),
    ),
    Country("SV", "SLV", "El Salvador", ("Republic of El Salvador",)),
    Country("SX", "SXM", "Sint Maarten (Dutch part)", ()),
    Country("SY", "SYR", "Syrian Arab Republic", ("Syria",)),
    Country("SZ", "SWZ", "Eswatini", ("Kingdom of Eswatini",)),
    Country("TC", "TCA", "Turks and Caicos Islands", ()),
    Country("TD", "TCD", "Chad", ("Republic of Chad",)),
    Country("TF", "ATF", "French Southern Territories", ()),
    Country("TG", "TGO", "Togo", ("Togolese Republic",)),
    Country("TH", "THA", "Thailand", ("Kingdom of Thailand",)),
    Country("TJ", "TJK", "Tajikistan", ("Republic of Tajikistan",)),
    Country("TK", "TKL", "Tokelau", ()),
    Country(
        "TL", "TLS", "Timor-Leste", ("Democratic Republic of Timor-Leste",)
    ),
    Country("TM", "TKM", "Turkmenistan", ()),
    Country("TN", "TUN", "Tunisia", ("Republic of Tunisia",)),
    Country("TO", "TON", "Tonga", ("Kingdom of Tonga",)),
    Country("TR", "TUR", "Türkiye", ("Republic of Türkiye",)),
    Country(
        "TT",
        "TTO",
        "Trinidad and Tobago",
        ("Republic of Trinidad and Tobago",),
    ),
    Country("TV", "TUV", "Tuvalu", ()),
    Country("TW", "TWN", "Taiwan, Province of China", ("Taiwan",)),
    Country(
        "TZ",
        "TZA",
        "Tanzania, United Republic of",
        ("Tanzania", "United Republic of Tanzania"),
    ),
    Country("UA", "UKR", "Ukraine", ()),
    Country("UG", "UGA", "Uganda", ("Republic of Uganda",)),
    Country("UM", "UMI", "United States Minor Outlying Islands", ()),
    Country("US", "USA", "United States", ("United States of America",)),
    Country("UY", "URY", "Uruguay", ("Eastern Republic of Uruguay",)),
    Country("UZ", "UZB", "Uzbekistan", ("Republic of Uzbekistan",)),
    Country("VA", "VAT", "Holy See (Vatican City State)", ()),
    Country("VC", "VCT", "Saint Vincent and the Grenadines", ()),
    Country(
        "VE",
        "VEN",
        "Venezuela, Bolivarian Republic of",
        ("Venezuela", "Bolivarian Republic of Venezuela"),
    ),
    Country(
        "VG", "VGB", "Virgin Islands, British", ("British Virgin Islands",)
    ),
    Country(
        "VI",
        "VIR",
        "Virgin Islands, U.S.",
        ("Virgin Islands of the United States",),
    ),
    Country(
        "VN", "VNM", "Viet Nam", ("Vietnam", "Socialist Republic of Viet Nam")
    ),
    Country("VU", "VUT", "Vanuatu", ("Republic of Vanuatu",)),
    Country("WF", "WLF", "Wallis and Futuna", ()),
    Country("WS", "WSM", "Samoa", ("Independent State of Samoa",)),
    Country("YE", "YEM", "Yemen", ("Republic of Yemen",)),
    Country("YT", "MYT", "Mayotte", ()),
    Country("ZA", "ZAF", "South Africa", ("Republic of South Africa",)),
    Country("ZM", "ZMB", "Zambia", ("Republic of Zambia",)),
    Country("ZW", "ZWE", "Zimbabwe", ("Republic of Zimbabwe",)),
)

# Names in everyday use that are not ISO names: abbreviations, the parts
# of a country, former names, and a few names in the country's own
# language.  Keyed by alpha-2 code.
ALIASES: dict[str, tuple[str, ...]] = {
    "AE": ("UAE", "Emirates"),
    "BA": ("Bosnia",),
    "BN": ("Brunei",),
    "CD": (
        "DRC",
        "DR Congo",
        "Congo-Kinshasa",
        "Democratic Republic of the Congo",
        "Democratic Republic of Congo",
    ),
    "CG": ("Congo-Brazzaville", "Republic of Congo"),
    "CH": ("Schweiz", "Suisse", "Svizzera"),
    "CI": ("Ivory Coast",),
    "CV": ("Cape Verde",),
    "CZ": ("Czech",),
    "DE": ("Deutschland",),
    "DK": ("Danmark",),
    "ES": ("España",),
    "FI": ("Suomi",),
    "FK": ("Falkland Islands", "Falklands"),
    "FM": ("Micronesia",),
    "GB": (
        "UK",
        "Great Britain",
        "Britain",
        "England",
        "Scotland",
        "Wales",
        "Northern Ireland",
    ),
    "HK": ("Hong Kong SAR",),
    "IE": ("Eire", "Republic of Ireland"),
    "IT": ("Italia",),
    "JP": ("Nippon", "Nihon"),
    "KR": ("Republic of Korea",),
    "KP": ("DPRK",),
    "LA": ("Lao PDR",),
    "MK": ("Macedonia",),
    "MM": ("Burma",),
    "MO": ("Macau", "Macao SAR"),
    "NL": ("Holland", "Nederland"),
    "NO": ("Norge",),
    "PL": ("Polska",),
    "PN": ("Pitcairn Islands",),
    "PS": ("Palestine",),
    "RU": ("Russia",),
    "SE": ("Sverige",),
    "SH": ("Saint Helena",),
    "SZ": ("Swaziland",),
    "TL": ("East Timor",),
    "TR": ("Turkey",),
    "US": ("America",),
    "VA": ("Vatican", "Vatican City", "Holy See"),
    "VG": ("BVI",),
    "VI": ("US Virgin Islands", "USVI"),
}

_SAME_AS_SPACE = str.maketrans({",": " ", "-": " ", "(": " ", ")": " "})
_DROPPED = str.maketrans({".": None, "'": None, "\u2019": None})


def fold_country_name(value: str) -> str:
    """Return ``value`` reduced to the form country lookups compare.

    Case, accents, dots, apostrophes, commas, hyphens, brackets and extra
    spaces are dropped; "&" reads as "and"; a leading "the" is dropped and
    a leading "St" reads as "Saint".  Letters spaced out one by one
    ("U S A") are joined.
    """
    text = unicodedata.normalize("NFKD", value)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.casefold().replace("&", " and ")
    text = text.translate(_DROPPED).translate(_SAME_AS_SPACE)
    words = text.split()

    if len(words) > 1 and words[0] == "the":
        words = words[1:]
    if len(words) > 1 and words[0] in ("st", "saint"):
        words[0] = "saint"
    if len(words) > 1 and all(len(word) == 1 for word in words):
        words = ["".join(words)]
    return " ".join(words)


def lookup_keys() -> Iterator[tuple[str, str]]:
    """Yield every (name or code, alpha-2 code) pair the lookup knows."""
    for country in COUNTRIES:
        yield country.alpha_2, country.alpha_2
        yield country.alpha_3, country.alpha_2
        yield country.name, country.alpha_2
        for name in country.other_names:
            yield name, country.alpha_2
    for code, names in ALIASES.items():
        for name in names:
            yield name, code


def _build_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for name, code in lookup_keys():
        index.setdefault(fold_country_name(name), code)
    return index


_INDEX = _build_index()
_BY_ALPHA_2 = {country.alpha_2: country for country in COUNTRIES}


def to_alpha_2(value: str) -> str | None:
    """Return the ISO alpha-2 code ``value`` names, or None if unknown.

    ``value`` may be an alpha-2 or alpha-3 code, an ISO name or a common
    alias, in any case, with dots and surrounding spaces.
    """
    return _INDEX.get(fold_country_name(value))


def find_country(value: str) -> Country | None:
    """Return the :class:`Country` that ``value`` names, or None."""
    code = to_alpha_2(value)
    return None if code is None else _BY_ALPHA_2[code]
