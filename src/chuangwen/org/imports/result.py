"""What a parse produces: the planned rows, the errors, and a JSON-safe preview summary."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .workbook import MAX_ERRORS, Issue

CREATE, UPDATE, UNCHANGED = "create", "update", "unchanged"
ACTION_LABELS = {CREATE: "新增", UPDATE: "更新", UNCHANGED: "无变化"}
PREVIEW_ROWS = 50


@dataclass
class PlannedRow:
    row: int  # the row number in the sheet, as Excel shows it
    action: str  # CREATE, UPDATE or UNCHANGED
    values: list[Any]  # display values, in ImportResult.columns order
    changes: list[str] = field(default_factory=list)  # "学生数：45 → 48"
    obj: Any = None  # the model instance to insert or update, already carrying the new values


@dataclass
class ImportResult:
    kind: str  # ImportBatch.Kind value
    columns: list[str]
    sheet: str = ""
    rows: list[PlannedRow] = field(default_factory=list)
    errors: list[Issue] = field(default_factory=list)  # the first MAX_ERRORS
    error_count: int = 0  # all of them

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def add(self, issue: Issue) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(issue)

    def error(self, message: str, *, row: int | None = None, column: str = "") -> None:
        self.add(Issue(message, sheet=self.sheet, row=row, column=column))

    def planned(self, action: str) -> list[PlannedRow]:
        return [r for r in self.rows if r.action == action]

    @property
    def counts(self) -> dict[str, int]:
        counts = {CREATE: 0, UPDATE: 0, UNCHANGED: 0}
        for r in self.rows:
            counts[r.action] += 1
        return {"total": len(self.rows), **counts}

    def summary(self) -> dict[str, Any]:
        """The preview as stored on the batch: counts, the first rows (changes first), the error total."""
        changed = [r for r in self.rows if r.action != UNCHANGED]
        unchanged = [r for r in self.rows if r.action == UNCHANGED]
        shown = (changed + unchanged)[:PREVIEW_ROWS]
        return {
            **self.counts,
            "sheet": self.sheet,
            "columns": self.columns,
            "rows": [
                {
                    "row": r.row,
                    "action": r.action,
                    "action_label": ACTION_LABELS[r.action],
                    "values": ["" if v is None else v for v in r.values],
                    "changes": r.changes,
                }
                for r in shown
            ],
            "rows_shown": len(shown),
            "error_count": self.error_count,
        }

    def errors_json(self) -> list[dict[str, Any]]:
        return [issue.as_dict() for issue in self.errors]
