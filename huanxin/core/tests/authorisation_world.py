"""The world the authorisation matrix runs in: the personas, and one of every object a route names, owned by the
first organisation of its kind (朝阳家电, a merchant in Chaoyang, 110105) or its residents.

Built once per test module (see ``test_route_authorisation.py``) and rolled back when the module ends.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.test import Client
from django.utils import timezone

from huanxin.accounts.models import Licence, Membership, Organisation, OrganisationKind, Person, Role, User
from huanxin.accounts.services import issue_api_token
from huanxin.catalogue import services as catalogue_services
from huanxin.catalogue.models import ProductModel
from huanxin.catalogue.tests.files import CHINESE_HEADER, csv_bytes
from huanxin.conftest import Personas, make_member, make_organisation, valid_resident_id, valid_uscc
from huanxin.core.tests.authorisation_matrix import TOKEN_HOLDERS
from huanxin.policy.models import MeasureUnit, ResponsibleUnit, RuleSetVersion
from huanxin.recycling import network
from huanxin.recycling import services as reverse_invoicing
from huanxin.settlement import services as settlement_services
from huanxin.settlement.models import SettlementPeriod
from huanxin.settlement.tests.conftest import DAY1, after, sell
from huanxin.subsidies import services as subsidies
from huanxin.subsidies.models import RedemptionHold
from huanxin.subsidies.tests.conftest import build_scene
from huanxin.trace import services as trace_services
from huanxin.vehicles import application_services as car_applications
from huanxin.vehicles import scrapping
from huanxin.vehicles import services as vehicle_services
from huanxin.vehicles.tests.car_factories import PNG, car_programme, file_application, new_car, scrapped_car
from huanxin.vehicles.tests.factories import csv_file as vehicle_csv
from huanxin.vehicles.tests.factories import new_vin, registration


@dataclass(frozen=True)
class Persona:
    """Who calls: a signed-in user (a session), an API token, or nobody."""

    name: str
    user: User | None = None
    token: str = ""

    @property
    def by_token(self) -> bool:
        return bool(self.token)


@dataclass
class World:
    """The personas by name and the objects a route's path parameters are filled from."""

    personas: dict[str, Persona]
    sessions: dict[str, str]
    objects: dict[str, Any] = field(default_factory=dict)
    # Texts that only the first organisation's people (and those who oversee them) may read.
    secrets: dict[str, str] = field(default_factory=dict)

    def client(self, persona: Persona) -> Client:
        """A fresh client for one request: a copy of the persona's session cookie or its bearer token, so a
        request that signs out or rotates the session changes nothing for the next cell."""
        if persona.by_token:
            return Client(headers={"Authorization": f"Bearer {persona.token}"})
        client = Client()
        if persona.name in self.sessions:
            from django.conf import settings

            client.cookies[settings.SESSION_COOKIE_NAME] = self.sessions[persona.name]
        return client


def _session_of(user: User) -> str:
    from django.conf import settings

    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def build_world() -> World:
    """Every persona of the matrix and every object its routes name."""
    personas = Personas()
    p = personas
    scene = build_scene(personas, budget_fen=10_000_000)
    Licence.objects.create(
        organisation=p.dismantler_org,
        kind=Licence.Kind.WEEE_DISMANTLING,
        number="京废电处字M-1",
        valid_from=datetime.date(2024, 1, 1),
        valid_until=datetime.date(2030, 12, 31),
    )
    # Members of another organisation of the same kind, in another district.
    haidian_bureau = make_organisation(OrganisationKind.GOVERNMENT, "110108", name="海淀区商务局")
    other_recycler_org = make_organisation(OrganisationKind.RECYCLER, "110108", name="海淀回收")
    other_dismantler_org = make_organisation(OrganisationKind.DISMANTLER, "110108", name="海淀拆解")
    bank = make_organisation(OrganisationKind.BANK, "110102", name="演示银行北京分行")
    # A licensed vehicle-scrapping enterprise (its staff hold the dismantler role).
    scrapper_org = make_organisation(OrganisationKind.VEHICLE_SCRAPPER, "110106", name="丰台报废车")
    Licence.objects.create(
        organisation=scrapper_org,
        kind=Licence.Kind.VEHICLE_SCRAPPING,
        number="京报废车资字M-1",
        valid_from=datetime.date(2020, 1, 1),
    )
    users: dict[str, User | None] = {
        "anonymous": None,
        "outsider": p.outsider,
        "consumer": p.consumer,
        "other_consumer": p.other_consumer,
        "clerk": p.clerk,
        "manager": p.manager,
        "other_clerk": make_member(Role.MERCHANT_CLERK, p.other_merchant),
        "other_manager": make_member(Role.MERCHANT_MANAGER, p.other_merchant),
        "recycler": p.recycler,
        "other_recycler": make_member(Role.RECYCLER, other_recycler_org),
        "dismantler": p.dismantler,
        "other_dismantler": make_member(Role.DISMANTLER, other_dismantler_org),
        "scrapper": make_member(Role.DISMANTLER, scrapper_org),
        "car_dealer": make_member(Role.CAR_DEALER, make_organisation(OrganisationKind.CAR_DEALER, "110105")),
        "declarant": make_member(Role.DECLARANT, make_organisation(OrganisationKind.DECLARING_ENTERPRISE, "110105")),
        "second_hand_dealer": make_member(
            Role.SECOND_HAND_DEALER, make_organisation(OrganisationKind.SECOND_HAND_DEALER, "110105")
        ),
        "inspection_staff": make_member(
            Role.INSPECTION_STAFF, make_organisation(OrganisationKind.INSPECTION_BODY, "110105")
        ),
        "bank_officer": make_member(Role.FINANCE_OFFICER, bank),
        "district_reviewer": p.district_reviewer,
        "other_district_reviewer": make_member(Role.REVIEWER, haidian_bureau, district="110108"),
        "reviewer": p.reviewer,
        # The shared personas have no supervisor; one of the city government.
        "supervisor": make_member(Role.SUPERVISOR, p.government),
        "finance": p.finance,
        "auditor": p.auditor,
        "admin": p.admin,
    }
    personas_by_name = {name: Persona(name, user) for name, user in users.items()}
    # An API token of each role held in an organisation, for that organisation; "dual_token" is a token for the
    # other merchant held by a user who also manages the first one: it must never reach the first.
    tokens: dict[str, tuple[User, Organisation]] = {}
    for name, holder in TOKEN_HOLDERS.items():
        membership = Membership.objects.select_related("user", "organisation").get(user=users[holder])
        assert membership.organisation is not None
        tokens[name] = (membership.user, membership.organisation)
    tokens["dual_token"] = (_member_of_both(p.other_merchant, p.merchant), p.other_merchant)
    for name, (user, organisation) in tokens.items():
        issued = issue_api_token(actor=p.admin, organisation=organisation, name=name, user=user)
        personas_by_name[name] = Persona(name, user, issued.plaintext)
    sessions = {name: _session_of(persona.user) for name, persona in personas_by_name.items() if persona.user}

    # The consumer's own qualification, and a sale with a take-back at the first merchant (made on DAY1, in a
    # period that is closed and paid in a prepared batch).
    qualification = subsidies.claim_qualification(actor=p.consumer, programme_code="cn-appliance-2026", category="tv")
    sale = sell(scene, price_fen=400_000, on=DAY1, serial="SN-MATRIX-SALE")
    settlement_services.ensure_periods(programme=scene.programme, until=DAY1)
    period = SettlementPeriod.objects.get()
    settlement_services.close_period(period=period, now=after(DAY1))
    maker = make_member(Role.FINANCE_OFFICER, p.government)
    batch = settlement_services.prepare_batch(actor=maker, programme=scene.programme)
    taken_back = _sale_with_take_back(scene)
    item = trace_services.commission_take_back(actor=p.clerk, take_back=taken_back.take_back)
    uncommissioned = _sale_with_take_back(scene, serial="SN-MATRIX-TB2").take_back
    hold = _held_sale(scene)
    report = catalogue_services.import_products(
        actor=p.admin,
        file_name="products.csv",
        content=csv_bytes([CHINESE_HEADER, ["美的", "MX-1", "冰箱", "1", "", "", ""]]),
    )
    # A car registered in Chaoyang, from a traffic police import.
    vin = new_vin()
    vehicles_report = vehicle_services.import_registrations(
        actor=p.admin, file_name="vehicles.csv", content=vehicle_csv([registration(vin, owner_id=valid_resident_id())])
    )
    # Another car (a new-energy one), scrapped by the scrapping enterprise: its certificate.
    scrapped_vin, scrapped_owner = new_vin(), valid_resident_id()
    vehicle_services.import_registrations(
        actor=p.admin,
        file_name="scrapped.csv",
        content=vehicle_csv([registration(scrapped_vin, fuel="纯电动", displacement="", owner_id=scrapped_owner)]),
    )
    scrapper = users["scrapper"]
    assert scrapper is not None
    certificate = scrapping.issue_certificate(
        actor=scrapper, enterprise=scrapper_org, vin=scrapped_vin, owner_id_number=scrapped_owner
    )
    # The consumer's car subsidy application (scrap-and-replace) with one evidence file.
    car_programme()
    old_car = scrapped_car(p.admin, p.consumer_person, certificate="BF-MATRIX-1")
    car_new_vin = new_car(p.admin, p.consumer_person)
    car_application = file_application(p.consumer, old_vin=old_car.vin, new_vin=car_new_vin, certificate="BF-MATRIX-1")
    evidence = car_applications.add_evidence(
        actor=p.consumer,
        application=car_application,
        kind="id_card",
        file_name="id.png",
        declared_type="image/png",
        content=PNG,
    )
    # 通州回收 (the recycler) is qualified to reverse-invoice, and issued one invoice to the consumer.
    for kind in (Licence.Kind.BUSINESS, Licence.Kind.RENEWABLE_RECYCLING):
        Licence.objects.create(
            organisation=p.recycler_org, kind=kind, number=f"{kind}-M-1", valid_from=datetime.date(2024, 1, 1)
        )
    reverse_invoice = reverse_invoicing.issue_invoice(
        actor=p.recycler,
        issuer=p.recycler_org,
        seller_name="矩阵卖方",
        seller_id_number=p.consumer_person.reveal_resident_id(),
        items=[{"name": "废钢", "weight_g": 10_000, "price_fen": 5_000}],
    )
    # 通州回收 runs a collection point, receiving under its recycling filing.
    network_site = network.register_site(
        actor=p.recycler,
        organisation=p.recycler_org,
        kind="collection_point",
        name="矩阵回收网点",
        district_code=p.recycler_org.district_id,
        address="矩阵路1号",
        opening_hours="每天 9:00-17:00",
        categories=["tv", "fridge"],
        capacity_per_month=100,
        licence_id=Licence.objects.get(organisation=p.recycler_org, kind=Licence.Kind.RENEWABLE_RECYCLING).pk,
    )
    # The plan's first measure is reported on by the city government's staff.
    unit = MeasureUnit.objects.filter(measure__number=1).select_related("unit").first().unit
    ResponsibleUnit.objects.filter(pk=unit.pk).update(organisation=p.government)
    revocable = issue_api_token(actor=p.admin, organisation=p.merchant, name="待吊销", user=p.clerk).token
    objects = {
        "merchant": p.merchant.pk,
        "other_merchant": p.other_merchant.pk,
        "government": p.government.pk,
        "store": scene.store.pk,
        "product": scene.fridge.pk,
        "programme": scene.programme.code,
        "rule_set": RuleSetVersion.objects.filter(programme=scene.programme)
        .order_by("-version")
        .values_list("version", flat=True)
        .first(),
        "qualification": qualification.pk,
        "qualification_code": qualification.code,
        "sale": sale.pk,
        "period": period.pk,
        "batch": batch.number,
        "take_back": uncommissioned.pk,
        "item": item.code,
        "hold": hold.pk,
        "enrolment": scene.enrolment.pk,
        "import": report.import_id,
        "token": revocable.pk,
        "vin": vin,
        "vehicle_import": vehicles_report.import_id,
        "certificate": certificate.pk,
        "certificate_number": certificate.number,
        "car_application": car_application.pk,
        "reverse_invoice": reverse_invoice.pk,
        "network_site": network_site.pk,
        "car_evidence": evidence.pk,
        "car_old_vin": old_car.vin,
        "car_new_vin": car_new_vin,
        "measure": 1,
        "unit": unit.short_name,
        "tv": scene.tv.pk,
        "resident_id": valid_resident_id(),
        "uscc": valid_uscc(),
        "rule_set_content": RuleSetVersion.objects.filter(programme=scene.programme)
        .order_by("-version")
        .values_list("content", flat=True)
        .first(),
        "new_code": trace_services.new_code(),
        "now": timezone.now().isoformat(),
    }
    # The consumer's name is theirs alone (the personas' residents share a default one).
    Person.objects.filter(pk=p.consumer_person.pk).update(name="欧阳矩阵")
    secrets = {
        "sale serial": "SN-MATRIX-SALE",
        "take-back serial": "SN-MATRIX-TB",
        "held sale serial": "SN-MATRIX-HOLD",
        "resident's name": "欧阳矩阵",
        "merchant's name": p.merchant.name,
        "enrolment contact": scene.enrolment.contact_name,
        "enrolment bank account": scene.enrolment.bank_account_masked,
        "vin": vin,
        "qualification code": qualification.code,
        "item code": item.code,
        "store address": scene.store.address,
        "car application number": car_application.number,
        "scrap certificate number": "BF-MATRIX-1",
    }
    return World(personas_by_name, sessions, objects, secrets)


def _member_of_both(token_merchant: Organisation, other: Organisation) -> User:
    from huanxin.conftest import member_of_two_merchants

    return member_of_two_merchants(token_merchant, other)


def _sale_with_take_back(scene: Any, serial: str = "SN-MATRIX-TB1") -> Any:
    qualification = subsidies.claim_qualification(
        actor=scene.resident(), programme_code="cn-appliance-2026", category="fridge"
    )
    return subsidies.redeem(
        actor=scene.personas.clerk,
        merchant=scene.personas.merchant,
        store_id=scene.store.pk,
        code=qualification.code,
        product_id=scene.fridge.pk,
        serial=serial,
        price_fen=400_000,
        take_back=subsidies.TakeBackInput(category="fridge", condition="damaged"),
    ).redemption


def _held_sale(scene: Any) -> RedemptionHold:
    """A sale of a product the merchant never filed a price for: held for a reviewer."""
    unfiled = ProductModel.objects.create(brand="美的", model_number="BCD-HOLD", category="fridge", energy_grade=1)
    qualification = subsidies.claim_qualification(
        actor=scene.resident(), programme_code="cn-appliance-2026", category="fridge"
    )
    redemption = subsidies.redeem(
        actor=scene.personas.clerk,
        merchant=scene.personas.merchant,
        store_id=scene.store.pk,
        code=qualification.code,
        product_id=unfiled.pk,
        serial="SN-MATRIX-HOLD",
        price_fen=499_900,
    ).redemption
    return RedemptionHold.objects.get(redemption=redemption)
