"""`python app.py [command]`: serve (the default) and the operator's commands.

Every command reads the same settings as the server (environment variables or `.env`).
A failure prints one paragraph saying what is wrong and how to fix it, and exits with 1.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import secrets
import sys
import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import TextIO

from errors import AppError, DatabaseUnavailable, InvalidInput
from settings import Settings, describe_database, load_settings, with_secret_key
from storage.engine import Database

logger = logging.getLogger("sentiscope")

Serve = Callable[[], int]

EPILOG = (
    "Settings come from environment variables (or .env), as for the server; see README.md. "
    "Deployment guide: docs/deploy.md."
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python app.py",
        description="Sentiscope: multi-user sentiment analysis. Without a command: serve.",
        epilog=EPILOG,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, summary: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, help=summary, description=summary, epilog=EPILOG)

    add("serve", "Serve the web UI and the REST API on HOST:PORT (the default).")
    add("migrate", "Bring the database schema to the latest revision, then exit.")
    add(
        "check",
        "Check the configuration: mode, database (reachable, SSL mode, schema), SECRET_KEY "
        "and the model (load time). Exit code 0 when Sentiscope can run, 1 when not.",
    )
    admin = add(
        "create-admin",
        "Create an admin account, or make an existing user an admin. The password is "
        "prompted for, or read from stdin or an environment variable; never from arguments.",
    )
    admin.add_argument("username")
    source = admin.add_mutually_exclusive_group()
    source.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of stdin",
    )
    source.add_argument(
        "--password-env", metavar="VAR", help="read the password from environment variable VAR"
    )
    add("generate-secret", "Print a new random SECRET_KEY (64 hex characters).")
    backup = add(
        "backup",
        "Write every user, prediction, batch and auth event to FILE (portable JSON lines; "
        "restores on SQLite or PostgreSQL).",
    )
    backup.add_argument("file", type=Path, metavar="FILE")
    restore = add(
        "restore",
        "Load a backup FILE into an empty database (the one DATABASE_URL or DATA_DIR names).",
    )
    restore.add_argument("file", type=Path, metavar="FILE")
    worker = add(
        "worker",
        "Run a standalone batch worker (PostgreSQL): it scores chunks of any replica's "
        "batch jobs until SIGTERM. Run one or more per machine; see docs/scaling.md.",
    )
    worker.add_argument(
        "--concurrency", type=int, default=1, metavar="N", help="chunks scored at once (1)"
    )
    add(
        "prepare-model",
        "Load the sentiment model once so its ONNX export is cached (the image build runs it).",
    )
    return parser


def run(argv: Sequence[str], serve: Serve, out: TextIO = sys.stdout) -> int:
    """Parse `argv`, run the command and return the exit code."""
    args = build_parser().parse_args(argv)
    command = args.command or "serve"
    if command == "serve":
        return serve()
    if command == "generate-secret":
        out.write(secrets.token_hex(32) + "\n")
        return 0
    # Progress of long steps (migrations, a restore) is worth seeing; the rest is noise.
    verbose = command in {"migrate", "restore", "worker"}
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    handlers: dict[str, Callable[[argparse.Namespace, TextIO], int]] = {
        "migrate": _migrate,
        "check": _check,
        "create-admin": _create_admin,
        "backup": _backup,
        "restore": _restore,
        "prepare-model": _prepare_model,
        "worker": _worker,
    }
    try:
        return handlers[command](args, out)
    except AppError as exc:
        sys.stderr.write(f"python app.py {command}: {exc.message}\n")
        return 1


def _worker(args: argparse.Namespace, out: TextIO) -> int:
    from ops.worker import run_worker

    if args.concurrency < 1:
        raise InvalidInput("--concurrency must be 1 or more.")
    return run_worker(_settings(), args.concurrency, out)


def _settings() -> Settings:
    settings = load_settings()
    if settings.LOG_LEVEL == "DEBUG":
        logging.getLogger().setLevel(logging.DEBUG)
    return settings


def _migrate(_args: argparse.Namespace, out: TextIO) -> int:
    from services import open_database
    from storage.migrate import current_revision

    settings = _settings()
    db = open_database(settings)  # connects and upgrades to head
    try:
        revision = current_revision(db.engine)
    finally:
        db.dispose()
    out.write(f"The {describe_database(db.url)} is at the latest schema revision ({revision}).\n")
    return 0


def _check(_args: argparse.Namespace, out: TextIO) -> int:
    from ops.check import passed, render, run_check

    findings = run_check()
    out.write(render(findings) + "\n")
    return 0 if passed(findings) else 1


def read_password(args: argparse.Namespace, stdin: TextIO) -> str:
    """The new admin's password from --password-env, --password-stdin or a prompt."""
    if args.password_env:
        value = os.environ.get(args.password_env)
        if not value:
            raise InvalidInput(
                f"The environment variable {args.password_env} is not set or empty; set it "
                "to the password, or leave out --password-env to be prompted."
            )
        return value
    if args.password_stdin:
        line = stdin.readline()
        password = line.removesuffix("\n").removesuffix("\r")
        if not password:
            raise InvalidInput("No password on stdin; pipe it in, e.g. `... < password.txt`.")
        return password
    if not stdin.isatty():
        raise _no_terminal()
    password = getpass.getpass("Password for the admin: ")
    if getpass.getpass("Repeat the password: ") != password:
        raise InvalidInput("The two passwords differ; run create-admin again.")
    return password


def _no_terminal() -> InvalidInput:
    return InvalidInput(
        "There is no terminal to ask for the password on. Pass --password-stdin and pipe "
        "the password in, or --password-env VAR with the password in VAR."
    )


def _create_admin(args: argparse.Namespace, out: TextIO) -> int:
    from auth.passwords import PasswordHasher
    from auth.service import AccountService
    from auth.tokens import TokenService
    from services import open_database
    from storage import users

    if not (args.password_env or args.password_stdin or sys.stdin.isatty()):
        raise _no_terminal()  # before touching the database
    settings = with_secret_key(_settings())
    db = open_database(settings)
    try:
        with db.session_scope() as session:
            existing = users.get_by_username(session, args.username.strip())
        password = "" if existing else read_password(args, sys.stdin)
        assert settings.SECRET_KEY is not None  # with_secret_key guarantees it
        tokens = TokenService(
            settings.SECRET_KEY.get_secret_value(),
            ttl=timedelta(seconds=settings.ACCESS_TOKEN_TTL),
        )
        accounts = AccountService(db, PasswordHasher(), tokens)
        accounts.ensure_admin(args.username.strip(), password)
    finally:
        db.dispose()
    if existing:
        out.write(f"{args.username.strip()} already existed and is now an admin ")
        out.write("(password unchanged).\n")
    else:
        out.write(f"Created the admin {args.username.strip()}.\n")
    return 0


def _connect(settings: Settings, *, must_exist: bool) -> Database:
    url = settings.database_url()
    if must_exist and url.get_backend_name() == "sqlite" and not Path(str(url.database)).exists():
        raise DatabaseUnavailable(
            f"There is no database at {url.database}; check DATA_DIR or DATABASE_URL."
        )
    try:
        db = Database(url, connect_timeout=settings.DB_CONNECT_TIMEOUT, pool_size=1)
    except OSError as exc:
        raise DatabaseUnavailable(f"Cannot open {describe_database(url)}: {exc}") from None
    db.ping_or_dispose()
    return db


def _backup(args: argparse.Namespace, out: TextIO) -> int:
    from batch.service import RESULTS_FOLDER
    from storage.backup import backup

    settings = _settings()
    db = _connect(settings, must_exist=True)
    try:
        summary = backup(db, args.file, settings.DATA_DIR / RESULTS_FOLDER)
    finally:
        db.dispose()
    out.write(f"Backed up {summary.describe()} from the {describe_database(db.url)} ")
    out.write(f"to {args.file}.\n")
    return 0


def _restore(args: argparse.Namespace, out: TextIO) -> int:
    from batch.adopt import adopt_parts
    from batch.service import RESULTS_FOLDER
    from storage.backup import restore

    if not args.file.is_file():
        raise InvalidInput(f"There is no backup file at {args.file}.")
    settings = _settings()
    db = _connect(settings, must_exist=False)
    try:
        summary = restore(db, args.file, settings.DATA_DIR / RESULTS_FOLDER)
        moved = adopt_parts(db, settings.DATA_DIR / RESULTS_FOLDER)
    finally:
        db.dispose()
    out.write(f"Restored {summary.describe()} into the {describe_database(db.url)}.\n")
    if moved:
        out.write(f"Moved {moved:,} stored batch parts to where this database keeps them.\n")
    return 0


def _prepare_model(_args: argparse.Namespace, out: TextIO) -> int:
    from services import load_settings_model

    settings = _settings()
    started = time.perf_counter()
    model = load_settings_model(settings)
    seconds = time.perf_counter() - started
    out.write(f"Model {model.model_id} ({model.backend}) ready in {seconds:.1f} s; ")
    out.write(f"cache: {settings.model_cache_dir}\n")
    return 0
