"""The regional dashboard's figures (marketplace.bureau.dashboard). Smoke level so far: the
queries run on PostgreSQL and an empty region gives zeros; the known-dataset tests are still to
be written (see /work/i18n/dashboard-report.md)."""

from datetime import date
from decimal import Decimal

from marketplace.bureau.dashboard import CLASSES, FUNNEL_STAGES, _percentile, figures
from tests.factories import OrganisationFactory


def test_empty_region_gives_zero_in_every_stage_and_class(ctx):
    bureau = OrganisationFactory(kind="bureau", region_code="320500")
    result = figures(bureau, date(2026, 1, 1), date(2026, 12, 31))
    assert [s.stage for s in result.funnel] == list(FUNNEL_STAGES)
    assert all(s.count == 0 and s.amount == Decimal(0) for s in result.funnel)
    assert result.classification_mix == {name: (0, Decimal(0)) for name in CLASSES}
    assert result.turnaround == [] and result.decline_reasons == [] and result.institutions == []
    assert result.financed_by_month == []


def test_python_percentile_matches_percentile_cont():
    assert _percentile([1, 2, 3, 4], 0.5) == 2.5
    assert _percentile([10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 0.9) == 91.0
    assert _percentile([7], 0.9) == 7
