from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "huanxin.accounts"
    label = "accounts"
    verbose_name = "账户与机构"

    def ready(self) -> None:
        from huanxin.accounts import roles
        from huanxin.core.permissions import KernelRoles, use_roles

        # The kernel names no app: it checks the roles accounts, which owns them, hands it here.
        use_roles(
            KernelRoles(
                superuser=roles.Role.ADMINISTRATOR,
                audit_whole_log=roles.AUDIT_WHOLE_LOG,
                audit_by_district=roles.AUDIT_BY_DISTRICT,
                audit_by_organisation=roles.AUDIT_BY_ORGANISATION,
                audit_page=roles.AUDIT_PAGE,
                authority_kind=roles.OrganisationKind.GOVERNMENT,
                authority_roles=roles.GOVERNMENT_STAFF,
            )
        )
