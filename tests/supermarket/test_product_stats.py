"""Per-product statistics: the server-drawn SVG bar chart and the institution's stats page."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest

from marketplace.formatting import today_shanghai
from marketplace.supermarket import services
from marketplace.supermarket.charts import bar_chart, nice_ceiling
from tests.supermarket.products import lender, make_product

BAR = re.compile(r'<rect class="bar" x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)" '
                 r'[^>]*data-label="([^"]*)" data-value="([^"]*)"><title>([^<]*)</title></rect>')


def bars(svg: str) -> list[tuple[float, float, float, float, str, str, str]]:
    return [(float(x), float(y), float(w), float(h), label, value, title)
            for x, y, w, h, label, value, title in BAR.findall(svg)]


def test_bar_heights_are_proportional_to_the_values():
    values = [3, 0, 12, 7, 1]
    svg = str(bar_chart([(f"d{i}", v) for i, v in enumerate(values)], title="浏览"))
    drawn = bars(svg)
    assert [b[4] for b in drawn] == ["d0", "d1", "d2", "d3", "d4"]
    assert [b[5] for b in drawn] == ["3", "0", "12", "7", "1"]
    heights = [b[3] for b in drawn]
    unit = heights[2] / 12
    for height, value in zip(heights, values, strict=True):
        assert height == pytest.approx(value * unit, abs=0.01)
    plot = float(re.search(r'data-plot-height="([\d.]+)"', svg).group(1))
    scale = float(re.search(r'data-scale="([\d.]+)"', svg).group(1))
    assert scale == 20 and heights[2] == pytest.approx(plot * 12 / 20, abs=0.01)
    # bars stand on one baseline, left to right, without overlapping
    assert len({round(b[1] + b[3], 2) for b in drawn}) == 1
    assert all(a[0] + a[2] < b[0] for a, b in zip(drawn, drawn[1:], strict=False))


def test_a_chart_is_accessible_and_escapes_its_text():
    svg = str(bar_chart([("<b>", 2), ("x&y", Decimal("1.5"))], title="每日<浏览>", description="说明", unit="次"))
    assert svg.startswith("<svg") and 'role="img"' in svg and "aria-labelledby=" in svg
    assert re.search(r"<title id=\"chart-\d+-title\">每日&lt;浏览&gt;</title>", svg)
    assert re.search(r"<desc id=\"chart-\d+-desc\">说明</desc>", svg)
    assert "<b>" not in svg and "&lt;b&gt;: 2次" in svg and "x&amp;y: 1.5次" in svg


def test_an_all_zero_or_empty_series_draws_flat_bars_without_dividing_by_zero():
    drawn = bars(str(bar_chart([("a", 0), ("b", 0)], title="t")))
    assert [b[3] for b in drawn] == [0, 0]
    assert bars(str(bar_chart([], title="t"))) == []


@pytest.mark.parametrize(("value", "ceiling"), [(0, 1), (1, 1), (3, 5), (7, 10), (12, 20), (24, 25), (101, 200)])
def test_the_value_axis_ends_on_a_round_number(value, ceiling):
    assert nice_ceiling(value) == ceiling


def test_thirty_days_get_a_readable_number_of_labels_ending_on_the_latest():
    svg = str(bar_chart([(f"05-{d:02d}", d) for d in range(1, 31)], title="t"))
    labels = re.findall(r'<text x="[\d.]+" y="\d+" text-anchor="middle"[^>]*>([^<]+)</text>', svg)
    assert 5 <= len(labels) <= 9 and labels[-1] == "05-30"


def test_the_stats_page_shows_totals_the_offer_note_and_a_30_day_chart(app, client, login):
    owner = lender()
    product = make_product(app, owner)
    today = today_shanghai()
    with app.test_request_context():
        services.count([product.id], "views", day=today, by=12)
        services.count([product.id], "views", day=today - timedelta(days=3), by=6)
        services.count([product.id], "matches", day=today - timedelta(days=3), by=4)
        services.count([product.id], "applications", day=today, by=2)
        services.count([product.id], "views", day=today - timedelta(days=45), by=100)  # before the chart
    login(owner)
    response = client.get(f"/institution/products/{product.id}/stats")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert re.search(r'data-testid="total-views">118<', page)
    assert re.search(r'data-testid="total-matches">4<', page)
    assert re.search(r'data-testid="total-applications">2<', page)
    assert re.search(r'data-testid="total-offers">0<', page) and re.search(r'data-testid="total-acceptances">0<', page)
    assert re.search(r'data-testid="median-turnaround">—<', page)  # no offer yet (issue 16: no "上线后统计")
    assert "上线后统计" not in page and "从推送到报价的天数中位数" in page

    charts = re.findall(r"<svg.*?</svg>", page, flags=re.S)
    assert len(charts) == 3  # views, matches, applications
    views = bars(charts[0])
    assert len(views) == 30 and views[-1][4] == f"{today:%m-%d}"
    assert views[-1][5] == "12" and views[-4][5] == "6" and sum(int(b[5]) for b in views) == 18
    assert views[-1][3] == pytest.approx(2 * views[-4][3], abs=0.01)
    assert "近30天每日浏览次数" in charts[0]
    # the same numbers in a table under the charts
    table = page[page.index('data-testid="stats-table"'):]
    assert re.search(rf"<th scope=\"row\">{today:%Y-%m-%d}</th>\s*<td class=\"num\">12</td>"
                     r"<td class=\"num\">0</td><td class=\"num\">2</td>", table)


def test_a_product_without_statistics_shows_zeros(app, client, login):
    owner = lender()
    product = make_product(app, owner, state="draft")
    login(owner)
    page = client.get(f"/institution/products/{product.id}/stats").get_data(as_text=True)
    assert re.search(r'data-testid="total-views">0<', page)
    assert all(b[3] == 0 for svg in re.findall(r"<svg.*?</svg>", page, flags=re.S) for b in bars(svg))


def test_large_values_get_a_left_margin_wide_enough_for_their_axis_labels():
    import re

    from marketplace.supermarket.charts import bar_chart

    svg = str(bar_chart([("2026-01", 1_500_000), ("2026-02", 900_000)], title="流入"))
    label_x = min(float(x) for x in re.findall(r'<text x="([\d.]+)"[^>]*text-anchor="end"', svg))
    assert "2,000,000" in svg and label_x >= 6.5 * len("2,000,000")
