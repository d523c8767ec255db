"""Shared fixtures: personas and plain factory functions (``make_person(**overrides)``)."""

from __future__ import annotations

import itertools
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from stdnum.cn import ric, uscc

from huanxin.accounts.models import District, Membership, Organisation, OrganisationKind, Person, Role, User

# Property tests judge results, not speed: on a shared two-core machine generating examples can be slow
# enough to trip Hypothesis's timing checks, which would fail a run for a reason unrelated to the code.
hypothesis_settings.register_profile("huanxin", deadline=None, suppress_health_check=[HealthCheck.too_slow])
hypothesis_settings.load_profile("huanxin")

PASSWORD = "Str0ng-test-password"
_sequence = itertools.count(1)


def valid_resident_id(birth: str = "19900307", region: str = "110105") -> str:
    """A resident ID with a valid checksum, different on every call."""
    body = f"{region}{birth}{next(_sequence) % 1000:03d}"
    for digit in "0123456789X":
        if ric.is_valid(body + digit):
            return body + digit
    raise AssertionError("no check digit found")


def valid_uscc() -> str:
    """A unified social credit code with a valid checksum, different on every call."""
    body = f"91110105MA{next(_sequence):07d}"
    return body + uscc.calc_check_digit(body)


def valid_mobile() -> str:
    return f"139{next(_sequence):08d}"


def make_user(**overrides: Any) -> User:
    overrides.setdefault("username", f"user{next(_sequence)}")
    user = User(**overrides)
    user.set_password(PASSWORD)
    user.save()
    return user


def make_organisation(
    kind: str = OrganisationKind.MERCHANT, district: str = "110105", **overrides: Any
) -> Organisation:
    overrides.setdefault("name", f"测试机构{next(_sequence)}")
    return Organisation.objects.create(kind=kind, uscc=valid_uscc(), district_id=district, **overrides)


def make_member(
    role: str, organisation: Organisation | None = None, district: str | None = None, **user_fields: Any
) -> User:
    user = make_user(**user_fields)
    Membership.objects.create(user=user, role=role, organisation=organisation, district_id=district)
    return user


def make_person(
    *, user: User | None = None, district: str = "110105", verified: bool = True, **overrides: Any
) -> Person:
    person = Person(user=user, district_id=district, name=overrides.pop("name", "李四"), **overrides)
    person.set_phone(valid_mobile())
    if verified:
        from django.utils import timezone

        person.set_resident_id(valid_resident_id())
        person.verified_at = timezone.now()
    person.save()
    return person


class Personas:
    """One user per role, the way the authorisation matrix needs them."""

    def __init__(self) -> None:
        self.government = make_organisation(OrganisationKind.GOVERNMENT, "110102", name="市商务局")
        self.chaoyang_bureau = make_organisation(OrganisationKind.GOVERNMENT, "110105", name="朝阳区商务局")
        self.merchant = make_organisation(OrganisationKind.MERCHANT, "110105", name="朝阳家电")
        self.other_merchant = make_organisation(OrganisationKind.MERCHANT, "110108", name="海淀数码")
        self.recycler_org = make_organisation(OrganisationKind.RECYCLER, "110112", name="通州回收")
        self.dismantler_org = make_organisation(OrganisationKind.DISMANTLER, "110115", name="大兴拆解")
        self.consumer = make_member(Role.CONSUMER)
        self.consumer_person = make_person(user=self.consumer, district="110105")
        self.other_consumer = make_member(Role.CONSUMER)
        self.other_person = make_person(user=self.other_consumer, district="110108")
        self.clerk = make_member(Role.MERCHANT_CLERK, self.merchant)
        self.manager = make_member(Role.MERCHANT_MANAGER, self.merchant)
        self.recycler = make_member(Role.RECYCLER, self.recycler_org)
        self.dismantler = make_member(Role.DISMANTLER, self.dismantler_org)
        self.reviewer = make_member(Role.REVIEWER, self.government)
        self.district_reviewer = make_member(Role.REVIEWER, self.chaoyang_bureau, district="110105")
        self.finance = make_member(Role.FINANCE_OFFICER, self.government)
        self.auditor = make_member(Role.AUDITOR, self.government)
        self.admin = make_member(Role.ADMINISTRATOR, self.government)
        self.outsider = make_user()


def ensure_reference_data() -> None:
    """Reload what the data migrations load (districts, the plan's measures, the category price rules).

    A transactional test empties every table when it ends, data-migration rows included; the next
    transactional test needs them back.
    """
    import importlib

    from django.apps import apps

    if not District.objects.exists():
        importlib.import_module("huanxin.accounts.migrations.0002_load_beijing_districts").load(apps, None)
    from huanxin.policy.models import Measure

    if not Measure.objects.exists():
        importlib.import_module("huanxin.policy.migrations.0002_load_plan_measures").load(apps, None)
    from huanxin.catalogue.models import CategoryPriceRule

    if not CategoryPriceRule.objects.exists():
        importlib.import_module("huanxin.catalogue.migrations.0002_category_price_rules").load(apps, None)


@pytest.fixture(autouse=True)
def _reference_data_for_transactional_tests(request: pytest.FixtureRequest) -> None:
    """Transactional tests start after another one may have emptied the tables: put reference data back."""
    marker = request.node.get_closest_marker("django_db")
    if marker is not None and marker.kwargs.get("transaction"):
        request.getfixturevalue("transactional_db")
        ensure_reference_data()


@pytest.fixture
def personas(db: None) -> Personas:
    ensure_reference_data()
    return Personas()


@pytest.fixture(autouse=True)
def _plain_static_files(settings: Any) -> None:
    """Tests render pages without running collectstatic first: serve static files from the apps."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.WHITENOISE_AUTOREFRESH = True


@pytest.fixture(autouse=True, scope="session")
def _stray_connections_gone_before_teardown(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """On PostgreSQL, wait (up to 10 s) until every other session on the test database has ended before it
    is dropped. Threads of the race tests close their connections, but a server backend outlives the
    client's close by a moment; dropping the database in that moment fails with "being accessed by other
    users" and leaves it behind. A connection still open after the wait is a leak: it is reported."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        deadline = time.monotonic() + 10
        while True:
            cursor.execute(
                "SELECT pid, application_name, state, left(query, 120) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            others = cursor.fetchall()
            if not others or time.monotonic() > deadline:
                break
            time.sleep(0.05)
    connection.close()
    if others:
        warnings.warn(f"connections to the test database still open at the end: {others}", stacklevel=1)


@pytest.fixture(autouse=True, scope="session")
def _static_root() -> None:
    """WhiteNoise warns when STATIC_ROOT does not exist, as in a fresh checkout that never ran
    collectstatic; session scope, so it exists before the live server of the browser test starts."""
    from django.conf import settings

    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    """Argon2 is deliberately slow; tests that are not about hashing use a fast hasher."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *settings.PASSWORD_HASHERS]


@pytest.fixture(autouse=True)
def _clear_cache(settings: Any) -> Iterator[None]:
    """Every test starts with an empty cache of its own process (the file cache under var/ is shared with a
    running server and other test runs). Rate-limit counters are database rows, rolled back with the test."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "tests"}}
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def sms_outbox(settings: Any) -> list[tuple[str, str, str]]:
    """Route one-time codes to a list the test can read."""
    from huanxin.accounts import sms

    settings.HUANXIN_SMS_BACKEND = "huanxin.accounts.sms.OutboxSmsBackend"
    sms._backend.cache_clear()
    backend = sms.get_sms_backend()
    assert isinstance(backend, sms.OutboxSmsBackend)
    backend.outbox.clear()
    return backend.outbox


@pytest.fixture
def send_code(sms_outbox: list[tuple[str, str, str]], django_capture_on_commit_callbacks: Any) -> Any:
    """Request a one-time code (running the on-commit SMS send) and return the code the resident got."""
    from huanxin.accounts import services

    def send(phone: str) -> str:
        with django_capture_on_commit_callbacks(execute=True):
            services.request_phone_code(phone=phone)
        return sms_outbox[-1][1]

    return send


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def api_client_for(user: User) -> Client:
    """A client signed in by session with CSRF checks on, as a browser calling the API would be."""
    client = Client(enforce_csrf_checks=False)
    client.force_login(user)
    return client


def token_client_for(user: User, organisation: Organisation) -> Client:
    """A client calling the API with a bearer token issued for ``user`` in ``organisation`` (as a till would)."""
    from huanxin.accounts.services import issue_api_token

    issuer = make_member(Role.ADMINISTRATOR, Organisation.objects.filter(kind=OrganisationKind.GOVERNMENT).first())
    issued = issue_api_token(actor=issuer, organisation=organisation, name="收银台", user=user)
    return Client(headers={"Authorization": f"Bearer {issued.plaintext}"})


def member_of_two_merchants(token_merchant: Organisation, other_merchant: Organisation) -> User:
    """A manager of ``token_merchant`` who is also manager and clerk of ``other_merchant``: the user whose token
    for the first must never reach the second."""
    user = make_member(Role.MERCHANT_MANAGER, token_merchant)
    Membership.objects.create(user=user, role=Role.MERCHANT_MANAGER, organisation=other_merchant)
    Membership.objects.create(user=user, role=Role.MERCHANT_CLERK, organisation=other_merchant)
    return user


def district_codes() -> list[str]:
    return list(District.objects.values_list("code", flat=True))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every transactional test rolls back by serialisation, not only some: a plain one's flush re-creates
    the content types under new ids, and the next serialising test then fails to load the old ones (a
    duplicate ``django_content_type``), so which tests passed depended on their order."""
    for item in items:
        marker = item.get_closest_marker("django_db")
        if marker is not None and marker.kwargs.get("transaction") and not marker.kwargs.get("serialized_rollback"):
            rollback = pytest.mark.django_db(*marker.args, **{**marker.kwargs, "serialized_rollback": True})
            item.add_marker(rollback, append=False)
