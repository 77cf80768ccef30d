"""Authentication: who is calling (moving into modules by job)."""

from negotiate.auth.credentials import (
    ANONYMOUS as ANONYMOUS,
    Anonymous as Anonymous,
    AppTokenChecker as AppTokenChecker,
    AppTokens as AppTokens,
    Authenticator as Authenticator,
    Chain as Chain,
    CredentialAuthenticator as CredentialAuthenticator,
    Principal as Principal,
    RequireAppToken as RequireAppToken,
    XsrfAuthenticator as XsrfAuthenticator,
    hash_password as hash_password,
    new_token as new_token,
    parse_cookies as parse_cookies,
    token_digest as token_digest,
    verify_password as verify_password,
)
from negotiate.errors import TooManyPasswordChecks as TooManyPasswordChecks
from negotiate.superoffice import APP_TOKEN_HEADER as APP_TOKEN_HEADER

__all__ = [
    "ANONYMOUS",
    "APP_TOKEN_HEADER",
    "Anonymous",
    "AppTokenChecker",
    "AppTokens",
    "Authenticator",
    "Chain",
    "CredentialAuthenticator",
    "Principal",
    "RequireAppToken",
    "TooManyPasswordChecks",
    "XsrfAuthenticator",
    "hash_password",
    "new_token",
    "parse_cookies",
    "token_digest",
    "verify_password",
]
