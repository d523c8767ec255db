from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "huanxin.core"
    label = "core"
    verbose_name = "平台内核"

    def ready(self) -> None:
        from django.core.validators import ProhibitNullCharactersValidator

        # Every form and model text field refuses NUL bytes through this one validator; Django's Chinese
        # catalogue renders its message as "不允许是用空字符串。", which is garbled and reads as "empty string not
        # allowed". Stating it once here fixes every field rather than each form.
        ProhibitNullCharactersValidator.message = "不能包含空字符（NUL）"

        # Each app registers its periodic jobs in its own jobs.py; importing them here fills the one registry
        # that Celery beat and `huanxin jobs` read, without the kernel naming any app.
        from django.utils.module_loading import autodiscover_modules

        autodiscover_modules("jobs")
