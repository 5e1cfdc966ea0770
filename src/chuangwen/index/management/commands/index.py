"""`chuangwen index import FILE [--name N] [--code C] [--dry-run]` and
`chuangwen index export EDITION --format xlsx|yaml [-o FILE]`."""

from __future__ import annotations

import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from chuangwen.index import imports
from chuangwen.index.models import Edition
from chuangwen.org.imports.workbook import check_size


def _issue_text(issue: dict) -> str:
    return issue["text"]


class Command(BaseCommand):
    help = "测评体系的导入与导出（Excel / YAML）"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="{import,export}")
        p_import = sub.add_parser("import", help="从 .xlsx / .yaml / .yml 文件导入，新建一个草稿版本")
        p_import.add_argument("file", help="要导入的文件")
        p_import.add_argument("--name", default="", help="新版本名称（YAML 文件默认取文件中的名称）")
        p_import.add_argument("--code", default="", help="新版本代码（YAML 文件默认取文件中的代码）")
        p_import.add_argument("--dry-run", action="store_true", help="只校验并显示摘要，不写入")
        p_export = sub.add_parser("export", help="导出一个版本")
        p_export.add_argument("edition", help="版本代码或编号")
        p_export.add_argument("--format", choices=imports.FORMATS, required=True, dest="fmt")
        p_export.add_argument(
            "-o", "--output", default="", help="输出文件；YAML 默认输出到标准输出，Excel 默认 <代码>.xlsx"
        )

    def handle(self, *args, **options):
        if options["action"] == "import":
            return self._import(options)
        return self._export(options)

    def _import(self, options) -> None:
        path = Path(options["file"])
        fmt = imports.format_of(path.name)
        if fmt is None:
            raise CommandError(f"无法识别的文件类型“{path.suffix}”：请使用 .xlsx、.yaml 或 .yml 文件")
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise CommandError(f"无法读取文件 {path}：{exc.strerror}") from exc
        too_big = check_size(size)
        if too_big:
            raise CommandError(too_big)
        data = path.read_bytes()[: settings.IMPORT_MAX_BYTES + 1]
        result = imports.parse_file(data, fmt)
        from_file = result.data if result.data is not None else imports.EditionData()
        name = options["name"] or from_file.name or (path.stem if fmt == "xlsx" else "")
        code = options["code"] or from_file.code
        if options["dry_run"]:
            imports.check_identity(result, name=name, code=code)
        else:
            imports.edition_import(result=result, name=name, code=code, source=str(path.name))
        if result.error_count:
            for issue in result.errors_json():
                self.stderr.write(_issue_text(issue))
            more = result.error_count - len(result.errors)
            if more > 0:
                self.stderr.write(f"……另有 {more} 个问题未列出")
            raise CommandError(f"导入失败：发现 {result.error_count} 个问题，没有写入任何数据", returncode=2)
        counts = result.counts()
        summary = (
            f"测评项目 {counts['projects']} 个，测评内容 {counts['contents']} 个，"
            + (f"测评子项 {counts['items']} 个，" if counts["items"] else "")
            + f"测评标准 {counts['standards']} 条，总分 {counts['total_points']} 分"
        )
        if options["dry_run"]:
            self.stdout.write(f"校验通过（未写入）：“{name}”（{code}）：{summary}")
        else:
            edition = result.edition
            self.stdout.write(f"已导入草稿版本 #{edition.pk}“{edition.name}”（{edition.code}）：{summary}")

    def _export(self, options) -> None:
        key = options["edition"].strip()
        edition = Edition.objects.filter(code=key).first()
        if edition is None and key.isdigit():
            edition = Edition.objects.filter(pk=int(key)).first()
        if edition is None:
            raise CommandError(f"找不到代码或编号为“{key}”的版本")
        output = options["output"]
        if options["fmt"] == "yaml":
            text = imports.export_yaml(edition)
            if output and output != "-":
                Path(output).write_bytes(text.encode("utf-8"))
                self.stderr.write(f"已导出到 {output}")
            else:
                stream = getattr(self.stdout, "_out", sys.stdout)
                buffer = getattr(stream, "buffer", None)
                if buffer is not None:
                    stream.flush()
                    buffer.write(text.encode("utf-8"))
                    buffer.flush()
                else:
                    stream.write(text)
            return
        data = imports.export_xlsx(edition)
        target = Path(output or f"{edition.code}.xlsx")
        target.write_bytes(data)
        self.stdout.write(f"已导出到 {target}")
