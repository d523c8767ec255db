from django.contrib import admin

from huanxin.core.admin_support import ReadOnlyAdminMixin
from huanxin.recycling.models import ReverseInvoice


@admin.register(ReverseInvoice)
class ReverseInvoiceAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[ReverseInvoice]):
    """Read-only: an invoice changes only through its services (issue, void, the tax system's number)."""

    list_display = ("number", "issuer", "purchased_on", "seller_id_masked", "sale_fen", "vat_fen", "status")
    list_filter = ("status",)
    search_fields = ("number", "tax_number")
    list_select_related = ("issuer",)
    # The sealed identity number and its lookup hash are never shown, not even to administrators.
    exclude = ("seller_id_cipher", "seller_id_digest")
    raw_id_fields = ("issuer", "issued_by", "voided_by")
