from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as SchemaError

from chuangwen.accountability.api import router as accountability_router
from chuangwen.bulletins.api import router as bulletins_router
from chuangwen.campaigns.api import router as campaigns_router
from chuangwen.duty.api import router as duty_router
from chuangwen.index.api import router as index_router
from chuangwen.inspections.api import router as inspections_router
from chuangwen.ledger.api import router as ledger_router
from chuangwen.org.api import router as org_router
from chuangwen.reports.api import router as reports_router
from chuangwen.reports.mock_api import router as reports_mock_router

from . import errors
from .auth import session_auth, token_auth


class ChuangwenAPI(NinjaAPI):
    def validation_error_from_error_contexts(self, error_contexts) -> SchemaError:
        """Input the schemas refuse, as Chinese messages naming each field (see `errors`)."""
        return SchemaError(errors.chinese_errors(error_contexts))


api = ChuangwenAPI(
    title="创文平台 API",
    version="1",
    description=(
        "教育系统创文工作管理平台的 JSON 接口。"
        "浏览器使用会话登录；集成系统使用 `Authorization: Bearer <令牌>`。"
    ),
    auth=[token_auth, session_auth],
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)


@api.exception_handler(AuthenticationError)
def not_authenticated(request, exc):
    response = api.create_response(request, {"detail": "未登录或登录已失效"}, status=401)
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(PermissionDenied)
def permission_denied(request, exc):
    return api.create_response(request, {"detail": str(exc) or "没有权限"}, status=403)


@api.exception_handler(Http404)
def not_found(request, exc):
    return api.create_response(request, {"detail": "对象不存在或无权访问"}, status=404)


@api.exception_handler(ValidationError)
def validation_error(request, exc):
    detail = exc.message_dict if hasattr(exc, "error_dict") else exc.messages
    return api.create_response(request, {"detail": detail}, status=422)


@api.exception_handler(SchemaError)
def schema_error(request, exc):
    """Input refused by a schema: the same 422 shape as a service's refusal, `{field: [message]}`."""
    return api.create_response(request, {"detail": errors.as_detail(exc.errors)}, status=422)


@api.exception_handler(HttpError)
def http_error(request, exc):
    detail = str(exc)
    if detail.startswith("Cannot parse request body"):
        detail = "请求体无法解析：请发送 JSON 对象（Content-Type: application/json）"
    return api.create_response(request, {"detail": detail}, status=exc.status_code)


@api.get("/me", tags=["账号"], summary="当前用户")
def me(request):
    from chuangwen.core import access

    user = request.user
    return {
        "id": user.pk,
        "username": user.username,
        "name": user.name,
        "phone": user.masked_phone,
        "roles": sorted(access.roles_of(user)),
    }


api.add_router("/", org_router)
api.add_router("/index/", index_router)
api.add_router("/duty/", duty_router)
api.add_router("/campaigns/", campaigns_router)
api.add_router("/inspections/", inspections_router)
api.add_router("/ledger/", ledger_router)
api.add_router("/reports/", reports_router)
api.add_router("/reports/mock/", reports_mock_router)
api.add_router("/bulletins/", bulletins_router)
api.add_router("/accountability/", accountability_router)
