"""The quote and scrap-check commands follow POLICY.md: one JSON line per input, exit 2 on malformed input."""

import io
import json
import subprocess
import sys

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def run(*args, stdin=None):
    out = io.StringIO()
    old_stdin = sys.stdin
    if stdin is not None:
        sys.stdin = io.StringIO(stdin)
    try:
        call_command(*args, stdout=out)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    finally:
        sys.stdin = old_stdin
    return code, [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]


@pytest.mark.parametrize(
    ("programme", "payload", "eligible", "amount_fen"),
    [
        (
            "cn-appliance-2024",
            {"category": "fridge", "price_fen": 400000, "energy_grade": 1, "water_grade": None},
            True,
            80000,
        ),
        (
            "cn-appliance-2024",
            {"category": "washer", "price_fen": 300000, "energy_grade": 3, "water_grade": None},
            False,
            0,
        ),
        (
            "cn-digital-2025",
            {"category": "phone", "price_fen": 499900, "energy_grade": None, "water_grade": None},
            True,
            50000,
        ),
        (
            "weee-fund-2021",
            {
                "processed_year": 2022,
                "units": [
                    {"category": "tv", "subtype": "lcd", "screen_in": 42, "count": 100},
                    {"category": "fridge", "volume_l": 200, "count": 50},
                ],
            },
            True,
            725000,
        ),
        (
            "cn-reverse-invoice-2024",
            {"sale_fen": 50_000_000, "seller_prior_12m_fen": 400_000_000, "seller_month_fen": 50_000_000},
            True,
            50_000_000,
        ),
    ],
)
def test_policy_examples_through_the_command(programme, payload, eligible, amount_fen):
    code, lines = run("quote", programme, "--input", json.dumps(payload))
    assert code == 0
    assert len(lines) == 1
    assert lines[0]["eligible"] is eligible
    assert lines[0]["amount_fen"] == amount_fen
    assert lines[0]["programme"] == programme
    assert all({"code", "passed", "message"} <= set(r) for r in lines[0]["reasons"])


def test_reverse_invoice_details_carry_vat_and_income_tax():
    payload = {"sale_fen": 50_000_000, "seller_prior_12m_fen": 0, "seller_month_fen": 50_000_000}
    _, [decision] = run("quote", "cn-reverse-invoice-2024", "--input", json.dumps(payload))
    assert decision["details"] == {"vat_fen": 500_000, "pit_fen": 250_000}


def test_batch_mode_gives_one_line_per_input_and_exit_2_if_any_is_malformed(tmp_path):
    cases = tmp_path / "cases.jsonl"
    cases.write_text(
        '{"category": "tv", "price_fen": 500000, "energy_grade": 1, "water_grade": null}\n'
        "\n"
        '{"category": "tv", "price_fen": -1, "energy_grade": 1, "water_grade": null}\n'
        '{"category": "spaceship", "price_fen": 100, "energy_grade": 1, "water_grade": null}\n',
        encoding="utf-8",
    )
    code, lines = run("quote", "cn-appliance-2025", "--file", str(cases))
    assert code == 2
    assert lines[0]["amount_fen"] == 100000
    assert lines[1]["error"]["field"] == "price_fen"
    assert lines[2]["error"]["field"] == "category"


@pytest.mark.parametrize(
    ("programme", "category"), [("cn-appliance-2024", "dishwasher"), ("cn-digital-2025", "smart_glasses")]
)
def test_an_uncovered_category_exits_0_with_an_ineligible_decision(programme, category):
    code, [decision] = run("quote", programme, "--input", json.dumps({"category": category, "price_fen": 200000}))
    assert code == 0
    assert (decision["eligible"], decision["amount_fen"]) == (False, 0)
    assert [(r["code"], r["passed"]) for r in decision["reasons"]] == [("category_not_covered", False)]


def test_input_from_stdin():
    code, [decision] = run(
        "quote",
        "cn-digital-2025",
        "--input",
        "-",
        stdin='{"category": "tablet", "price_fen": 200000, "energy_grade": null, "water_grade": null}',
    )
    assert code == 0
    assert decision["amount_fen"] == 30000


@pytest.mark.parametrize(
    ("args", "error_code", "field"),
    [
        (("quote", "no-such-programme", "--input", "{}"), "unknown_programme", "programme"),
        (("quote", "cn-appliance-2025", "--input", "{not json"), "invalid_json", "input"),
        (("quote", "cn-appliance-2025", "--input", "[1, 2]"), "invalid_type", "input"),
        (("quote", "cn-appliance-2025", "--input", '{"category": "tv"}'), "required", "price_fen"),
        (
            (
                "quote",
                "cn-car-scrap-2024",
                "--input",
                '{"old_vehicle": {"fuel": "gasoline", "registered_on": "2009-02-30"}}',
            ),
            "invalid_date",
            "old_vehicle.registered_on",
        ),
    ],
)
def test_malformed_input_exits_2_with_the_error_object(args, error_code, field):
    code, [line] = run(*args)
    assert code == 2
    assert set(line) == {"error"}
    assert line["error"]["code"] == error_code
    assert line["error"]["field"] == field
    assert line["error"]["message"]


def test_scrap_check_command():
    payload = {
        "vehicle_type": "private_small",
        "registered_on": "2000-01-01",
        "as_of": "2026-01-01",
        "mileage_km": 650000,
        "missed_inspection_cycles": 0,
        "passes_safety": True,
        "passes_emission": True,
    }
    code, [result] = run("vehicles", "scrap-check", "--input", json.dumps(payload))
    assert code == 0
    assert result["must_scrap"] is False
    assert result["service_life_years"] is None
    assert result["guide_mileage_km"] == 600000
    assert result["guide_mileage_reached"] is True


def test_scrap_check_malformed_input_exits_2():
    code, [line] = run("vehicles", "scrap-check", "--input", '{"vehicle_type": "rocket"}')
    assert code == 2
    assert line["error"]["field"]


def test_the_console_command_prints_no_traceback_and_exits_2(tmp_path):
    import os

    # A fresh installation with no database yet: the command still answers from the shipped catalogue.
    env = {**os.environ, "HUANXIN_VAR_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    completed = subprocess.run(
        [sys.executable, "-m", "huanxin", "quote", "cn-appliance-2025", "--input", '{"category": 5}'],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )
    assert completed.returncode == 2
    assert "Traceback" not in completed.stderr + completed.stdout
    assert json.loads(completed.stdout.strip().splitlines()[-1])["error"]["code"]
