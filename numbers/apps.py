from django.apps import AppConfig
from django.db.models.signals import post_save


class NumbersConfig(AppConfig):
    name = "numbers"

    def ready(self) -> None:
        from numbers.models import PhoneNumber
        from numbers.selectors import forget_hook_numbers

        # The callback path keeps numbers per process; a save here is seen at once in this
        # process (other processes within HOOK_NUMBER_CACHE_SECONDS).
        post_save.connect(forget_hook_numbers, sender=PhoneNumber, dispatch_uid="hook-numbers")
