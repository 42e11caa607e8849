"""Typed readers for environment variables; a bad value stops start-up with a clear message."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit


class ConfigError(RuntimeError):
    """A configuration value from the environment is missing or malformed."""


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name}={raw!r} is not a boolean (use 1/0, true/false, yes/no, on/off)")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not an integer") from None
    if minimum is not None and value < minimum:
        raise ConfigError(f"{name}={value} is below the minimum {minimum}")
    return value


def read_secret(env_name: str, file_path: str) -> str:
    """A secret named by a configuration row (a mailbox password, a webhook key): from the
    environment variable `env_name` if given, else from the file; ConfigError says which is
    missing, never the secret."""
    if env_name:
        value = os.environ.get(env_name, "")
        if not value:
            raise ConfigError(f"the environment variable {env_name} is not set or empty")
        return value
    if not file_path:
        raise ConfigError("no environment variable or file is named for the secret")
    try:
        value = Path(file_path).read_text(encoding="utf-8").strip()
    except OSError as error:
        raise ConfigError(f"cannot read the secret file {file_path}: {error.strerror}") from None
    if not value:
        raise ConfigError(f"the secret file {file_path} is empty")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def parse_database_url(url: str, *, base_dir: Path) -> dict[str, Any]:
    """Turn `sqlite:///var/db.sqlite3` or `postgres://user:pw@host/db` into a DATABASES entry."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        # sqlite:///relative/path and sqlite:////absolute/path, as in dj-database-url.
        raw_path = unquote(parts.path[1:] if parts.path.startswith("/") else parts.path)
        if not raw_path:
            raise ConfigError(f"DATABASE_URL={url!r} names no SQLite file")
        path = Path(raw_path)
        return sqlite_database(path if path.is_absolute() else base_dir / path)
    if parts.scheme in {"postgres", "postgresql", "pgsql"}:
        name = unquote(parts.path.lstrip("/"))
        if not name:
            raise ConfigError(f"DATABASE_URL={url!r} names no database")
        options = dict(parse_qsl(parts.query))
        try:
            port = parts.port
        except ValueError:
            raise ConfigError(f"DATABASE_URL={url!r} has a malformed port") from None
        return {
            "ENGINE": "kesu.postgresql",
            "NAME": name,
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(port or ""),
            # Persistent connections with a health check: a request must not pay for a new
            # connection, and a connection the server dropped must not fail a request.
            "CONN_MAX_AGE": env_int("KESU_DB_CONN_MAX_AGE", 60, minimum=0),
            "CONN_HEALTH_CHECKS": True,
            # Server-side binding, and statements a connection runs a fifth time prepared, so
            # that PostgreSQL stops planning intake's and the queues' statements every time
            # (Django turns preparing off unless asked). A transaction-mode pooler without
            # prepared-statement support needs KESU_DB_PREPARED_STATEMENTS=0.
            "OPTIONS": {
                "server_side_binding": True,
                "prepare_threshold": 5 if env_bool("KESU_DB_PREPARED_STATEMENTS", True) else None,
                **options,
            },
        }
    raise ConfigError(
        f"DATABASE_URL={url!r}: unsupported scheme {parts.scheme!r} (use sqlite:/// or postgres://)"
    )


def sqlite_database(path: Path) -> dict[str, Any]:
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        "OPTIONS": {
            # WAL lets readers go on while one writer writes; IMMEDIATE takes the write lock at
            # BEGIN so that two writers queue on busy_timeout instead of failing with
            # "database is locked" when a read transaction tries to upgrade.
            "init_command": (
                "PRAGMA journal_mode=WAL;"
                "PRAGMA synchronous=NORMAL;"
                "PRAGMA foreign_keys=ON;"
                "PRAGMA temp_store=MEMORY;"
                "PRAGMA cache_size=-65536;"
            ),
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
        },
    }
