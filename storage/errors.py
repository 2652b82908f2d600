"""Turn a driver's failure into a message: for the operator at start-up (cause and fix),
for the user while running (what happened and to try again)."""

from __future__ import annotations

from sqlalchemy.engine import URL
from sqlalchemy.exc import TimeoutError as PoolTimeout

from storage.urls import describe_database

_PASSWORD = ("password authentication failed", "no password supplied", "28p01")
_DNS = (
    "could not translate host name",
    "name or service not known",
    "temporary failure in name resolution",
    "nodename nor servname",
)
_UNREACHABLE = ("timeout expired", "timed out", "network is unreachable", "no route to host")


def explain_connection_error(url: URL, exc: BaseException) -> str:
    """Explain why connecting to `url` failed. Never includes the password."""
    where = describe_database(url)
    if url.get_backend_name() == "sqlite":
        return (
            f"Cannot open the {where}: {first_line(exc)}. Fix: make sure the directory "
            "exists and is writable by this user (DATA_DIR), or point DATABASE_URL elsewhere."
        )
    driver_error = getattr(exc, "orig", None) or exc
    message = str(driver_error).lower()
    sqlstate = (getattr(driver_error, "sqlstate", None) or "").lower()
    user = url.username or "(none)"
    address = f"{url.host}:{url.port or 5432}"
    if any(marker in message for marker in _PASSWORD) or sqlstate == "28p01":
        cause = f"PostgreSQL rejected the password for user {user!r} ({where})"
        fix = (
            "correct the user name and password in DATABASE_URL; percent-encode special "
            "characters such as @ : / in the password"
        )
    elif "database" in message and "does not exist" in message:
        cause = f"the database {url.database!r} does not exist ({where})"
        fix = f"create it (createdb {url.database}) or correct the name at the end of DATABASE_URL"
    elif "role" in message and "does not exist" in message:
        cause = f"the user {user!r} does not exist on the server ({where})"
        fix = "correct the user name in DATABASE_URL or create the role"
    elif "pg_hba.conf" in message or sqlstate == "28000":
        cause = f"PostgreSQL does not accept connections from this host for user {user!r}"
        fix = "allow this client in pg_hba.conf, or add ?sslmode=require if the server needs TLS"
    elif "connection refused" in message:
        cause = f"nothing accepts connections at {address} (connection refused)"
        fix = "start PostgreSQL, or correct the host and port in DATABASE_URL"
    elif any(marker in message for marker in _DNS):
        cause = f"the host name {url.host!r} in DATABASE_URL cannot be resolved"
        fix = "correct the host name in DATABASE_URL or check this machine's DNS"
    elif any(marker in message for marker in _UNREACHABLE):
        cause = f"the server at {address} did not answer (unreachable or timed out)"
        fix = (
            "check the host and port in DATABASE_URL, the network and any firewall; "
            "raise DB_CONNECT_TIMEOUT if the server is just slow"
        )
    elif "ssl" in message:
        cause = f"the TLS (SSL) negotiation with {address} failed: {first_line(driver_error)}"
        fix = "set ?sslmode= in DATABASE_URL to what the server supports (require or disable)"
    else:
        cause = f"connecting to {where} failed: {first_line(driver_error)}"
        fix = "check DATABASE_URL and that the PostgreSQL server is running and reachable"
    return f"Cannot connect to the database: {cause}. Fix: {fix}."


_LOCKED = ("database is locked", "database table is locked", "database is busy")
UNAVAILABLE = (
    "The database is unavailable right now, so this was not done. Try again in a few seconds."
)


def explain_runtime_error(url: URL, exc: BaseException, statement_timeout_ms: int) -> str:
    """What a user is told when the database fails during an operation; never host names."""
    driver_error = getattr(exc, "orig", None) or exc
    message = str(driver_error).lower()
    sqlstate = getattr(driver_error, "sqlstate", None) or ""
    seconds = f"{statement_timeout_ms / 1000:g} s"
    if sqlstate == "57014" and "statement timeout" in message:
        return (
            f"The database took longer than {seconds} (DB_STATEMENT_TIMEOUT_MS) and cancelled "
            "the operation; nothing was changed. Try again, or ask for less at once."
        )
    if url.get_backend_name() == "sqlite" and any(m in message for m in _LOCKED):
        return (
            f"The database stayed busy with another write for over {seconds}, so this was not "
            "done. Try again in a moment."
        )
    if isinstance(exc, PoolTimeout):
        return (
            "Every database connection is busy (DB_POOL_SIZE), so this was not done. "
            "Try again in a few seconds."
        )
    return UNAVAILABLE


def first_line(exc: BaseException) -> str:
    """The first non-blank line of an error, without a trailing full stop."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return (lines[0] if lines else type(exc).__name__).rstrip(".")
