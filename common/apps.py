from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "common"
    verbose_name = "Common"

    def ready(self):
        from common.db import register_utc_datetime_adapter

        register_utc_datetime_adapter()
        from django.contrib.auth.signals import user_logged_in

        from common.middleware import stamp_session_on_login

        user_logged_in.connect(stamp_session_on_login, dispatch_uid="session-refresh")
