from django.apps import AppConfig


class TraceConfig(AppConfig):
    name = "huanxin.trace"
    label = "trace"
    verbose_name = "一机一码追溯"
