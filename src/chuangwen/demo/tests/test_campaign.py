"""`chuangwen demo` also loads the reference edition and puts a named person on every standard."""

import pytest
from django.core.management import call_command

from chuangwen.core.audit import verify_chain
from chuangwen.core.models import AuditEvent
from chuangwen.duty.models import BureauAssignment, SchoolAssignment
from chuangwen.index.models import Edition, Standard
from chuangwen.org.models import Unit


@pytest.mark.django_db
def test_demo_publishes_the_reference_edition_and_owns_every_applicable_pair():
    call_command("demo", verbosity=0)
    edition = Edition.objects.get(code="ref-2026")
    assert edition.status == Edition.Status.PUBLISHED
    standards = list(Standard.objects.filter(edition=edition))
    types = list(Unit.objects.filter(kind=Unit.Kind.SCHOOL).values_list("school_type", flat=True))
    applicable = sum(1 for s in standards for t in types if t in s.school_types)
    assignments = SchoolAssignment.objects.filter(standard__edition=edition)
    assert applicable > 10_000
    assert assignments.count() == applicable
    assert not assignments.filter(owner__isnull=True).exists()
    assert not assignments.filter(leader__isnull=True).exists()
    with_department = [s for s in standards if s.lead_department_id]
    assert BureauAssignment.objects.filter(standard__edition=edition, person__isnull=False).count() == len(
        with_department
    )

    counts = (SchoolAssignment.objects.count(), BureauAssignment.objects.count(), AuditEvent.objects.count())
    call_command("demo", verbosity=0)
    assert (
        SchoolAssignment.objects.count(),
        BureauAssignment.objects.count(),
        AuditEvent.objects.count(),
    ) == counts
    assert verify_chain().ok
