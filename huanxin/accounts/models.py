"""People, organisations and who may act for whom.

A :class:`User` signs in. A :class:`Person` is the real-name profile of a resident (one per resident
ID). An :class:`Organisation` is an enterprise, institution, bank or government unit taking part in the
programme; a :class:`Membership` gives a user a role in one organisation, and for government users a
district scope. The roles, kinds and groups of roles are in :mod:`huanxin.accounts.roles`.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils import timezone

from huanxin.accounts.roles import (
    GOVERNMENT_STAFF,
    ORGANISATION_MEMBERS,
    OVERSIGHT_STAFF,
    ROLES_BY_KIND,
    OrganisationKind,
    Role,
)
from huanxin.core import crypto
from huanxin.core.domain.masking import mask_name
from huanxin.core.permissions import district_scope

# The vocabulary lives in roles.py; the models use it, and callers may import it from here too.
__all__ = [
    "ROLES_BY_KIND",
    "ApiToken",
    "District",
    "DistrictChange",
    "Licence",
    "Membership",
    "Organisation",
    "OrganisationKind",
    "OrganisationQuerySet",
    "Person",
    "PersonQuerySet",
    "PhoneChallenge",
    "Role",
    "User",
]


class District(models.Model):
    """A Beijing district (GB/T 2260 code) or functional area; budgets and reviews are split by it."""

    code = models.CharField(max_length=12, primary_key=True)
    name = models.CharField(max_length=40, unique=True)
    short_name = models.CharField(max_length=20)
    kind = models.CharField(max_length=20, default="district")
    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = "行政区"
        verbose_name_plural = "行政区"
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A sign-in account. Residents sign in with their mobile number; staff with a user name."""

    display_name = models.CharField("显示名称", max_length=60, blank=True)

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = "用户"

    def __str__(self) -> str:
        return self.display_name or self.username


class PersonQuerySet(models.QuerySet["Person"]):
    def visible_to(self, user: Any) -> PersonQuerySet:
        """Residents see themselves; government users see residents of their districts; others nobody."""
        return district_scope(self, user, staff_roles=OVERSIGHT_STAFF, district_field="district_id", own=Q(user=user))


class Person(models.Model):
    """A resident's real-name profile. The resident ID and phone are sealed; only masks are readable."""

    user = models.OneToOneField(User, null=True, blank=True, on_delete=models.PROTECT, related_name="person")
    name = models.CharField("姓名", max_length=60, blank=True)
    resident_id_cipher = models.TextField(blank=True)
    resident_id_digest = models.CharField(max_length=64, null=True, blank=True)
    resident_id_masked = models.CharField("身份证号", max_length=18, blank=True)
    phone_cipher = models.TextField(blank=True)
    phone_digest = models.CharField(max_length=64, null=True, blank=True)
    phone_masked = models.CharField("手机号", max_length=11, blank=True)
    # The district whose budget every claim of this resident is charged to: set at real-name verification,
    # changed only through change_registered_district (once per programme year), never chosen per claim.
    district = models.ForeignKey(
        District,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="登记居住区",
        help_text="申领的补贴资格计入该区预算；实名认证时登记，每个项目年度（自然年）最多变更一次",
    )
    verified_at = models.DateTimeField("实名认证时间", null=True, blank=True)
    verification_method = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = PersonQuerySet.as_manager()

    class Meta:
        verbose_name = "自然人"
        verbose_name_plural = "自然人"
        constraints = [
            # One resident ID, one person; one mobile number, one account. Conditional so that the
            # many profiles without an ID yet (NULL) never collide, and NULLs never let duplicates in.
            models.UniqueConstraint(
                fields=["resident_id_digest"],
                condition=Q(resident_id_digest__isnull=False),
                name="accounts_person_resident_id_uniq",
            ),
            models.UniqueConstraint(
                fields=["phone_digest"], condition=Q(phone_digest__isnull=False), name="accounts_person_phone_uniq"
            ),
        ]

    def __str__(self) -> str:
        return mask_name(self.name) if self.name else self.phone_masked or f"自然人#{self.pk}"

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None

    def set_resident_id(self, resident_id: str) -> None:
        """Store a validated, normalised resident ID sealed, hashed and masked."""
        sealed = crypto.seal(resident_id, purpose="resident_id")
        self.resident_id_cipher, self.resident_id_digest, self.resident_id_masked = (
            sealed.cipher,
            sealed.digest,
            sealed.masked,
        )

    def set_phone(self, phone: str) -> None:
        """Store a validated, normalised mobile number sealed, hashed and masked."""
        sealed = crypto.seal(phone, purpose="phone")
        self.phone_cipher, self.phone_digest, self.phone_masked = sealed.cipher, sealed.digest, sealed.masked

    def reveal_resident_id(self) -> str:
        """The plaintext ID, for the few services that must send it on (bank, identity service)."""
        return crypto.decrypt(self.resident_id_cipher, purpose="resident_id") if self.resident_id_cipher else ""

    def reveal_phone(self) -> str:
        return crypto.decrypt(self.phone_cipher, purpose="phone") if self.phone_cipher else ""


class DistrictChange(models.Model):
    """A resident's change of registered district: at most one per programme year (a calendar year, the
    span of the programmes' budgets), so nobody hops between districts to chase a budget that is left."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="district_changes")
    from_district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+", verbose_name="原登记区")
    to_district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+", verbose_name="新登记区")
    year = models.PositiveSmallIntegerField("项目年度")
    changed_at = models.DateTimeField("变更时间", default=timezone.now)

    class Meta:
        verbose_name = "登记居住区变更"
        verbose_name_plural = "登记居住区变更"
        ordering = ["-changed_at"]
        constraints = [
            models.UniqueConstraint(fields=["person", "year"], name="accounts_district_change_year_uniq"),
            models.CheckConstraint(
                condition=~Q(from_district=models.F("to_district")), name="accounts_district_change_moves"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} {self.from_district_id}→{self.to_district_id} ({self.year})"


class OrganisationQuerySet(models.QuerySet["Organisation"]):
    def visible_to(self, user: Any) -> OrganisationQuerySet:
        """Government users see organisations in their districts; members see their own organisations."""
        return district_scope(
            self,
            user,
            staff_roles=GOVERNMENT_STAFF,
            district_field="district_id",
            member_roles=ORGANISATION_MEMBERS,
            organisation_field="pk",
        )


class Organisation(models.Model):
    """An enterprise or unit taking part in the programme, identified by its unified social credit code."""

    class Status(models.TextChoices):
        ACTIVE = "active", "正常"
        SUSPENDED = "suspended", "暂停"

    name = models.CharField("名称", max_length=120)
    short_name = models.CharField("简称", max_length=40, blank=True)
    kind = models.CharField("类型", max_length=20, choices=OrganisationKind.choices)
    uscc = models.CharField("统一社会信用代码", max_length=18, unique=True)
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="organisations")
    address = models.CharField("地址", max_length=200, blank=True)
    contact_name = models.CharField("联系人", max_length=60, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(default=timezone.now)

    objects = OrganisationQuerySet.as_manager()

    class Meta:
        verbose_name = "机构"
        verbose_name_plural = "机构"
        ordering = ["kind", "name"]
        indexes = [models.Index(fields=["kind", "district"], name="accounts_org_kind_district_idx")]

    def __str__(self) -> str:
        return self.short_name or self.name

    def valid_licences(self, kind: str, on: datetime.date) -> models.QuerySet[Licence]:
        """Licences of ``kind`` valid on the given day (both ends inclusive)."""
        return self.licences.filter(kind=kind, valid_from__lte=on).filter(
            Q(valid_until__isnull=True) | Q(valid_until__gte=on)
        )


class Licence(models.Model):
    """A permit an organisation holds, e.g. a WEEE dismantling qualification, with its validity."""

    class Kind(models.TextChoices):
        BUSINESS = "business", "营业执照"
        WEEE_DISMANTLING = "weee_dismantling", "废弃电器电子产品处理资格证书"
        RENEWABLE_RECYCLING = "renewable_recycling", "再生资源回收经营者备案"
        VEHICLE_SCRAPPING = "vehicle_scrapping", "报废机动车回收拆解企业资质认定"
        # 《新能源汽车动力蓄电池回收利用管理暂行办法》and MIIT's 《新能源汽车废旧动力蓄电池综合利用行业规范条件》:
        # the enterprises announced as meeting them, for cascade use (梯次利用) or for recycling (再生利用).
        BATTERY_CASCADE_USE = "battery_cascade_use", "废旧动力蓄电池梯次利用企业（行业规范条件公告）"
        BATTERY_RECYCLING = "battery_recycling", "废旧动力蓄电池再生利用企业（行业规范条件公告）"
        # 《危险废物经营许可证管理办法》: one of the three qualifications of a recycler that may reverse-invoice.
        HAZARDOUS_WASTE = "hazardous_waste", "危险废物经营许可证"

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="licences")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    number = models.CharField("证书编号", max_length=60)
    valid_from = models.DateField("有效期起")
    valid_until = models.DateField("有效期止", null=True, blank=True)

    class Meta:
        verbose_name = "资质证书"
        verbose_name_plural = "资质证书"
        constraints = [
            models.UniqueConstraint(fields=["kind", "number"], name="accounts_licence_kind_number_uniq"),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=models.F("valid_from")),
                name="accounts_licence_valid_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number}"


class Membership(models.Model):
    """A user's role, in an organisation (or none, for consumers), limited to a district if set."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices)
    district = models.ForeignKey(
        District,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="政府用户的辖区；为空表示全市",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "角色成员"
        verbose_name_plural = "角色成员"
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organisation", "role"],
                condition=Q(organisation__isnull=False),
                name="accounts_membership_org_role_uniq",
            ),
            models.UniqueConstraint(
                fields=["user", "role"], condition=Q(organisation__isnull=True), name="accounts_membership_role_uniq"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()}" + (f" @ {self.organisation}" if self.organisation else "")


class ApiToken(models.Model):
    """A POS or system client's token: hashed at rest, bound to a user in one organisation, revocable."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField("名称", max_length=80)
    prefix = models.CharField(max_length=12, unique=True)
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "接口令牌"
        verbose_name_plural = "接口令牌"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class PhoneChallenge(models.Model):
    """A one-time code sent to a mobile number to prove its holder is there: to register, sign in or reset a
    password (``purpose``). Only a keyed hash of the code is stored; it is used once, expires, and is burnt
    after five guesses."""

    phone_digest = models.CharField(max_length=64, db_index=True)
    code_digest = models.CharField(max_length=64)
    purpose = models.CharField(max_length=20, default="register")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    consumed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "短信验证码"
        verbose_name_plural = "短信验证码"

    def __str__(self) -> str:
        return f"{self.purpose} {self.created_at:%Y-%m-%d %H:%M}"
