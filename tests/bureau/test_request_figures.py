"""The dashboard's kept rows (issue 13's 200 ms target): the per-request figures rows kept at
commit and the stay-length histograms kept as stays close agree with a rebuild from the records;
percentiles read from the histograms stay within a bucket's half-width of the exact ones; a
range's partial edge months are read from the stays themselves."""

from __future__ import annotations

import math
import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from marketplace.accounts.models import Organisation
from marketplace.bureau import kept, stay_lengths
from marketplace.bureau.dashboard import figures
from marketplace.bureau.models import (
    RequestDeclineFigures,
    RequestFigures,
    RequestInstitutionFigures,
    RequestStay,
    StayLength,
)
from marketplace.extensions import db
from tests.loans.helpers import accepted, disbursed


def _figures_rows():
    return sorted(tuple(getattr(row, c) for c in ("request_id", "region_code", "amount", "classification",
                                                   "verified", "routed", "offered", "financed", "financed_on",
                                                   "financed_amount"))
                  for row in db.session.scalars(select(RequestFigures)))


def _institution_rows():
    return sorted(tuple(row) for row in db.session.execute(select(
        RequestInstitutionFigures.request_id, RequestInstitutionFigures.institution_id,
        RequestInstitutionFigures.routed, RequestInstitutionFigures.offered, RequestInstitutionFigures.declined,
        RequestInstitutionFigures.financed, RequestInstitutionFigures.financed_amount)))


def _histogram():
    return sorted(tuple(row) for row in db.session.execute(select(
        StayLength.region_prefix, StayLength.month, StayLength.state, StayLength.institution_id, StayLength.bucket,
        StayLength.n)))


def test_rows_kept_through_the_services_equal_a_rebuild(app, ctx):
    deal = accepted(app)
    loan = disbursed(app, deal)
    db.session.commit()  # the figures rows are computed before the commit
    row = db.session.get(RequestFigures, deal.request.id)
    assert (row.verified, row.routed, row.offered, row.financed) == (True, True, True, True)
    assert row.financed_on == loan.disbursed_on and row.financed_amount == loan.amount
    assert row.amount == deal.request.amount and row.classification == "excellent"
    bank = deal.offer.institution_id
    assert [(r, o, f, a) for request_id, institution_id, r, o, _declined, f, a in _institution_rows()
            if (request_id, institution_id) == (deal.request.id, bank)] == [(1, True, 1, loan.amount)]
    kept_rows, kept_institutions, kept_histogram = _figures_rows(), _institution_rows(), _histogram()
    assert kept_histogram, "closed stays were counted"
    kept.rebuild()
    assert _figures_rows() == kept_rows
    assert _institution_rows() == kept_institutions
    assert _histogram() == kept_histogram
    everywhere = db.session.merge(Organisation(kind="bureau", name="全国", region_code="000000"))
    today = date.today()
    performance = {p.institution_id: p for p in figures(everywhere, today - timedelta(days=2), today).institutions}
    assert (performance[bank].routed, performance[bank].offered, performance[bank].financed) == (1, 1, 1)
    assert performance[bank].financed_amount == loan.amount


def test_a_reader_in_the_same_transaction_sees_its_own_transitions(app, ctx):
    deal = accepted(app)  # no commit
    bureau = db.session.merge(Organisation(kind="bureau", name="全国", region_code="000000"))
    today = date.today()
    stages = {s.stage: s.count for s in figures(bureau, today - timedelta(days=2), today + timedelta(days=2)).funnel}
    assert stages["posted"] >= 1 and stages["offered"] >= 1
    assert db.session.get(RequestFigures, deal.request.id).offered


def _exact(values: list[int], fraction: float) -> float:
    values = sorted(values)
    position = fraction * (len(values) - 1)
    low = int(position)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (position - low)


def test_histogram_percentiles_are_within_a_half_bucket_of_the_exact_ones():
    rng = random.Random(13)
    half_width = math.exp(0.5 / stay_lengths.BUCKETS_PER_UNIT) - 1  # 6.5 %
    for _ in range(50):
        values = [int(rng.lognormvariate(10, 1.5)) + 60 for _ in range(rng.randint(1, 400))]
        counts: dict[int, int] = {}
        for value in values:
            counts[stay_lengths.bucket_of(value)] = counts.get(stay_lengths.bucket_of(value), 0) + 1
        pairs = sorted(counts.items())
        for fraction in (0.5, 0.9):
            read = stay_lengths._percentile(pairs, len(values), fraction)
            assert abs(read - _exact(values, fraction)) <= _exact(values, fraction) * half_width + 1


def _stay(region: str, state: str, entered: datetime, seconds: int) -> RequestStay:
    from tests.bureau.test_bureau_dashboard import _posted_requests

    request_id = db.session.scalar(select(RequestFigures.request_id).limit(1))
    if request_id is None:
        _posted_requests("320500", [(region, "excellent", ["submitted"])])
        request_id = db.session.scalar(select(RequestFigures.request_id).limit(1))
    stay = RequestStay(request_id=request_id, state=state, region_code=region, entered_at=entered,
                       left_at=entered + timedelta(seconds=seconds), seconds=seconds)
    db.session.add(stay)
    db.session.flush()
    stay_lengths.count([stay])
    return stay


def test_whole_months_come_from_the_histograms_and_edges_from_the_stays(ctx):
    bureau = db.session.merge(Organisation(kind="bureau", name="苏州局", region_code="320500"))
    at = lambda day: datetime(2026, day.month, day.day, 4, tzinfo=UTC)  # noqa: E731  (noon in Beijing)
    _stay("320505", "bank_review", at(date(2026, 3, 20)), 3_600)  # edge month, outside the range
    _stay("320505", "bank_review", at(date(2026, 3, 25)), 7_200)  # edge month, inside
    _stay("320506", "bank_review", at(date(2026, 4, 10)), 10_800)  # whole month
    _stay("320100", "bank_review", at(date(2026, 4, 10)), 99_999)  # Nanjing: not Suzhou's
    _stay("320505", "bank_review", at(date(2026, 5, 3)), 14_400)  # edge month, inside
    _stay("320505", "bank_review", at(date(2026, 5, 9)), 18_000)  # edge month, outside
    rows = stay_lengths.percentiles(bureau, date(2026, 3, 22), date(2026, 5, 5))
    bank_review = [r for r in rows if r.state == "bank_review"]
    assert len(bank_review) == 1 and bank_review[0].count >= 3
    assert abs(bank_review[0].median_seconds - 10_800) <= 10_800 * 0.07
    only_april = stay_lengths.percentiles(bureau, date(2026, 4, 1), date(2026, 4, 30))
    assert [r.count for r in only_april if r.state == "bank_review"] == [1]


def test_an_empty_region_reads_nothing(ctx):
    bureau = db.session.merge(Organisation(kind="bureau", name="无锡局", region_code="320200"))
    assert stay_lengths.percentiles(bureau, date(2026, 1, 15), date(2026, 3, 15)) == []
    assert figures(bureau, date(2026, 1, 1), date(2026, 2, 1)).funnel[0].amount == Decimal(0)


def _monthly():
    from marketplace.bureau.models import MonthlyFigures

    return sorted((r.region_prefix, r.month, r.metric, r.key, r.n, r.amount)
                  for r in db.session.scalars(select(MonthlyFigures)) if r.n or r.amount)


def test_declines_kept_per_reason_equal_a_rebuild_and_the_dashboard_counts_them(app, ctx):
    from tests.bureau.test_bureau_dashboard_views import declined

    declined(app, "cash_flow")
    declined(app, "policy")
    declined(app, "policy")
    db.session.commit()
    kept_declines = sorted((r.request_id, r.reason_code, r.n) for r in db.session.scalars(select(RequestDeclineFigures)))
    assert sorted(code for _request, code, _n in kept_declines) == ["cash_flow", "policy", "policy"]
    kept_counts = _monthly()
    assert sum(row[4] for row in kept_counts if row[0] == "" and row[2] == "reason:policy") == 2
    kept.rebuild()
    assert sorted((r.request_id, r.reason_code, r.n) for r in db.session.scalars(select(RequestDeclineFigures))) \
        == kept_declines
    assert _monthly() == kept_counts
    everywhere = db.session.merge(Organisation(kind="bureau", name="全国", region_code="000000"))
    today = date.today()
    assert figures(everywhere, today - timedelta(days=2), today).decline_reasons == [("policy", 2), ("cash_flow", 1)]
    assert figures(everywhere, today - timedelta(days=400), today).decline_reasons == [("policy", 2), ("cash_flow", 1)]
    from marketplace.financing.models import FinancingRequest

    for request in db.session.scalars(select(FinancingRequest).where(FinancingRequest.submitted_at.is_not(None))):
        request.submitted_at -= timedelta(days=70)  # into a whole month of the range: read from the sums
    db.session.flush()
    kept.rebuild()
    assert any(row[2] == "reason:policy" and row[1] < f"{today:%Y-%m}" for row in _monthly())
    assert figures(everywhere, today - timedelta(days=400), today).decline_reasons == [("policy", 2), ("cash_flow", 1)]


def test_monthly_counts_kept_through_the_services_equal_a_rebuild(app, ctx):
    deal = accepted(app)
    disbursed(app, deal)
    db.session.commit()
    kept_counts = _monthly()
    assert [row for row in kept_counts if row[0] == "" and row[2] == "posted"][0][4:] == (1, deal.request.amount)
    kept.rebuild()
    assert _monthly() == kept_counts


def test_whole_months_from_the_kept_counts_equal_the_rows_alone(ctx, monkeypatch):
    """Requests spread over four months; a range with partial months at both ends gives the same
    figures as the same range read from the rows alone."""
    from marketplace.bureau import dashboard, periods
    from marketplace.financing.models import FinancingRequest
    from tests.bureau.test_bureau_dashboard import ROWS, _posted_requests

    bureau = _posted_requests("320000", ROWS * 3)
    moments = [datetime(2026, month, day, 3, tzinfo=UTC) for month in (3, 4, 5, 6) for day in (2, 16, 28)]
    for request, moment in zip(db.session.scalars(select(FinancingRequest).order_by(FinancingRequest.id)),
                               moments, strict=False):
        request.submitted_at = moment
    db.session.flush()
    kept.rebuild()
    start, end = date(2026, 3, 10), date(2026, 6, 20)
    assert periods.split(start, end).first_month == "2026-04"
    split = figures(bureau, start, end)
    monkeypatch.setattr(dashboard, "split", lambda s, e: periods.Periods(None, None, ((s, e + timedelta(days=1)),)))
    rows_only = figures(bureau, start, end)
    assert split.funnel == rows_only.funnel and split.classification_mix == rows_only.classification_mix
    assert split.institutions == rows_only.institutions and split.financed_by_month == rows_only.financed_by_month
    assert split.decline_reasons == rows_only.decline_reasons
    assert {s.stage: s.count for s in split.funnel}["posted"] == 10  # of the 12: March 16 to June 16
