"""Object ids for tenant URLs, by URL keyword: each returns an id owned by `tenant`.

The isolation sweep in tests/accounts/test_isolation.py walks every URL under /t/<slug>/ and
needs a real object for each extra keyword; a new keyword without an entry here fails it.
"""

from collections.abc import Callable

from accounts.models import Membership, Tenant

SAMPLES: dict[str, Callable[[Tenant], object]] = {
    "membership_id": lambda tenant: Membership.objects.filter(tenant=tenant).first().pk,
}
