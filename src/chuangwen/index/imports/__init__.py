"""Import and export of evaluation-index editions (Excel in the task-table layout, and YAML).

- `parse_excel(data)` / `parse_yaml(data)`: read an upload as hostile input into a `ParseResult` (the tree
  and every issue, placed by sheet/row/column or by YAML path). No writes.
- `parse_file(data, fmt)`: either, by format.
- `edition_import(result=..., name=..., code=..., actor=...)`: a new draft edition, all or nothing.
- `export_yaml(edition)` / `export_xlsx(edition)`: the same formats, so an export re-imports unchanged;
  `template_bytes()`: the Excel template with its 填写说明 sheet.
- `index_import_batch_*`: the wizard's staging (upload → preview → confirm or discard).

Every import and export is an audit event (`index.import`, `index.export`).
"""

from .apply import check_identity, edition_import
from .batches import (
    index_import_batch_apply,
    index_import_batch_create,
    index_import_batch_discard,
)
from .excel import INDEX_SPEC, parse_excel, template_bytes, workbook_bytes
from .exports import edition_data, export_xlsx, export_yaml
from .tree import EditionData, GroupData, ParseResult, StandardData
from .yaml_io import YAML_CONTENT_TYPE, parse_yaml, yaml_text

FORMATS = ("xlsx", "yaml")


def format_of(filename: str) -> str | None:
    """'xlsx' or 'yaml' by the file name's extension, else None."""
    name = filename.lower()
    if name.endswith(".xlsx"):
        return "xlsx"
    if name.endswith((".yaml", ".yml")):
        return "yaml"
    return None


def parse_file(data: bytes, fmt: str) -> ParseResult:
    return parse_excel(data) if fmt == "xlsx" else parse_yaml(data)


__all__ = [
    "FORMATS",
    "INDEX_SPEC",
    "YAML_CONTENT_TYPE",
    "EditionData",
    "GroupData",
    "ParseResult",
    "StandardData",
    "check_identity",
    "edition_data",
    "edition_import",
    "export_xlsx",
    "export_yaml",
    "format_of",
    "index_import_batch_apply",
    "index_import_batch_create",
    "index_import_batch_discard",
    "parse_excel",
    "parse_file",
    "parse_yaml",
    "template_bytes",
    "workbook_bytes",
    "yaml_text",
]
