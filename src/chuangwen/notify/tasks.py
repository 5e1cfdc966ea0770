from django_tasks import task

from . import delivery


@task()
def deliver_outbox(outbox_ids: list[int]) -> int:
    """Send these outbox rows now (enqueued on commit of the transaction that created them)."""
    return delivery.deliver(outbox_ids)
