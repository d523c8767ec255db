from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "huanxin.web"
    label = "web"
    verbose_name = "门户"
