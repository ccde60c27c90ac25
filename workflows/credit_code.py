"""What an enterprise's credit code already says about it (GB 32100-2015), so registration need
not ask it: the registration authority (character 1), the kind of organisation (characters 1-2,
e.g. 91 enterprise, 92 individual business, 93 farmers' cooperative) and the administrative
division of the registration authority (characters 3-8, GB/T 2260), which is where the
organisation was registered: a county's code (320506), a city's (320500) or a province's (320000).
"""

from __future__ import annotations

from dataclasses import dataclass

from workflows.identifiers import (
    USCC_AUTHORITIES,
    DebtorKind,
    debtor_kind,
    normalise_uscc,
    uscc_problem,
)

DIVISION_LEVELS = {  # level -> (zh, en)
    "county": ("区县", "county"),
    "city": ("地市", "city"),
    "province": ("省级", "province"),
    "national": ("全国", "national"),
}
NATIONAL_DIVISIONS = frozenset({"000000", "100000"})  # 100000: 中华人民共和国 (national registrars)


@dataclass(frozen=True)
class CreditCodeFacts:
    """The facts characters 1-8 of a valid credit code carry."""

    uscc: str
    authority: str  # character 1, the registration authority (9: market regulation)
    authority_zh: str
    authority_en: str
    kind: DebtorKind  # characters 1-2: the category and the coarse kind (enterprise, individual business ...)
    division_code: str  # characters 3-8, the registration authority's division
    division_level: str  # a key of DIVISION_LEVELS

    @property
    def is_county(self) -> bool:
        """Whether the division names a county (区县), the level an enterprise's region is kept at."""
        return self.division_level == "county"


def division_level(code: str) -> str:
    """The level of a 6-digit division code: 320506 county, 320500 city, 320000 province."""
    if code in NATIONAL_DIVISIONS:
        return "national"
    if code.endswith("0000"):
        return "province"
    if code.endswith("00"):
        return "city"
    return "county"


def decode_uscc(code: str) -> CreditCodeFacts:
    """Read the authority, kind and division out of a credit code; ValueError (the Chinese
    sentence of workflows.identifiers.uscc_problem) when the code is not a valid one."""
    value = normalise_uscc(code)
    problem = uscc_problem(value)
    if problem:
        raise ValueError(problem)
    authority_zh, authority_en = USCC_AUTHORITIES[value[0]]
    division = value[2:8]
    return CreditCodeFacts(uscc=value, authority=value[0], authority_zh=authority_zh, authority_en=authority_en,
                           kind=debtor_kind(value), division_code=division, division_level=division_level(division))
