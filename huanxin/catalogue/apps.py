from django.apps import AppConfig


class CatalogueConfig(AppConfig):
    name = "huanxin.catalogue"
    label = "catalogue"
    verbose_name = "产品目录与价格备案"
