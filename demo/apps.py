from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo data and the synthetic national-scale dataset.

    The top floor: it imports every app below it (accounts, registry, moderation, ...)
    and nothing imports it, so the ground-floor apps stay free of upward imports.
    Each app that has demo data adds a module under demo/ that seed_demo calls.
    """

    name = "demo"
    verbose_name = "Demo and scale data"
