from django.core.management.base import BaseCommand, CommandError

from chuangwen.core.audit import verify_chain


class Command(BaseCommand):
    help = "校验审计链：完整时退出码为 0，否则非 0 并指出第一个被破坏的事件。"

    def handle(self, *args, **options):
        result = verify_chain()
        if result.ok:
            self.stdout.write(self.style.SUCCESS(f"审计链完整：共 {result.checked} 个事件。"))
            return
        raise CommandError(
            f"审计链已被破坏：第一个异常事件 #{result.broken_seq}：{result.reason}"
            f"（此前 {result.checked} 个事件校验通过）",
            returncode=3,
        )
