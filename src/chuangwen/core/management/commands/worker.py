from collections.abc import Callable
from threading import Thread

from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand

# Background loops that run beside the task queue in every worker process (e.g. the notify outbox
# sweep). Apps register a factory returning an unstarted daemon thread in AppConfig.ready(), so core
# does not import them.
_loops: list[Callable[[], Thread]] = []


def register_loop(factory: Callable[[], Thread]) -> None:
    if factory not in _loops:
        _loops.append(factory)


class Command(DbWorkerCommand):
    help = "后台任务进程：处理数据库任务队列中的所有队列。"

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.set_defaults(queue_name="*", reload=False)

    def handle(self, *args, **options):
        if not options.get("batch"):
            for factory in _loops:
                factory().start()
        super().handle(*args, **options)
