"""一站式 (measure 十五): a dealer prepares a resident's application with consent; the resident confirms it with their
own bank account before it is submitted; it is in their own list; the preparer never decides it."""

import pytest

from huanxin.accounts.models import OrganisationKind, Role
from huanxin.conftest import api_client_for, make_member, make_organisation
from huanxin.core.errors import ConflictError, ForbiddenError
from huanxin.vehicles import application_queries as car_queries
from huanxin.vehicles import application_services as car
from huanxin.vehicles.models import CarApplication
from huanxin.vehicles.tests.car_factories import MODEL, car_programme, new_car, scrapped_car

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene(personas):
    car_programme()
    old = scrapped_car(personas.admin, personas.consumer_person, certificate="BF-PREP-1")
    vin = new_car(personas.admin, personas.consumer_person)
    dealer_org = make_organisation(OrganisationKind.CAR_DEALER, "110105", name="朝阳汽车")
    dealer = make_member(Role.CAR_DEALER, dealer_org)
    return personas, old, vin, dealer


def _prepare(actor, personas, old, vin):
    return car.prepare_application(
        actor=actor,
        resident_id=personas.consumer_person.reveal_resident_id(),
        consent_note="授权书 SQ-001",
        programme_code="cn-car-scrap-2026",
        old_vin=old.vin,
        new_vin=vin,
        certificate_number="BF-PREP-1",
        new_invoice_number="FP9",
        new_price_fen=15_000_000,
        new_energy="nev",
        new_model_code=MODEL,
    )


def test_a_dealer_prepares_and_the_resident_confirms(scene, sms_outbox, django_capture_on_commit_callbacks):
    personas, old, vin, dealer = scene
    with django_capture_on_commit_callbacks(execute=True):
        application = _prepare(dealer, personas, old, vin)
    assert application.status == "prepared"
    assert application.payee is None
    assert application.prepared_by == dealer
    assert any(purpose == "car_prepared" for _, _, purpose in sms_outbox)
    assert list(car_queries.own_applications(personas.consumer)) == [application]
    assert car_queries.clock(application).current is None
    with pytest.raises(ConflictError):
        car.accept(actor=personas.reviewer, application=application)
    with pytest.raises(ForbiddenError):
        car.confirm_application(
            actor=personas.other_consumer,
            application=application,
            bank_name="中国银行",
            account_number="62166001000099",
        )
    with pytest.raises(ForbiddenError):
        car.confirm_application(
            actor=dealer, application=application, bank_name="中国银行", account_number="62166001000099"
        )
    application.refresh_from_db()
    assert application.status == "prepared"
    application = car.confirm_application(
        actor=personas.consumer, application=application, bank_name="中国银行", account_number="6216600100001234567"
    )
    assert application.status == "submitted"
    assert application.payee is not None
    assert car_queries.clock(application).current is not None
    # The dealer sees what they prepared; the page and API show it as prepared.
    body = api_client_for(dealer).get(f"/api/v1/vehicles/applications/{application.pk}").json()
    assert body["prepared"] is True


def test_only_dealers_and_scrappers_prepare_and_a_preparer_never_decides(scene):
    personas, old, vin, _dealer = scene
    for actor in (personas.clerk, personas.consumer, personas.reviewer, personas.dismantler, personas.outsider):
        with pytest.raises(ForbiddenError):
            _prepare(actor, personas, old, vin)
    assert not CarApplication.objects.exists()
    scrapper_org = make_organisation(OrganisationKind.VEHICLE_SCRAPPER, "110105", name="朝阳报废")
    scrapper = make_member(Role.DISMANTLER, scrapper_org)
    application = _prepare(scrapper, personas, old, vin)
    application = car.confirm_application(
        actor=personas.consumer, application=application, bank_name="中国银行", account_number="6216600100001234567"
    )
    # A reviewer who prepared it (a second hat) is refused.
    CarApplication.objects.filter(pk=application.pk).update(prepared_by=personas.reviewer)
    application.refresh_from_db()
    with pytest.raises(ForbiddenError) as caught:
        car.accept(actor=personas.reviewer, application=application)
    assert caught.value.code == "car_review_prepared"
