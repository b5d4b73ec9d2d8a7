"""One exception per contract error code (docs/contract.md §3).

Raising one anywhere under a view yields `{"success": false, "error": code}`.
"""
from __future__ import annotations


class ApiError(Exception):
    """Base of every contract error; `code` is the wire spelling."""

    code = "internal_error"
    # HTTP status used only when the operator opts into REST-style statuses.
    rest_status = 500

    def __init__(self, detail: str = "") -> None:
        # `detail` is for logs and tests, never sent to the caller.
        super().__init__(detail or self.code)


class InternalError(ApiError):
    code, rest_status = "internal_error", 500


class NotConfigured(ApiError):
    """The server itself lacks its configuration (e.g. a dev run without a signing key).

    Not the caller's fault and not unexpected: the operator gets one clear log
    line naming what to do, the caller this code instead of `internal_error`.
    """

    code, rest_status = "not_configured", 503


class Forbidden(ApiError):
    """A function URL request without the front door's secret: the function URL
    hit directly, not through CloudFront (chalicelib/lambda_app.py)."""

    code, rest_status = "forbidden", 403


class BadRequest(ApiError):
    code, rest_status = "bad_request", 400


class NotFound(ApiError):
    code, rest_status = "not_found", 404


class WrongMethod(ApiError):
    code, rest_status = "wrong_method", 405


class InvalidSecret(ApiError):
    code, rest_status = "invalid_secret", 403


class MissingInput(ApiError):
    code, rest_status = "missing_input", 400


class InvalidToken(ApiError):
    code, rest_status = "invalid_token", 400


class UnknownUser(ApiError):
    code, rest_status = "unknown_user", 404


class InvalidAmount(ApiError):
    code, rest_status = "invalid_amount", 400


class InsufficientFunds(ApiError):
    # Coinhive's spelling, kept for wire compatibility.
    code, rest_status = "insufficent_funds", 409


class InvalidPage(ApiError):
    code, rest_status = "invalid_page", 400


class InvalidUrl(ApiError):
    code, rest_status = "invalid_url", 400


class InvalidSite(ApiError):
    code, rest_status = "invalid_site", 403


class InvalidLink(ApiError):
    code, rest_status = "invalid_link", 404


class InvalidJob(ApiError):
    code, rest_status = "invalid_job", 400


class DuplicateShare(ApiError):
    code, rest_status = "duplicate_share", 409


class InvalidShare(ApiError):
    code, rest_status = "invalid_share", 400


class Busy(ApiError):
    """The source or the site is over its limit; retry after `retry_after`
    seconds (the answer's `Retry-After`). Nothing was read or written."""

    code, rest_status = "busy", 429

    def __init__(self, retry_after: int, detail: str = "") -> None:
        super().__init__(detail)
        self.retry_after = max(1, int(retry_after))


def contract_codes() -> dict[str, type[ApiError]]:
    """Every error code on the wire (each ApiError subclass's `code`) and its class."""
    found: dict[str, type[ApiError]] = {}
    todo: list[type[ApiError]] = [ApiError]
    while todo:
        cls = todo.pop()
        found.setdefault(cls.code, cls)
        todo.extend(cls.__subclasses__())
    return found


def dynamo_error_code(exc: BaseException) -> str | None:
    """The DynamoDB error code of a botocore ClientError, or of the one behind a
    pynamodb exception (its `cause`, followed down), or None.

    pynamodb's `cause_response_code` assumes a cause whose `response` is a
    dict; a cause without one (a timeout, a connection reset) or with another
    shape must not turn one error into a second one.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        response = getattr(current, "response", None)
        error = response.get("Error") if isinstance(response, dict) else None
        code = error.get("Code") if isinstance(error, dict) else None
        if isinstance(code, str) and code:
            return code
        cause = getattr(current, "cause", None)
        current = cause if isinstance(cause, BaseException) else None
    return None
