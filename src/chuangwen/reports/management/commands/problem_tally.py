from django.core.management.base import BaseCommand, CommandError

from chuangwen.reports import tally


class Command(BaseCommand):
    help = "核对或重建问题计数表（看板与排名读取的各校问题数；在批量导入或恢复备份后执行）。"

    def add_arguments(self, parser):
        parser.add_argument("--rebuild", action="store_true", help="按问题台帐重新计数全部学校")

    def handle(self, *args, rebuild, **options):
        if rebuild:
            rows = tally.rebuild()
            self.stdout.write(f"已重建问题计数：{rows} 行")
            return
        differences = tally.verify()
        if differences:
            for line in differences[:50]:
                self.stdout.write(line)
            raise CommandError(f"问题计数与台帐不一致：{len(differences)} 行（执行 --rebuild 重建）")
        self.stdout.write("问题计数与台帐一致")
