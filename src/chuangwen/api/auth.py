from ninja.security import HttpBearer, SessionAuth

from chuangwen.accounts.services import token_authenticate


class TokenAuth(HttpBearer):
    """`Authorization: Bearer cw_…` for integrations (city platforms, mobile apps)."""

    openapi_scheme = "bearer"

    def authenticate(self, request, token):
        user = token_authenticate(token)
        if user is not None:
            request.user = user
        return user


session_auth = SessionAuth(csrf=True)
token_auth = TokenAuth()
