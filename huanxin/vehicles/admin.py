from django.contrib import admin

from huanxin.core.admin_support import ReadOnlyAdminMixin
from huanxin.vehicles.models import Vehicle, VehicleEvent, VehicleImport


@admin.register(Vehicle)
class VehicleAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[Vehicle]):
    list_display = ("vin", "vehicle_type", "use", "fuel", "registered_on", "status", "owner_id_masked", "district")
    list_filter = ("status", "vehicle_type", "use", "fuel", "district")
    search_fields = ("vin",)
    # The sealed identity number and its lookup hash are never shown, not even to administrators.
    exclude = ("owner_id_cipher", "owner_id_digest", "owner_name")
    raw_id_fields = ("owner_person", "owner_organisation")


@admin.register(VehicleEvent)
class VehicleEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[VehicleEvent]):
    list_display = ("vehicle", "kind", "occurred_on", "source", "owner_id_masked", "recorded_at")
    list_filter = ("kind", "source")
    list_select_related = ("vehicle",)
    exclude = ("owner_id_cipher", "owner_id_digest", "owner_name", "content_digest")
    raw_id_fields = ("vehicle", "import_record", "organisation")


@admin.register(VehicleImport)
class VehicleImportAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[VehicleImport]):
    list_display = ("uploaded_at", "file_name", "uploaded_by", "outcome", "recorded_count", "refused_count")
