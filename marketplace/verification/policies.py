"""The verification policy in force: stored versions edited by the platform admin, else the
built-in DEFAULT_POLICY. A version is never edited once saved: a change is a new version with
its own effective date, so every report can name the version and thresholds it used."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import func, select

from marketplace import audit
from marketplace.extensions import db
from marketplace.formatting import today_shanghai
from marketplace.verification.models import PolicyVersion
from workflows.text import Sentence, both
from workflows.verification.policy import DEFAULT_POLICY, Policy, PolicyError, Thresholds

VERSION_MAX_LENGTH = 20


def as_policy(row: PolicyVersion) -> Policy:
    return Policy(row.version, row.effective_from, Thresholds.from_dict(row.thresholds or {}))


def stored_versions() -> list[PolicyVersion]:
    """Stored versions, latest effective date first."""
    return list(db.session.scalars(
        select(PolicyVersion).order_by(PolicyVersion.effective_from.desc(), PolicyVersion.id.desc())))


def all_policies() -> list[Policy]:
    """The built-in default and every stored version, latest effective date first."""
    policies = [as_policy(row) for row in stored_versions()]
    if all(p.version != DEFAULT_POLICY.version for p in policies):
        policies.append(DEFAULT_POLICY)
    return sorted(policies, key=lambda p: p.effective_from, reverse=True)


def current_policy(on: date | None = None) -> Policy:
    """The policy in force on `on` (today in Shanghai when not given)."""
    on = on or today_shanghai()
    row = db.session.scalar(
        select(PolicyVersion).where(PolicyVersion.effective_from <= on)
        .order_by(PolicyVersion.effective_from.desc(), PolicyVersion.id.desc()).limit(1))
    return DEFAULT_POLICY if row is None else as_policy(row)


def create_policy_version(user, version: str, effective_from: date | None,
                          thresholds: Mapping[str, Any], note: str = "") -> PolicyVersion:
    """Save a new version; raise PolicyError with every problem (Sentences: Chinese, carrying their
    English) and store nothing."""
    version = (version or "").strip()
    problems: list[Sentence] = []
    if not version:
        problems.append(both("策略版本号不能为空", "The policy version is empty"))
    elif len(version) > VERSION_MAX_LENGTH:
        problems.append(both("策略版本号不能超过%(n)s个字符", "The policy version can have at most %(n)s characters",
                             n=VERSION_MAX_LENGTH))
    elif version == DEFAULT_POLICY.version or db.session.scalar(
            select(func.count()).where(PolicyVersion.version == version)):
        problems.append(both("策略版本号“%(v)s”已存在，请使用新的版本号",
                             "The policy version “%(v)s” exists already; use a new one", v=version))
    today = today_shanghai()
    if not isinstance(effective_from, date):
        problems.append(both("请填写生效日期", "Enter the effective date"))
    elif effective_from < today:
        problems.append(both("生效日期不能早于今天（%(today)s）", "The effective date cannot be before today (%(today)s)",
                             today=today.isoformat()))
    try:
        parsed = Thresholds.from_dict(thresholds)
    except PolicyError as error:
        problems.extend(error.problems)
        parsed = None
    if problems or parsed is None:
        raise PolicyError(problems)
    row = PolicyVersion(version=version, effective_from=effective_from, thresholds=parsed.as_dict(),
                        note=(note or "").strip(), created_by_id=getattr(user, "id", None))
    db.session.add(row)
    db.session.flush()
    audit.record("policy.created", row, actor=user, version=version,
                 effective_from=effective_from.isoformat(), thresholds=parsed.as_dict())
    return row
