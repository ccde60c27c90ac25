"""What an enterprise's profile still lacks before its first financing request (issue 19).

Registration asks only the name, the credit code and the admin; the credit code gives the kind
of entity and the registration division. The legal representative, the industry, a county-level
region and a phone are needed before a request is submitted: institutions review them.
"""

from __future__ import annotations

from marketplace.enterprises.models import Enterprise
from marketplace.reference.regions import is_region_code, region_prefix, region_prefix_name
from workflows.credit_code import CreditCodeFacts, decode_uscc

PROFILE_FIELDS = {  # field -> (zh, en), in the order of the completion form
    "legal_rep_name": ("法定代表人姓名", "legal representative's name"),
    "legal_rep_id_number": ("法定代表人身份证号码", "legal representative's ID number"),
    "industry_code": ("所属行业", "industry"),
    "region_code": ("所在区县", "county"),
    "contact_phone": ("联系电话", "contact phone"),
}


def missing_fields(enterprise: Enterprise) -> list[str]:
    """The keys of PROFILE_FIELDS the enterprise has not filled in (empty: complete)."""
    missing = [name for name in PROFILE_FIELDS if not getattr(enterprise, name)]
    if "region_code" not in missing and not is_region_code(enterprise.region_code):
        missing.append("region_code")  # the credit code named a city or province, not a county
    return [name for name in PROFILE_FIELDS if name in missing]


def is_complete(enterprise: Enterprise) -> bool:
    return not missing_fields(enterprise)


def credit_code_facts(enterprise: Enterprise) -> CreditCodeFacts | None:
    """What the enterprise's credit code says (None for a code stored before the check existed)."""
    try:
        return decode_uscc(enterprise.uscc)
    except ValueError:
        return None


def division_name(code: str) -> str:
    """The name of a division at any level: 320506 江苏省苏州市吴中区, 320500 江苏省苏州市; a code
    the tables do not know is named by its nearest known level (110100 北京市), else shown as is."""
    prefix = region_prefix(code)
    while prefix:
        name = region_prefix_name(prefix)
        if name != prefix:
            return name
        prefix = prefix[:-2]
    return code
