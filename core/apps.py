from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The shared floor: helpers every app may import; it imports no app. No models."""

    name = "core"
    verbose_name = "Shared helpers"
