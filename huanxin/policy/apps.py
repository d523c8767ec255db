from django.apps import AppConfig


class PolicyConfig(AppConfig):
    name = "huanxin.policy"
    label = "policy"
    verbose_name = "政策与规则"
