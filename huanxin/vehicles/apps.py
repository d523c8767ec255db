from django.apps import AppConfig


class VehiclesConfig(AppConfig):
    name = "huanxin.vehicles"
    label = "vehicles"
    verbose_name = "机动车报废更新"
