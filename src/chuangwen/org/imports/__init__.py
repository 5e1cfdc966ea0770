"""Excel import and export of schools and classes.

- `school_template()` / `class_template()`: empty workbooks with a help sheet and dropdowns.
- `parse_schools()` / `parse_classes()`: read an upload as hostile input and check it against the database;
  return an `ImportResult` (planned rows, errors naming sheet/row/column, a preview summary). No writes.
- `apply_schools()` / `apply_classes()`: re-parse and upsert everything in one transaction, or nothing.
- `export_schools()` / `export_classes()`: the same layout, so an export re-imports unchanged.
- `import_batch_*`: the wizard's staging (upload → preview → apply or discard).

Every apply and every export is an audit event (`org.import`, `org.export`).
"""

from chuangwen.core.staging_services import check_size

from .batches import (
    can_import,
    import_batch_apply,
    import_batch_create,
    import_batch_discard,
    importable_kinds,
)
from .classes import CLASS_SPEC, apply_classes, class_template, export_classes, parse_classes
from .result import ACTION_LABELS, CREATE, UNCHANGED, UPDATE, ImportResult, PlannedRow
from .schools import SCHOOL_SPEC, apply_schools, export_schools, parse_schools, school_template
from .workbook import NOT_XLSX, XLSX_CONTENT_TYPE, Issue

__all__ = [
    "ACTION_LABELS",
    "CLASS_SPEC",
    "CREATE",
    "NOT_XLSX",
    "SCHOOL_SPEC",
    "UNCHANGED",
    "UPDATE",
    "XLSX_CONTENT_TYPE",
    "ImportResult",
    "Issue",
    "PlannedRow",
    "apply_classes",
    "apply_schools",
    "can_import",
    "check_size",
    "class_template",
    "export_classes",
    "export_schools",
    "import_batch_apply",
    "import_batch_create",
    "import_batch_discard",
    "importable_kinds",
    "parse_classes",
    "parse_schools",
    "school_template",
]
