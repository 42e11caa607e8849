"""Project-level pieces: health check, settings from the environment, commands."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from kesu.env import ConfigError, env_bool, env_int, parse_database_url


@pytest.mark.django_db
def test_healthz_reports_the_database(client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_database_urls(monkeypatch) -> None:
    base = Path("/srv/kesu")
    pg = parse_database_url(
        "postgres://kesu:s%40cret@db.local:5433/kesu?sslmode=require", base_dir=base
    )
    assert (pg["NAME"], pg["USER"], pg["PASSWORD"], pg["HOST"], pg["PORT"]) == (
        "kesu", "kesu", "s@cret", "db.local", "5433",
    )  # fmt: skip
    assert pg["OPTIONS"] == {
        "server_side_binding": True, "prepare_threshold": 5, "sslmode": "require",
    }  # fmt: skip
    # Behind a transaction-mode pooler, statements are not prepared.
    monkeypatch.setenv("KESU_DB_PREPARED_STATEMENTS", "0")
    unprepared = parse_database_url("postgres://db.local/kesu", base_dir=base)
    assert unprepared["OPTIONS"]["prepare_threshold"] is None
    lite = parse_database_url("sqlite:///var/x.sqlite3", base_dir=base)
    assert lite["NAME"] == "/srv/kesu/var/x.sqlite3"
    assert parse_database_url("sqlite:////tmp/y.db", base_dir=base)["NAME"] == "/tmp/y.db"
    for bad in ("mysql://x/y", "postgres://host", "sqlite://"):
        with pytest.raises(ConfigError):
            parse_database_url(bad, base_dir=base)


def test_typed_env_helpers_fail_loudly(monkeypatch) -> None:
    monkeypatch.setenv("KESU_X", "maybe")
    with pytest.raises(ConfigError, match="KESU_X"):
        env_bool("KESU_X", False)
    monkeypatch.setenv("KESU_X", "-3")
    with pytest.raises(ConfigError, match="minimum"):
        env_int("KESU_X", 1, minimum=0)
    monkeypatch.setenv("KESU_X", "on")
    assert env_bool("KESU_X", False) is True


@pytest.mark.django_db
def test_issue_token_prints_a_working_token_on_the_last_line(people, client) -> None:
    out = StringIO()
    call_command("issue_token", "zhao", stdout=out, stderr=StringIO())
    token = out.getvalue().strip().splitlines()[-1]
    response = client.get("/api/complaints", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    with pytest.raises(CommandError):
        call_command("issue_token", "nobody", stdout=StringIO(), stderr=StringIO())


@pytest.mark.django_db
def test_run_jobs_once_delivers_the_outbox(receive_public) -> None:
    from django.core import mail

    receive_public()
    call_command("run_jobs", once=True, stdout=StringIO())
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_a_revoked_token_stops_working_at_once(people, client) -> None:
    from kesu.accounts.models import ApiToken
    from kesu.accounts.services import issue_token, revoke_token

    raw = issue_token(user=people["zhao"], name="integration")
    headers = {"Authorization": f"Bearer {raw}"}
    assert client.get("/api/complaints", headers=headers).status_code == 200
    revoke_token(token=ApiToken.objects.get(name="integration"))
    assert client.get("/api/complaints", headers=headers).status_code == 401


@pytest.mark.django_db
def test_admin_revokes_tokens(people, client) -> None:
    from kesu.accounts.models import ApiToken
    from kesu.accounts.services import issue_token

    issue_token(user=people["zhao"], name="leaked")
    token = ApiToken.objects.get(name="leaked")
    client.force_login(people["admin"])
    response = client.post(
        "/admin/accounts/apitoken/",
        {"action": "revoke", "_selected_action": [token.pk]},
    )
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_every_job_of_the_loop_is_scheduled_for_celery_beat_too() -> None:
    """`make run`'s loop and Celery beat at scale run the same periodic work."""
    from django.conf import settings

    from kesu.celery import app
    from kesu.scheduler import jobs

    app.loader.import_default_modules()
    beat = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    # Under Celery, queued imports run as a task of their own name; planner statistics are
    # SQLite's only (PostgreSQL's autovacuum keeps them), so beat has none.
    loop_only = {"kesu.intake.start_imports", "kesu.db.refresh_statistics"}
    wanted = {f"kesu.{job.name}" for job in jobs()} - loop_only | {"kesu.intake.run_imports"}
    assert wanted <= beat
    assert wanted <= set(app.tasks)
