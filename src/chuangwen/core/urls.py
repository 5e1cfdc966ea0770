from django.urls import path

from . import views
from .evidence import views as evidence_views

app_name = "core"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("ping", views.ping, name="ping"),
    path("audit/", views.audit_list, name="audit_list"),
    path("evidence/<int:pk>/stamped.jpg", evidence_views.stamped, name="evidence_stamped"),
    path("evidence/<int:pk>/thumb.jpg", evidence_views.thumbnail, name="evidence_thumbnail"),
]
