"""The one NinjaAPI, mounted at /api/v1/, with a router per app. OpenAPI at /api/v1/docs."""

from __future__ import annotations

from ninja.renderers import JSONRenderer

from huanxin.accounts.api import router as accounts_router
from huanxin.accounts.services import authenticate_token
from huanxin.catalogue.api import router as catalogue_router
from huanxin.core.api import router as core_router
from huanxin.core.api_support import ProblemDocumentedAPI, StaffSession, TokenAuth, install_error_handlers
from huanxin.core.parsing import StrictJSONParser
from huanxin.policy.api import router as policy_router
from huanxin.recycling.api import router as recycling_router
from huanxin.settlement.api import router as settlement_router
from huanxin.subsidies.api import router as subsidies_router
from huanxin.trace.api import router as trace_router
from huanxin.vehicles.api import router as vehicles_router


class ChineseJSONRenderer(JSONRenderer):
    """UTF-8 JSON without \\u escapes: Chinese messages stay readable in logs and terminals."""

    json_dumps_params = {"ensure_ascii": False}


api = ProblemDocumentedAPI(
    renderer=ChineseJSONRenderer(),
    parser=StrictJSONParser(),
    title="换新 Huanxin API",
    version="1",
    description=(
        "设备更新和消费品以旧换新平台接口。写操作均支持 `Idempotency-Key` 请求头：相同键的重试返回首次结果，"
        "不会重复执行。错误以 RFC 9457 problem details（`application/problem+json`）返回，含稳定的 `code`"
        "与逐字段的 `errors`。认证：`Authorization: Bearer <令牌>`（收银系统等）或浏览器会话。"
    ),
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
    auth=[TokenAuth(authenticate_token), StaffSession()],
)
install_error_handlers(api)
api.add_router("/", core_router)
api.add_router("/accounts", accounts_router)
api.add_router("/", policy_router)
api.add_router("/catalogue", catalogue_router)
api.add_router("/subsidies", subsidies_router)
api.add_router("/settlement", settlement_router)
api.add_router("/trace", trace_router)
api.add_router("/vehicles", vehicles_router)
api.add_router("/recycling", recycling_router)
