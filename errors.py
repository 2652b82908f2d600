"""The project's one error hierarchy.

Domain code raises these; each edge translates them once: the REST API into an HTTP
status plus the stable ``code``, the Gradio UI into ``gr.Error(message)``.
A message says what was wrong and what to do about it.
"""

from __future__ import annotations


class AppError(Exception):
    """Base of every error a user or operator may see."""

    code = "app_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(AppError, ValueError):
    """The caller sent something we cannot use (empty text, bad CSV, weak password...)."""

    code = "invalid_input"


class CsvFormatError(InvalidInput):
    """An uploaded CSV/TSV cannot be read; `line` (1-based) and `column` say where, if known."""

    code = "csv_format_error"

    def __init__(self, reason: str, *, line: int | None = None, column: str | None = None) -> None:
        where = f"Line {line}: " if line is not None else ""
        super().__init__(f"{where}{reason}")
        self.reason = reason
        self.line = line
        self.column = column


class NotFound(AppError):
    code = "not_found"


class Conflict(AppError):
    code = "conflict"


class BatchCancelled(Conflict):
    """The user cancelled a running batch; nothing of it was saved."""

    code = "batch_cancelled"


class BatchFailed(AppError):
    """A batch job failed while scoring or saving; nothing of it was saved."""

    code = "batch_failed"


class Gone(AppError):
    """It existed but is no longer kept (e.g. a batch's files past BATCH_FILES_DAYS)."""

    code = "gone"


class AuthError(AppError):
    """Authentication failed; the message never says which part was wrong."""

    code = "not_authenticated"


class InvalidCredentials(AuthError):
    code = "invalid_credentials"


class InvalidToken(AuthError):
    code = "invalid_token"


class MfaRequired(AuthError):
    """The password was right, but this account also needs its two-factor code."""

    code = "mfa_required"


class PermissionDenied(AppError):
    code = "permission_denied"


class RateLimited(AppError):
    """Too many attempts; `retry_after` (seconds), when known, says when to try again."""

    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ModelError(AppError):
    """A sentiment model could not be loaded or its labels cannot be mapped."""

    code = "model_error"


class ConfigError(AppError):
    """Settings or the environment stop start-up; the message says how to fix it."""

    code = "config_error"


class DatabaseUnavailable(AppError):
    code = "database_unavailable"
