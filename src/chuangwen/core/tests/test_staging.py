"""The staging shared by the import wizards: stored names, and what a confirmation may not do."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from chuangwen.core import staging_services as staging
from chuangwen.core.staging import staged_upload_to
from chuangwen.duty.models import AssignmentUpload
from chuangwen.index.models import IndexImportBatch
from chuangwen.org.models import ImportBatch


@pytest.mark.parametrize(
    ("batch", "pattern"),
    [
        (ImportBatch(kind="schools"), r"imports/[0-9a-f]{32}\.xlsx"),
        (IndexImportBatch(fmt="yaml"), r"index-imports/[0-9a-f]{32}\.yaml"),
        (IndexImportBatch(fmt="xlsx"), r"index-imports/[0-9a-f]{32}\.xlsx"),
        (AssignmentUpload(), r"imports/duty-[0-9a-f]{32}\.xlsx"),
    ],
)
def test_stored_names_are_random_and_never_the_users(batch, pattern):
    name = staged_upload_to(batch, "../../名单.xlsx")
    assert re.fullmatch(pattern, name)
    assert name != staged_upload_to(batch, "../../名单.xlsx")


def test_only_the_uploader_may_confirm_or_discard(city):
    from chuangwen.core.roles import Role

    office, admin = city.users[Role.OFFICE], city.users[Role.ADMIN]
    batch = ImportBatch.objects.create(kind="classes", uploaded_by=office, original_name="a.xlsx")
    staging.require_uploader(batch=batch, actor=office)
    with pytest.raises(PermissionDenied):
        staging.require_uploader(batch=batch, actor=admin)
    with pytest.raises(PermissionDenied):
        staging.discard(batch=batch, actor=admin)
    with pytest.raises(ValidationError, match="找不到该批次上传的文件"):
        staging.stored_bytes(batch)
    assert staging.discard(batch=batch, actor=office).status == ImportBatch.Status.DISCARDED
    with pytest.raises(ValidationError, match="不能导入"):
        staging.lock_previewed(batch=batch)
