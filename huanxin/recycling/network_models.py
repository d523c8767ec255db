"""The recycling network (回收网络): the collection points, green sorting centres (绿色分拣中心) and dismantling
plants where old items are taken in. Each site belongs to a recycler or a dismantler and receives under one of
that organisation's licences: the licence row is referenced, never copied, so its validity is read where it is
kept and a lapsed licence stops the site from receiving without anyone editing the site."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from huanxin.accounts.models import District, Licence, Organisation


class NetworkSite(models.Model):
    class Kind(models.TextChoices):
        COLLECTION_POINT = "collection_point", "回收网点"
        SORTING_CENTRE = "sorting_centre", "绿色分拣中心"
        DISMANTLING_PLANT = "dismantling_plant", "拆解处理厂"

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="network_sites")
    kind = models.CharField("站点类型", max_length=20, choices=Kind.choices)
    name = models.CharField("站点名称", max_length=120)
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="network_sites")
    address = models.CharField("地址", max_length=200)
    opening_hours = models.CharField("营业时间", max_length=80)
    categories = models.JSONField("接收品类", default=list)
    capacity_per_month = models.PositiveIntegerField("处理能力（台/月）")
    licence = models.ForeignKey(Licence, on_delete=models.PROTECT, related_name="network_sites")
    active = models.BooleanField("启用", default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "回收网络站点"
        verbose_name_plural = "回收网络站点"
        ordering = ["district_id", "name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="recycling_site_org_name_uniq"),
            models.CheckConstraint(condition=Q(capacity_per_month__gt=0), name="recycling_site_capacity_positive"),
        ]
        indexes = [models.Index(fields=["district", "active"], name="recycling_site_district_idx")]

    def __str__(self) -> str:
        return self.name
