from django.apps import AppConfig


class SettlementConfig(AppConfig):
    name = "huanxin.settlement"
    label = "settlement"
    verbose_name = "清算与支付"

    def ready(self) -> None:
        # Each app that hands settlement something to pay registers its source in its own payment_sources.py
        # (``settlement.sources.register``); importing them here fills the registry without naming those apps.
        from django.utils.module_loading import autodiscover_modules

        autodiscover_modules("payment_sources")
