"""Organisation kinds and roles (design.md section 2)."""

from enum import StrEnum


class OrgKind(StrEnum):
    ENTERPRISE = "enterprise"
    BANK = "bank"
    GUARANTOR = "guarantor"
    BUREAU = "bureau"
    PLATFORM = "platform"
    PROVIDER = "provider"  # a data provider: pushes credit records of its one source (marketplace.credit)


class Role(StrEnum):
    """A user's role, written kind:role."""

    ENTERPRISE_APPLICANT = "enterprise:applicant"
    ENTERPRISE_ADMIN = "enterprise:admin"
    BANK_OFFICER = "bank:officer"
    BANK_APPROVER = "bank:approver"
    GUARANTOR_OFFICER = "guarantor:officer"
    GUARANTOR_APPROVER = "guarantor:approver"
    BUREAU_COORDINATOR = "bureau:coordinator"
    PLATFORM_ADMIN = "platform:admin"
    PROVIDER_STAFF = "provider:staff"

    @property
    def kind(self) -> OrgKind:
        return OrgKind(self.value.split(":")[0])

    @property
    def short(self) -> str:
        return self.value.split(":")[1]


ROLE_LABELS = {
    Role.ENTERPRISE_APPLICANT: ("企业经办人", "Enterprise applicant"),
    Role.ENTERPRISE_ADMIN: ("企业管理员", "Enterprise admin"),
    Role.BANK_OFFICER: ("银行客户经理", "Bank officer"),
    Role.BANK_APPROVER: ("银行审批人", "Bank approver"),
    Role.GUARANTOR_OFFICER: ("担保机构经办人", "Guarantor officer"),
    Role.GUARANTOR_APPROVER: ("担保机构审批人", "Guarantor approver"),
    Role.BUREAU_COORDINATOR: ("金融工作局协调员", "Bureau coordinator"),
    Role.PLATFORM_ADMIN: ("平台管理员", "Platform admin"),
    Role.PROVIDER_STAFF: ("数据报送员", "Data provider staff"),
}

ORG_KIND_LABELS = {
    OrgKind.ENTERPRISE: ("企业", "Enterprise"),
    OrgKind.BANK: ("银行", "Bank"),
    OrgKind.GUARANTOR: ("担保公司", "Guarantor"),
    OrgKind.BUREAU: ("金融工作局/人行", "Finance bureau"),
    OrgKind.PLATFORM: ("平台运营方", "Platform"),
    OrgKind.PROVIDER: ("数据提供单位", "Data provider"),
}

ENTERPRISE_ROLES = frozenset({Role.ENTERPRISE_APPLICANT, Role.ENTERPRISE_ADMIN})
STAFF_ROLES = frozenset(Role) - ENTERPRISE_ROLES
# the kinds the platform admin creates on the institutions page
INSTITUTION_KINDS = (OrgKind.BANK, OrgKind.GUARANTOR, OrgKind.BUREAU, OrgKind.PROVIDER)


def roles_for_kind(kind: OrgKind) -> list[Role]:
    return [role for role in Role if role.kind == kind]
