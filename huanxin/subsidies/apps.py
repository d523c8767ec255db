from django.apps import AppConfig


class SubsidiesConfig(AppConfig):
    name = "huanxin.subsidies"
    label = "subsidies"
    verbose_name = "消费品以旧换新"
