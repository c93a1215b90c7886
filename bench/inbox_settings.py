"""Settings for the ingestion benchmark only: the project's settings plus a URLconf
that adds one bare Django JSON view (the baseline the issue compares against)."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.inbox_urls"
