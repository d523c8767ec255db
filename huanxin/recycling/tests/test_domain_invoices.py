from __future__ import annotations

import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from huanxin.recycling.domain import invoices as domain

D = datetime.date


@pytest.mark.parametrize(
    ("day", "start"),
    [
        (D(2025, 6, 15), D(2024, 6, 16)),
        (D(2025, 3, 1), D(2024, 3, 2)),
        (D(2024, 2, 29), D(2023, 3, 1)),  # 12 months before 29 February is 28 February
        (D(2025, 1, 31), D(2024, 2, 1)),
    ],
)
def test_the_12_months_ending_on_a_day(day, start):
    assert domain.earliest_window_start(day) == start
    assert domain.window_containing(start) == day


def test_months_before_clamps_to_the_shorter_month():
    assert domain.months_before(D(2025, 3, 31), 1) == D(2025, 2, 28)
    assert domain.months_before(D(2024, 3, 31), 1) == D(2024, 2, 29)
    assert domain.months_before(D(2025, 1, 15), -12) == D(2026, 1, 15)


def test_the_heaviest_window_counts_only_sales_within_12_months_of_the_day():
    sales = [(D(2024, 6, 15), 100), (D(2024, 6, 16), 10), (D(2025, 6, 1), 1)]
    # The window ending on 2025-06-15 starts 2024-06-16: the sale of 2024-06-15 has left it.
    assert domain.heaviest_window_fen(sales, D(2025, 6, 15)) == 11


def test_a_backdated_sale_must_fit_a_window_that_also_holds_later_sales():
    # Sales after the day fall in windows that contain the day: the heaviest such window counts.
    sales = [(D(2024, 1, 10), 300), (D(2024, 12, 20), 500), (D(2025, 3, 1), 700)]
    # The 12 months 2024-03-02 … 2025-03-01 contain 2024-06-01 and hold 500 + 700; those ending on the day hold 300.
    assert domain.heaviest_window_fen(sales, D(2024, 6, 1)) == 1_200
    # A later sale more than 12 months away shares no window with the day.
    assert domain.heaviest_window_fen([(D(2025, 6, 1), 900)], D(2024, 6, 1)) == 0
    assert domain.heaviest_window_fen([(D(2025, 5, 31), 900)], D(2024, 6, 1)) == 900


def test_no_sales_weigh_nothing():
    assert domain.heaviest_window_fen([], D(2025, 1, 1)) == 0


def test_month_bounds():
    assert domain.month_bounds(D(2024, 2, 10)) == (D(2024, 2, 1), D(2024, 2, 29))
    assert domain.month_bounds(D(2025, 12, 31)) == (D(2025, 12, 1), D(2025, 12, 31))


@pytest.mark.parametrize(
    ("held", "expected"),
    [
        ({"hazardous_waste"}, "危险废物经营许可证"),
        ({"vehicle_scrapping", "business"}, "报废机动车回收拆解企业资质认定证书"),
        ({"business", "renewable_recycling"}, "营业执照及再生资源回收经营者备案"),
        ({"renewable_recycling"}, None),  # the filing needs the business registration beside it
        ({"business"}, None),
        ({"weee_dismantling"}, None),
        (set(), None),
    ],
)
def test_the_three_qualifications(held, expected):
    assert domain.qualification_met(held) == expected


def test_invoice_numbers_carry_issuer_year_and_sequence():
    assert domain.invoice_number("91110105MA00000017", 2025, 42) == "FX91110105MA000000172025000042"


def test_items_are_checked_line_by_line_with_field_paths():
    items, problems = domain.validate_items(
        [{"name": " 废 钢 ", "weight_g": 1000, "price_fen": 500}, {"name": "", "weight_g": 0, "price_fen": True}]
    )
    assert items == [domain.Item("废 钢", 1000, 500)]
    assert [(p.field, p.code) for p in problems] == [
        ("items[1].name", "item_name_required"),
        ("items[1].weight_g", "invalid_weight"),
        ("items[1].price_fen", "invalid_price"),
    ]
    assert domain.validate_items([])[1][0].code == "items_required"


def test_the_tax_answer_is_read_with_chinese_headers_and_every_bad_row_named():
    content = (
        "我方发票号码,数电发票号码\n"
        "FX1,12345678901234567890\n"
        "FX2,123\n"
        "FX1,09876543210987654321\n"
        ",12345678901234567899\n"
    ).encode("utf-8-sig")
    rows, errors = domain.parse_tax_answer(content)
    assert rows == [domain.TaxAnswerRow(2, "FX1", "12345678901234567890")]
    assert [(e.line, e.code) for e in errors] == [(3, "invalid_tax_number"), (4, "duplicate_row"), (5, "required")]


def test_a_tax_answer_without_its_columns_or_rows_is_refused():
    assert domain.parse_tax_answer(b"a,b\n")[1][0].code == "missing_column"
    assert domain.parse_tax_answer(b"number,tax_number\n")[1][0].code == "empty_file"
    assert domain.parse_tax_answer("number,tax_number\nFX1,12345678901234567890\n".encode("gb18030"))[0]


def test_parse_month():
    assert domain.parse_month("2025-02") == D(2025, 2, 1)
    assert domain.parse_month("2025-13") is None
    assert domain.parse_month("202502") is None


def _brute_force(sales, day):
    """Every 12-month window containing ``day``, tried one start day at a time."""
    start, best = domain.earliest_window_start(day), 0
    while start <= day:
        end = domain.window_containing(start)
        best = max(best, sum(fen for d, fen in sales if start <= d <= end))
        start += datetime.timedelta(days=1)
    return best


@settings(max_examples=60)
@given(
    st.lists(st.tuples(st.integers(-400, 400), st.integers(1, 1_000)), max_size=8),
    st.dates(D(2024, 1, 1), D(2026, 12, 31)),
)
def test_the_heaviest_window_is_the_heaviest_of_every_window_containing_the_day(offsets, day):
    sales = [(day + datetime.timedelta(days=offset), fen) for offset, fen in offsets]
    assert domain.heaviest_window_fen(sales, day) == _brute_force(sales, day)
