from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from chuangwen.core import access


@login_required
def import_start(request):
    access.require(access.can_manage_units(request.user) or access.can_import_classes(request.user))
    return render(request, "org/import_start.html", {})


@login_required
def school_export(request):
    raise NotImplementedError


@login_required
def class_export(request):
    raise NotImplementedError
