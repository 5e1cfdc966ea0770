"""URLs of the mock evaluation (模拟测评) pages, included by reports/urls.py (namespace "reports")."""

urlpatterns: list = []
