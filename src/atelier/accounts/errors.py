"""The errors of accounts and authentication, each with its stable code."""

from __future__ import annotations

from atelier.errors import AtelierError, BadRequest, Conflict, Unauthorized


class Forbidden(AtelierError):
    status_code = 403
    code = "forbidden"


class AuthenticationRequired(Unauthorized):
    code = "authentication_required"


class InvalidCredentials(Unauthorized):
    code = "invalid_credentials"


class TokenExpired(Unauthorized):
    code = "token_expired"


class InvalidApiKey(Unauthorized):
    code = "invalid_api_key"


class InvalidRefreshToken(Unauthorized):
    code = "invalid_refresh_token"


class RefreshTokenReused(Unauthorized):
    code = "refresh_token_reused"


class AccountDisabled(Forbidden):
    code = "account_disabled"


class InsufficientScope(Forbidden):
    code = "insufficient_scope"


class RegistrationClosed(Forbidden):
    code = "registration_closed"


class CredentialsInUrl(BadRequest):
    code = "credentials_in_url"


class EmailTaken(Conflict):
    code = "email_taken"


class LastAdmin(Conflict):
    code = "last_admin"


class TooManyApiKeys(Conflict):
    code = "too_many_api_keys"
