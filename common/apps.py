from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "common"
    verbose_name = "Common"

    def ready(self):
        from common.db import register_utc_datetime_adapter

        register_utc_datetime_adapter()
