"""Who oversees residents' claims and sales: reviewers, supervisors, auditors and administrators, not the
finance officers who pay the merchants (settlement shows them what they pay)."""

import pytest

from huanxin.conftest import api_client_for, client_for
from huanxin.subsidies import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def claimed(scene):
    return services.claim_qualification(actor=scene.resident(), programme_code="cn-appliance-2026", category="fridge")


def test_a_finance_officer_reads_no_residents_claims_or_sales(scene, claimed):
    finance = api_client_for(scene.personas.finance)
    assert finance.get("/api/v1/subsidies/qualifications").json() == []
    assert finance.get(f"/api/v1/subsidies/qualifications/{claimed.pk}").status_code == 404
    for path in ("/subsidies/search/", "/subsidies/enrolments/", "/subsidies/holds/"):
        assert client_for(scene.personas.finance).get(path).status_code == 403, path


def test_a_finance_officer_watches_the_budget_burn_it_holds(scene, claimed):
    """The burn board is budgets by district and spend by category, with no resident's data: the finance
    officers who hold the budget read it."""
    burn = api_client_for(scene.personas.finance).get("/api/v1/subsidies/burn")
    assert burn.status_code == 200
    assert [(row["category"], row["held_fen"]) for row in burn.json()] == [("fridge", claimed.held_fen)]
    page = client_for(scene.personas.finance).get("/subsidies/board/")
    assert page.status_code == 200
    assert "资金看板" in page.content.decode()
    # Without links to the resident search and enrolment review, which they cannot open.
    assert "/subsidies/search/" not in page.content.decode()


def test_a_reviewer_still_reads_them(scene, claimed):
    reviewer = api_client_for(scene.personas.reviewer)
    assert [q["id"] for q in reviewer.get("/api/v1/subsidies/qualifications").json()] == [claimed.pk]
    board = client_for(scene.personas.reviewer).get("/subsidies/board/")
    assert board.status_code == 200
    assert "/subsidies/search/" in board.content.decode()
