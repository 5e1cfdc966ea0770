import shutil
import sqlite3
import subprocess
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone

from chuangwen.core import audit


class Command(BaseCommand):
    help = "备份数据库：SQLite 使用在线备份 API，PostgreSQL 使用 pg_dump（自定义格式）。"

    def add_arguments(self, parser):
        parser.add_argument("--output", "-o", help="备份文件路径（默认：数据目录下 backups/）")

    def handle(self, *args, output=None, **options):
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
        vendor = connection.vendor
        if output:
            target = Path(output)
        else:
            suffix = "sqlite3" if vendor == "sqlite" else "dump"
            target = settings.DATA_DIR / "backups" / f"chuangwen-{stamp}.{suffix}"
        target.parent.mkdir(parents=True, exist_ok=True)
        if vendor == "sqlite":
            self._sqlite(target)
        elif vendor == "postgresql":
            self._postgres(target)
        else:
            raise CommandError(f"不支持的数据库：{vendor}")
        audit.record("backup.create", object_type="database", object_repr=str(target), username="cli")
        self.stdout.write(self.style.SUCCESS(f"已备份到 {target}"))

    def _sqlite(self, target: Path) -> None:
        source_path = settings.DATABASES["default"]["NAME"]
        source = sqlite3.connect(source_path)
        dest = sqlite3.connect(target)
        try:
            with dest:
                source.backup(dest)
        finally:
            dest.close()
            source.close()

    def _postgres(self, target: Path) -> None:
        pg_dump = shutil.which("pg_dump")
        if not pg_dump:
            raise CommandError("找不到 pg_dump，请安装 PostgreSQL 客户端")
        db = settings.DATABASES["default"]
        cmd = [pg_dump, "--format=custom", "--no-owner", "--file", str(target), "--dbname", db["NAME"]]
        if db.get("HOST"):
            cmd += ["--host", db["HOST"]]
        if db.get("PORT"):
            cmd += ["--port", str(db["PORT"])]
        if db.get("USER"):
            cmd += ["--username", db["USER"]]
        env = None
        if db.get("PASSWORD"):
            import os

            env = {**os.environ, "PGPASSWORD": db["PASSWORD"]}
        completed = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)  # noqa: S603
        if completed.returncode != 0:
            raise CommandError(f"pg_dump 失败：{completed.stderr.strip()}")
