"""The Celery application and the one beat schedule of the platform."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("govmedia")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
