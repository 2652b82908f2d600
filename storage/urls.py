"""What a DATABASE_URL may be, and how Sentiscope names a database without its password."""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

_POSTGRES_SCHEMES = {"postgres", "postgresql", "postgresql+psycopg"}
_SSLMODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
_URL_HELP = (
    "Use postgresql://USER:PASSWORD@HOST:5432/DBNAME (postgres:// also works; options such "
    "as ?sslmode=require are kept; percent-encode special characters in the password), "
    "sqlite:///path/to/file.db, or leave DATABASE_URL unset for the local SQLite file."
)


def normalize_database_url(raw: str) -> URL:
    """Parse DATABASE_URL, accepting Render/Neon/Heroku-style `postgres://` URLs.

    Query options such as `sslmode=require` are kept. Raises ValueError with a fix.
    """
    try:
        url = make_url(raw.strip())
    except (ArgumentError, ValueError):
        # The raw value may contain a password, so it is never echoed back.
        raise ValueError(f"DATABASE_URL is malformed and cannot be parsed. {_URL_HELP}") from None
    if url.drivername in _POSTGRES_SCHEMES:
        if not url.host and not url.query.get("host"):
            raise ValueError(f"DATABASE_URL has no host name. {_URL_HELP}")
        sslmode = url.query.get("sslmode")
        if sslmode is not None and sslmode not in _SSLMODES:
            raise ValueError(
                f"DATABASE_URL has sslmode={sslmode!r}; use one of {', '.join(_SSLMODES)} "
                "(require: encrypt, verify-full: encrypt and check the certificate and host)."
            )
        return url.set(drivername="postgresql+psycopg")
    if url.drivername == "sqlite":
        if not url.database or url.database == ":memory:":
            raise ValueError(f"DATABASE_URL must name a SQLite file, not memory. {_URL_HELP}")
        return url
    raise ValueError(f"DATABASE_URL uses the unsupported scheme {url.drivername!r}. {_URL_HELP}")


def describe_database(url: URL) -> str:
    """`PostgreSQL at host:port/dbname` or `SQLite at path`, never the password."""
    if url.get_backend_name() == "sqlite":
        return f"SQLite at {url.database}"
    return f"PostgreSQL at {url.host}:{url.port or 5432}/{url.database or url.username or ''}"
