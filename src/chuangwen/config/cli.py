"""The `chuangwen` command.

Every sub-command is a Django management command, so `chuangwen verify` and
`chuangwen manage verify` are the same thing; `chuangwen manage ...` reaches all of Django's own.
"""

from __future__ import annotations

import os
import sys

USAGE = """用法 / usage: chuangwen COMMAND [options]

  serve        启动生产级 Web 服务（嵌入模式下同时启动后台任务进程）  --host --port
  demo         创建或刷新演示城市（可重复执行）
  worker       后台任务进程
  createadmin  创建系统管理员
  verify       校验审计链，完整时退出码为 0
  backup       备份数据库（SQLite 在线备份 / pg_dump）
  index        测评体系导入导出：index import FILE [--dry-run]；index export EDITION --format xlsx|yaml
  manage ...   Django 管理命令（migrate、shell、check 等）

每个命令都支持 --help。"""


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chuangwen.config.settings.local")
    args = argv[1:]
    if not args or args[0] in {"-h", "--help", "help"}:
        print(USAGE)
        return
    if args[0] == "manage":
        args = args[1:]
    from django.core.management import execute_from_command_line

    execute_from_command_line(["chuangwen", *args])


if __name__ == "__main__":
    main()
