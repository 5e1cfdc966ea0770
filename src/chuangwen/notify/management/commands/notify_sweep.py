import time

from django.core.management.base import BaseCommand

from chuangwen.notify import delivery


class Command(BaseCommand):
    help = "发送到期的通知消息（chuangwen worker 已每隔几秒自动执行；此命令用于排障或定时任务）。"

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="持续运行，每隔 --interval 秒发送一次")
        parser.add_argument("--interval", type=float, default=5.0)

    def handle(self, *args, loop, interval, **options):
        while True:
            sent = delivery.sweep()
            if options["verbosity"] > 1 or not loop:
                self.stdout.write(f"已发送 {sent} 条通知消息")
            if not loop:
                return
            time.sleep(interval)
