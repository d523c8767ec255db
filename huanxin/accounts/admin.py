from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from huanxin.accounts.forms import AdminSignInForm
from huanxin.accounts.models import (
    ApiToken,
    District,
    DistrictChange,
    Licence,
    Membership,
    Organisation,
    Person,
    User,
)
from huanxin.core.admin_support import ReadOnlyAdminMixin

# The admin login is limited together with every other way of signing in (the backend counts the attempts;
# this form says why a sign-in was refused).
admin.site.login_form = AdminSignInForm


@admin.register(User)
class UserAdmin(ReadOnlyAdminMixin, BaseUserAdmin):
    fieldsets = (*BaseUserAdmin.fieldsets, ("换新", {"fields": ("display_name",)}))  # type: ignore[misc]
    list_display = ("username", "display_name", "is_staff", "is_active", "last_login")


@admin.register(District)
class DistrictAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[District]):
    list_display = ("code", "name", "kind")


@admin.register(Person)
class PersonAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[Person]):
    """Only masked identifiers are ever listed or shown; ciphers and hashes stay hidden."""

    list_display = ("id", "masked_name", "resident_id_masked", "phone_masked", "district", "verified_at")
    fields = ("masked_name", "resident_id_masked", "phone_masked", "district", "verified_at", "verification_method")
    readonly_fields = fields
    search_fields = ("resident_id_masked", "phone_masked")

    @admin.display(description="姓名")
    def masked_name(self, obj: Person) -> str:
        return str(obj)


@admin.register(DistrictChange)
class DistrictChangeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[DistrictChange]):
    """Residents' changes of registered district (one per programme year), made only by the resident."""

    list_display = ("person", "from_district", "to_district", "year", "changed_at")
    list_filter = ("year", "to_district")


class LicenceInline(ReadOnlyAdminMixin, admin.TabularInline[Licence, Organisation]):
    model = Licence
    extra = 0


@admin.register(Organisation)
class OrganisationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[Organisation]):
    list_display = ("name", "kind", "uscc", "district", "status")
    list_filter = ("kind", "district", "status")
    search_fields = ("name", "uscc")
    inlines = [LicenceInline]


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[Membership]):
    list_display = ("user", "role", "organisation", "district")
    list_filter = ("role",)


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[ApiToken]):
    list_display = ("name", "prefix", "organisation", "user", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "digest", "created_at", "last_used_at")
