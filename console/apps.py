from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    """The room above the apps: pages and jobs that aggregate them (portal overview, staff
    console, provider sync, demo seeding). It may import every app; no app imports it. No models.
    """

    name = "console"
    verbose_name = "Portal overview and staff console"
