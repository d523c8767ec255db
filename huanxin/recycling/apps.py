from django.apps import AppConfig


class RecyclingConfig(AppConfig):
    name = "huanxin.recycling"
    label = "recycling"
    verbose_name = "再生资源回收与反向开票"
