import pytest
from celery import shared_task

from accounts.tasks import TenantTask
from billing.models import UsageSnapshot
from tests.conftest import World


@shared_task(base=TenantTask, name="tests.count_snapshots")
def count_snapshots(*, tenant_id: int) -> list[int]:
    return sorted(UsageSnapshot.objects.values_list("balanceused", flat=True))


def test_tenant_task_runs_inside_the_tenant_scope(world: World) -> None:
    UsageSnapshot.objects.create(tenant=world.tenant_a, balanceused=1)
    UsageSnapshot.objects.create(tenant=world.tenant_b, balanceused=2)
    assert count_snapshots.apply(kwargs={"tenant_id": world.tenant_a.pk}).get() == [1]
    assert count_snapshots.apply(kwargs={"tenant_id": world.tenant_b.pk}).get() == [2]


def test_tenant_task_without_a_tenant_is_refused(world: World) -> None:
    with pytest.raises(TypeError, match="tenant_id"):
        count_snapshots.apply(throw=True)
