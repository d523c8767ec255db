from django.apps import AppConfig


class SettlementConfig(AppConfig):
    name = "huanxin.settlement"
    label = "settlement"
    verbose_name = "清算与支付"
