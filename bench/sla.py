"""`make bench`, the SLA part: the sweep over 1,000,000 open complaints, and dispatch.

On PostgreSQL (KESU_BENCH_SLA_URL, default postgres://postgres@127.0.0.1:5432/kesu_bench_sla;
the database is dropped and created):
1. N open complaints (default 1,000,000) with their four clocks each, written with SQL
   (generate_series) as a history import would; acknowledgement and first contact met, the
   update and resolution clocks running, due over the next weeks;
2. per round, 1,000 resolution clocks brought to their warning, then one `sweep()` call timed:
   it must find and process them (warning event, escalation level 1, the handler notified)
   in under 2 s;
3. the outbox dispatcher delivering robot messages to a local HTTP sink (bench/sink.py, its
   own process): messages per second.
Results go to bench/results/sla.json. Options: --complaints N, --rounds R, --messages M.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
URL = os.environ.get("KESU_BENCH_SLA_URL", "postgres://postgres@127.0.0.1:5432/kesu_bench_sla")
RESULTS = ROOT / "bench" / "results"


def fresh_database(env: dict[str, str]) -> None:
    import psycopg

    parts = urllib.parse.urlsplit(URL)
    name = parts.path.lstrip("/")
    with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    subprocess.run([sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=ROOT,
                   env=env, check=True)  # fmt: skip


def generate(total: int) -> dict[str, Any]:
    """N open complaints and 4N clocks, with SQL; returns what was made and how long it took."""
    from django.db import connection

    from kesu.accounts.models import Department, Role
    from kesu.accounts.services import create_user
    from kesu.sla.models import Policy

    started = time.time()
    departments = [
        Department.objects.create(code=f"dept{i}", name_zh=f"部门{i}", name_en=f"Dept {i}")
        for i in range(6)
    ]
    handlers = [
        create_user(username=f"h{i}", role=Role.HANDLER, password="bench-password-0123",
                    departments=[departments[i % 6]], email=f"h{i}@kesu.invalid")
        for i in range(30)
    ]  # fmt: skip
    for i, department in enumerate(departments):
        create_user(username=f"m{i}", role=Role.MANAGER, password="bench-password-0123",
                    departments=[department])  # fmt: skip
    policy = Policy.objects.get(is_default=True).pk
    dept_ids = [d.pk for d in departments]
    # Each handler's department, so that the data is consistent with the chain's levels.
    assignees = [(h.pk, dept_ids[i % 6]) for i, h in enumerate(handlers)]
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO customers_customer (name, phone, email, tier, language, complaint_count,"
            " last_complaint_at, created_at) SELECT '客户' || g, '', '', 'regular', 'zh-hans', 1,"
            " now(), now() FROM generate_series(1, 5000) g"
        )
        cursor.execute("SELECT min(id) FROM customers_customer")
        first_customer = cursor.fetchone()[0]
        cursor.execute(
            "CREATE TEMP TABLE bench_assignee (k int primary key, user_id bigint, dept bigint)"
        )
        cursor.executemany(
            "INSERT INTO bench_assignee VALUES (%s, %s, %s)",
            [(k, u, d) for k, (u, d) in enumerate(assignees)],
        )
        # Received over the last 14 days; due 15 days after receipt; four states of the open.
        cursor.execute(
            """
            INSERT INTO complaints_complaint (
              reference, tracking_token_hash, language, channel, subject, description, product,
              order_ref, demand, demand_detail, nature, category, grade, priority,
              escalation_level, state, closure, closure_reason, responsibility, root_cause,
              corrective_action, resolution, remedy_type, remedy_description, remedy_status,
              transfers, reopens, rejections, received_at, ack_due, first_contact_due,
              resolve_due, update_due, updated_at, customer_id, department_id, assignee_id,
              category_confirmed, emotion, flags, needs_review, triage_reasons, triage_score,
              alert_level, alerted_flags, policy_id, acknowledged_at, first_contact_at)
            SELECT 'KS-B-' || lpad(g::text, 9, '0'), md5(g::text), 'zh-hans', 'web',
              '压测投诉 ' || g, '压测用的投诉内容，商品有质量问题。', '', '', '', '', '', '',
              'E', 'P4', 0,
              (ARRAY['acknowledged', 'investigating', 'remedying', 'investigating'])[1 + g %% 4],
              '', '', '', '', '', '', '', '', '', 0, 0, 0, r, r + interval '2 hours',
              r + interval '24 hours', r + interval '15 days', r + interval '16 days', r,
              %s + g %% 5000, a.dept, a.user_id, false, 'calm', '', false, '[]', 0, 0, '', %s,
              r + interval '1 hour', r + interval '3 hours'
            FROM (SELECT g, now() - (g %% 20160) * interval '1 minute' AS r
                  FROM generate_series(1, %s) g) s
            JOIN bench_assignee a ON a.k = s.g %% 30
            """,
            [first_customer, policy, total],
        )
        # Acknowledgement and first contact met; update and resolution running (75 % warning).
        cursor.execute(
            """
            INSERT INTO sla_clock (complaint_id, target, allowed, extended, started_at, warn_at,
              due_at, stopped_at, paused_minutes, level, next_check_at)
            SELECT c.id, t.target, t.allowed, false, c.received_at,
              c.received_at + t.span * 0.75, c.received_at + t.span,
              CASE WHEN t.met THEN c.received_at + interval '1 hour' END, 0, 0,
              CASE WHEN NOT t.met THEN c.received_at + t.span * 0.75 + interval '30 days' END
            FROM complaints_complaint c CROSS JOIN (VALUES
              ('acknowledge', '2h', interval '2 hours', true),
              ('first_contact', '24h', interval '24 hours', true),
              ('update', '48h', interval '48 hours', false),
              ('resolve', '15d', interval '15 days', false)) AS t(target, allowed, span, met)
            """
        )
        cursor.execute("DROP TABLE bench_assignee")
    seconds = time.time() - started
    subprocess.run(["psql", URL, "-qc", "VACUUM ANALYZE"], check=True)
    return {"complaints": total, "clocks": 4 * total, "seconds": round(time.time() - started, 1),
            "insert_seconds": round(seconds, 1)}  # fmt: skip


def sweep_rounds(rounds: int, due: int) -> list[dict[str, Any]]:
    """Bring `due` resolution clocks to their warning, then time one sweep; `rounds` times."""
    from django.db import connection
    from django.utils import timezone

    from kesu.complaints.models import Event
    from kesu.notify.models import Notification
    from kesu.sla.jobs import sweep

    out = []
    # Nothing due: the sweep is one index probe.
    started = time.perf_counter()
    idle = sweep(limit=due)
    out.append({"due": 0, "seconds": round(time.perf_counter() - started, 4),
                "processed": idle.clocks})  # fmt: skip
    for number in range(rounds):
        now = timezone.now()
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE sla_clock SET warn_at = %s, next_check_at = %s WHERE id IN ("
                " SELECT id FROM sla_clock WHERE target = 'resolve' AND warned_at IS NULL"
                " AND next_check_at IS NOT NULL ORDER BY id OFFSET %s LIMIT %s)",
                [now, now, number * 7919 % 100_000, due],
            )
        events_before = Event.objects.count()
        notes_before = Notification.objects.count()
        started = time.perf_counter()
        result = sweep(limit=due)
        seconds = time.perf_counter() - started
        out.append({
            "due": due, "seconds": round(seconds, 3), "processed": result.clocks,
            "warnings": result.warnings, "escalations": result.escalations,
            "events_written": Event.objects.count() - events_before,
            "notifications_written": Notification.objects.count() - notes_before,
        })  # fmt: skip
        print(f"  sweep round {number + 1}: {out[-1]}", flush=True)
    return out


def dispatch_rate(messages: int) -> dict[str, Any]:
    """Robot messages delivered per second to a local sink in its own process."""
    from django.utils import timezone

    from kesu.notify.jobs import dispatch
    from kesu.notify.models import NotifyGroup, OutboxMessage, OutboxStatus, Robot

    sink = subprocess.Popen([sys.executable, str(ROOT / "bench" / "sink.py")],
                            stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        port = int(sink.stdout.readline().strip()) if sink.stdout else 0
        group = NotifyGroup.objects.get(code="escalation")
        robot = Robot.objects.create(group=group, channel="dingtalk", name="值班群",
                                     webhook=f"http://127.0.0.1:{port}/robot/send?access_token=t",
                                     secret="SEC-bench")  # fmt: skip
        OutboxMessage.objects.filter(status=OutboxStatus.PENDING).update(status=OutboxStatus.SENT)
        now = timezone.now()
        OutboxMessage.objects.bulk_create(
            [OutboxMessage(channel="dingtalk", kind="risk_alert", robot=robot, recipient="值班群",
                           subject=f"风险预警 KS-B-{i:09d}", body="客户扬言找媒体曝光\n链接",
                           next_attempt_at=now) for i in range(messages)],
            batch_size=2000,
        )  # fmt: skip
        sent = failed = 0
        started = time.perf_counter()
        while True:
            result = dispatch(limit=200)
            sent, failed = sent + result.sent, failed + result.failed
            if result.sent + result.failed == 0:
                break
        seconds = time.perf_counter() - started
    finally:
        sink.terminate()
        sink.wait(timeout=10)
    return {"messages": messages, "sent": sent, "failed": failed, "seconds": round(seconds, 2),
            "per_second": round(sent / seconds, 1) if seconds else 0.0}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--complaints", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--due", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--quick", action="store_true", help="small numbers, for CI")
    args = parser.parse_args()
    if args.quick:
        args.complaints, args.rounds, args.messages = 20_000, 1, 300
    env = {**os.environ, "DATABASE_URL": URL, "DJANGO_SETTINGS_MODULE": "kesu.settings",
           "KESU_DEBUG": "0", "KESU_LOG_LEVEL": "WARNING",
           "KESU_VAR_DIR": str(ROOT / "var" / "bench-sla")}  # fmt: skip
    print(f"== sla: preparing {URL}", flush=True)
    fresh_database(env)
    os.environ.update(env)
    import django

    django.setup()
    print(f"== sla: {args.complaints} open complaints with their clocks", flush=True)
    made = generate(args.complaints)
    print(f"  {made}", flush=True)
    print(f"== sla: sweep, {args.due} due per round", flush=True)
    sweeps = sweep_rounds(args.rounds, args.due)
    print(f"== sla: dispatch of {args.messages} robot messages to a local sink", flush=True)
    dispatched = dispatch_rate(args.messages)
    print(f"  {dispatched}", flush=True)
    meminfo = Path("/proc/meminfo").read_text().split("\n")[0].split()
    report = {
        "machine": {"cores": os.cpu_count(), "memory_gib": round(int(meminfo[1]) / 1024**2, 1),
                    "python": platform.python_version()},
        "when": time.strftime("%Y-%m-%d %H:%M:%S"), "quick": args.quick, "data": made,
        "sweep": sweeps, "dispatch": dispatched,
    }  # fmt: skip
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = "sla-quick.json" if args.quick else "sla.json"
    (RESULTS / name).write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
