"""Which institutions a request goes to: up to 3, chosen by the enterprise among eligible
products, or the top matches of the financing supermarket. Either way only institutions holding
the enterprise's valid consent to read its bank statements: a pick without one is refused with
the names, so the page can offer the consent or another pick."""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import gettext as _
from sqlalchemy import delete, select

from marketplace.accounts.models import Organisation
from marketplace.enterprises.consents import consenting_institutions
from marketplace.extensions import db
from marketplace.financing.models import FinancingRequest
from marketplace.i18n import join_list, pick, sentences
from marketplace.supermarket import services as products
from marketplace.supermarket.matching import ranked_matches
from marketplace.supermarket.models import RequestTarget
from workflows.financing import MAX_TARGETS
from workflows.matching import Match, top_institutions

# targets that never reached their institution: nothing hangs on them
UNROUTED = ("chosen", "waiting")


class TargetRefused(ValueError):
    """A chosen product cannot take the request; the message says why (in the user's language)."""


class ConsentMissing(TargetRefused):
    """Chosen institutions lack the enterprise's consent; `institutions` names them."""

    def __init__(self, institutions: list[Organisation]):
        self.institutions = institutions
        super().__init__(_("您选择的机构尚未获得贵企业查询银行流水的授权：%(names)s。平台只向已授权的机构推送申请，"
                           "请先授权（企业管理员可在本页授权），或选择其他机构。",
                           names=join_list(o.name for o in institutions)))


def choose_targets(request: FinancingRequest, product_ids: Sequence[int] | None = None,
                   matches: list[Match] | None = None, *, require_consent: bool = True) -> list[RequestTarget]:
    """Replace the request's unrouted targets: the enterprise's picks (each must be an eligible
    published product, one per institution, at most 3, of an institution holding the enterprise's
    consent unless `require_consent` is off: a draft may keep a pick that waits for it), or, when
    it picks none, the top matches among institutions holding the consent. An institution that
    already worked the request (a resubmission after its decline, or after its consent ended)
    keeps its target as history and is not chosen again."""
    matches = ranked_matches(request) if matches is None else matches
    worked = _worked_institutions(request)
    if product_ids:
        chosen = _validated_choice(matches, list(dict.fromkeys(product_ids)), worked)
        if require_consent:
            _check_consent(request, chosen)
        chosen_by = "enterprise"
    else:
        consenting = consenting_institutions(request.enterprise_id, {m.institution_id for m in matches})
        chosen = top_institutions((m for m in matches if m.institution_id in consenting - worked.keys()),
                                  limit=MAX_TARGETS)
        chosen_by = "match"
    db.session.execute(delete(RequestTarget).where(RequestTarget.request_id == request.id,
                                                   RequestTarget.status.in_(UNROUTED)))
    targets = [
        RequestTarget(request_id=request.id, product_version_id=m.version_id, institution_id=m.institution_id,
                      rank=position, chosen_by=chosen_by)
        for position, m in enumerate(chosen, start=1)
    ]
    db.session.add_all(targets)
    db.session.flush()
    return targets


def keep_picks(request: FinancingRequest, product_ids: Sequence[int]) -> None:
    """After a submission refused for want of consent: the draft keeps the enterprise's picks
    (unrouted, waiting for the consent), so the page shows them chosen beside the consent forms."""
    try:
        choose_targets(request, product_ids, require_consent=False)
    except TargetRefused:
        pass


def _worked_institutions(request: FinancingRequest) -> dict[int, Organisation]:
    """Institutions that already had the request (their targets are its history)."""
    return {t.institution_id: t.institution for t in db.session.scalars(
        select(RequestTarget).where(RequestTarget.request_id == request.id, RequestTarget.status.not_in(UNROUTED)))}


def _check_consent(request: FinancingRequest, chosen: list[Match]) -> None:
    wanted = [m.institution_id for m in chosen]
    consenting = consenting_institutions(request.enterprise_id, wanted)
    missing = [i for i in wanted if i not in consenting]
    if missing:
        by_id = {o.id: o for o in db.session.scalars(select(Organisation).where(Organisation.id.in_(missing)))}
        raise ConsentMissing([by_id[i] for i in missing])


def _validated_choice(matches: list[Match], product_ids: list[int], worked: dict[int, Organisation]) -> list[Match]:
    if len(product_ids) > MAX_TARGETS:
        raise TargetRefused(_("最多选择%(n)s个产品", n=MAX_TARGETS))
    by_product = {m.product_id: m for m in matches}
    chosen = []
    for product_id in product_ids:
        match = by_product.get(product_id)
        if match is None:
            raise TargetRefused(_("所选产品不存在或已下架"))
        if not match.eligible:
            raise TargetRefused(_("所选产品不适合本申请：%(why)s", why=sentences(pick((c.zh, c.en)) for c in match.failures)))
        chosen.append(match)
    institutions = [m.institution_id for m in chosen]
    if len(set(institutions)) != len(institutions):
        raise TargetRefused(_("同一机构只能选择一个产品"))
    again = [worked[i].name for i in institutions if i in worked]
    if again:
        raise TargetRefused(_("%(names)s 已处理过本申请（已拒绝或已退出审查），不能再次选择，请选择其他机构",
                              names=join_list(again)))
    return chosen


def record_submission_statistics(matches: list[Match], targets: list[RequestTarget]) -> None:
    """A submitted request counts as a match for every eligible product, and as an application
    for the products it targets."""
    products.count([m.product_id for m in matches if m.eligible], "matches")
    chosen_versions = {t.product_version_id for t in targets}
    products.count([m.product_id for m in matches if m.version_id in chosen_versions], "applications")
