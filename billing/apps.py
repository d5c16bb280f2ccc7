from django.apps import AppConfig
from django.db.models.signals import post_save


class BillingConfig(AppConfig):
    name = "billing"

    def ready(self) -> None:
        from accounts.models import Tenant
        from billing.signals import tenant_saved

        # A signal rather than a call in each creator: tenants are created by staff pages,
        # the demo, management commands and test factories, and each needs its account.
        post_save.connect(tenant_saved, sender=Tenant, dispatch_uid="billing_account_create")
