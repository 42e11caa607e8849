"""`make bench`, the history import: a 1,000,000-row CSV imported into PostgreSQL.

1. a CSV like a Chinese CRM's export (工单号, 受理时间, 客户姓名, 联系电话 …) is written to a
   temporary directory: synthetic complaint texts made here from templates (nothing read from
   ../shared/data), five years of them, a third of the customers complaining more than once,
   90 % closed, and about 0.5 % bad rows (a wrong phone number, no text, a date in the future);
2. a fresh database (KESU_BENCH_POSTGRES_URL, default
   postgres://postgres@127.0.0.1:5432/kesu_bench; dropped and created, as bench/run.py does)
   with a "category" classifier trained on 3,000 of those texts, so that triage runs as in
   production;
3. the import itself, timed: rows/s, total time, the process's peak memory, and a check that
   every good row is a complaint with its event, search row and ImportedRow; `--rerun` times a
   second run of the same file (everything skipped).
Results go to bench/results/import.json. Options: --rows N, --batch-size B, --rerun, --keep.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import (  # noqa: E402
    POSTGRES_URL,
    RESULTS,
    cpu_seconds,
    environment,
    fresh_database,
    machine,
)

# The organisation's zone, in which the export writes its times.
BEIJING = ZoneInfo(os.environ.get("KESU_TIME_ZONE", "Asia/Shanghai"))
HEADER = [
    "工单号",
    "受理时间",
    "客户姓名",
    "联系电话",
    "邮箱",
    "来源渠道",
    "投诉内容",
    "订单号",
    "金额",
    "状态",
    "结案时间",
    "处理结果",
]
MAPPING = {
    "source": "crm-bench",
    "columns": {
        "source_id": "工单号",
        "received_at": "受理时间",
        "name": "客户姓名",
        "phone": "联系电话",
        "email": "邮箱",
        "channel": "来源渠道",
        "description": "投诉内容",
        "order_ref": "订单号",
        "amount": "金额",
        "state": "状态",
        "closed_at": "结案时间",
        "resolution": "处理结果",
    },
    "values": {"state": {"已办结": "closed"}},
    "date_format": "%Y/%m/%d %H:%M",
}

PRODUCTS = [
    "电水壶",
    "洗衣机",
    "手机",
    "空调",
    "冰箱",
    "热水器",
    "电视机",
    "笔记本电脑",
    "吹风机",
    "微波炉",
    "扫地机器人",
    "净水器",
    "电饭煲",
    "油烟机",
    "蓝牙耳机",
    "儿童座椅",
]
STORES = ["朝阳门店", "浦东店", "天河店", "西湖店", "解放碑店", "网上旗舰店"]
# (category, templates): {p} product, {d} days, {s} store, {o} order, {a} amount.
TEMPLATES = [
    (
        "quality_defect",
        [
            "我在{s}买的{p}用了{d}天就漏水了，要求退货。",
            "{p}买回来不到{d}天就开不了机，售后说要寄回厂家检测，太麻烦了。",
            "新买的{p}外壳有裂缝，屏幕还有坏点，质量太差。",
            "{p}用了{d}天出现异响，找客服报修一直没人上门。",
        ],
    ),
    (
        "late_delivery",
        [
            "订单{o}下单{d}天了还没发货，客服一直说在催。",
            "快递显示{d}天没有更新，{p}到现在还没到货。",
            "约好的安装时间过了{d}天都没人来装{p}。",
        ],
    ),
    (
        "staff_attitude",
        [
            "{s}的店员态度很差，问{p}的问题爱理不理。",
            "打客服电话被挂断两次，服务态度恶劣，还骂人。",
            "{s}收银员很不耐烦，甩脸色给我看。",
        ],
    ),
    (
        "refund_delay",
        [
            "退货{d}天了退款还没到账，订单{o}，金额{a}元。",
            "申请退款后迟迟不退款，客服说系统问题。",
        ],
    ),
    (
        "overcharging",
        [
            "在{s}结账时多收了{a}元，小票上有重复扣费。",
            "{p}的安装费说好免费，结果乱收费{a}元。",
        ],
    ),
    (
        "wrong_item",
        [
            "收到的{p}型号不对，和订单{o}不一样。",
            "买了两件只发了一件，少件了，订单{o}。",
        ],
    ),
    (
        "exaggerated_ads",
        [
            "宣传说{p}静音省电，实际噪音很大，与宣传不符。",
            "广告写买{p}送赠品，到手什么都没有，虚假宣传。",
        ],
    ),
    (
        "safety_hazard",
        [
            "{p}使用时冒烟，插头烧黑了，差点起火。",
            "{p}漏电，孩子碰到被电了一下，太危险了。",
        ],
    ),
]
ENDINGS = [
    "",
    "",
    "",
    "请尽快处理。",
    "希望给个说法。",
    "要求赔偿。",
    "已经是第二次投诉了。",
    "再不处理我就打12315投诉！",
    "我要找媒体曝光。",
    "我已经咨询了律师。",
]
ENDING_WEIGHTS = [40, 20, 10, 10, 8, 5, 4, 2, 0.6, 0.4]
CHANNELS = ["电话", "电话", "电话", "网站", "微信", "门店", "邮件", "在线客服"]
RESOLUTIONS = [
    "已为客户办理退货退款",
    "上门维修完成，客户满意",
    "补发商品，致歉",
    "解释说明，客户接受",
    "赔偿代金券50元",
    "",
]


def complaint_text(rng: random.Random, templates: Sequence[str]) -> str:
    """One synthetic complaint: a template of its category filled in, and a closing line."""
    return (
        rng.choice(templates).format(
            p=rng.choice(PRODUCTS),
            d=rng.randint(2, 30),
            s=rng.choice(STORES),
            o=f"JD{rng.randrange(10**9):09d}",
            a=rng.randint(20, 3000),
        )
        + rng.choices(ENDINGS, ENDING_WEIGHTS)[0]
    )


def generate(path: Path, rows: int, seed: int = 7) -> dict[str, Any]:
    """Write the CSV; returns what it holds (bad rows included)."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    customers = max(1, rows * 2 // 3)  # a third of the rows are from a customer seen before
    bad = 0
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for i in range(rows):
            who = rng.randrange(customers)
            _category, templates = rng.choice(TEMPLATES)
            text = complaint_text(rng, templates)
            received = now - timedelta(days=5 * 365 * rng.random()) - timedelta(days=40)
            roll = rng.random()
            state, closed, resolution = "", "", ""
            if roll < 0.90:
                state = "已办结"
                closed = (
                    (received + timedelta(hours=rng.uniform(2, 360)))
                    .astimezone(BEIJING)
                    .strftime("%Y/%m/%d %H:%M")
                )
                resolution = rng.choice(RESOLUTIONS)
            elif roll < 0.95:
                state = "已解决"
            else:
                state = "处理中"
            phone = f"1{rng.choice('3578')}{who:09d}"
            email = f"kehu{who}@example.com" if who % 4 == 0 else ""
            if i % 200 == 199:  # 0.5 % bad rows, of three kinds
                bad += 1
                kind = (i // 200) % 3
                if kind == 0:
                    phone, email = "1234", ""
                elif kind == 1:
                    text = ""
                else:
                    received = now + timedelta(days=3)
                    state, closed = "处理中", ""
            writer.writerow(
                [
                    f"CRM{i:08d}",
                    received.astimezone(BEIJING).strftime("%Y/%m/%d %H:%M"),
                    f"客户{who}",
                    phone,
                    email,
                    rng.choice(CHANNELS),
                    text,
                    f"JD{rng.randrange(10**9):09d}" if rng.random() < 0.6 else "",
                    f"{rng.randint(10, 5000)}.{rng.randint(0, 99):02d}"
                    if rng.random() < 0.5
                    else "",
                    state,
                    closed,
                    resolution,
                ]
            )
    return {"rows": rows, "bad_rows": bad, "bytes": path.stat().st_size}


def training_set(count: int, seed: int = 11) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)
    texts, labels = [], []
    for i in range(count):
        category, templates = TEMPLATES[i % len(TEMPLATES)]
        texts.append(complaint_text(rng, templates))
        labels.append(category)
    return texts, labels


def postgres_cpu_seconds() -> float:
    """CPU seconds used so far by every process named postgres (Linux /proc)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if stat[stat.index("(") + 1 : stat.rindex(")")] == "postgres":
            total += cpu_seconds(int(entry.name))
    return total


def children_cpu_seconds() -> float:
    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if parent == os.getpid():
                total += cpu_seconds(int(entry.name))
    return total


class Meter:
    """CPU seconds of the importer, its PostgreSQL backend and every other postgres process."""

    def __init__(self) -> None:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            self.backend = cursor.fetchone()[0]
        self.start = self.read()

    def read(self) -> dict[str, float]:
        backend = cpu_seconds(self.backend)
        ended = resource.getrusage(resource.RUSAGE_CHILDREN)
        return {
            "importer": time.process_time(),
            # The worker processes: those running, and those ended (and waited for).
            "workers": children_cpu_seconds() + ended.ru_utime + ended.ru_stime,
            "backend": backend,
            "other_postgres": postgres_cpu_seconds() - backend,
        }

    def since(self, before: dict[str, float] | None = None) -> dict[str, float]:
        now, before = self.read(), before or self.start
        return {k: round(now[k] - before[k], 1) for k in now}


def timed_import(path: Path, batch_size: int, workers: int | None) -> dict[str, Any]:
    from kesu.intake import importer

    mapping = importer.read_mapping(MAPPING)
    meter = Meter()
    mark = {"seconds": 0.0, "done": 0, "cpu": meter.read()}

    def progress(outcome: importer.Outcome) -> None:
        # Every 30 s: the rate and the CPU of the last stretch (it must not slow down).
        if outcome.seconds - mark["seconds"] < 30 and outcome.done != outcome.total:
            return
        rate = (outcome.done - mark["done"]) / (outcome.seconds - mark["seconds"])
        cpu = meter.since(mark["cpu"])
        mark.update(seconds=outcome.seconds, done=outcome.done, cpu=meter.read())
        print(
            f"  {outcome.done:,}/{outcome.total:,} rows, {outcome.seconds:.0f} s, "
            f"{rate:,.0f} rows/s lately, CPU {cpu}",
            flush=True,
        )

    started = time.perf_counter()
    with path.open("rb") as handle:
        outcome = importer.import_file(
            handle,
            name=path.name,
            mapping=mapping,
            batch_size=batch_size,
            progress=progress,
            workers=workers,
        )
    seconds = time.perf_counter() - started
    return {
        "seconds": round(seconds, 1),
        "rows_per_second": round(outcome.done / seconds, 1),
        "rows": outcome.done,
        "created": outcome.created,
        "skipped": outcome.skipped,
        "failed": outcome.failed,
        "kind": outcome.kind,
        "cpu_seconds": meter.since(),
        "first_errors": outcome.errors[:3],
    }


def check(created: int) -> dict[str, Any]:
    from django.db import connection

    counts = {}
    with connection.cursor() as cursor:
        for table in (
            "complaints_complaint",
            "complaints_event",
            "search_searchdocument",
            "intake_importedrow",
            "customers_customer",
            "notify_outboxmessage",
            "sla_clock",
        ):
            cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - constant names
            counts[table] = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM complaints_complaint WHERE flags LIKE '%%regulator%%'")
        counts["flagged_regulator"] = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM complaints_complaint WHERE category <> ''")
        counts["with_category"] = cursor.fetchone()[0]
        # Open ones run clocks from their received time; what is overdue waits for no sweep.
        cursor.execute("SELECT count(*) FROM complaints_complaint WHERE state NOT IN "
                       "('resolved', 'closed')")  # fmt: skip
        counts["open"] = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM sla_clock WHERE next_check_at <= now()")
        counts["clocks_due_for_the_sweep"] = cursor.fetchone()[0]
    whole = all(
        counts[t] == created
        for t in (
            "complaints_complaint",
            "complaints_event",
            "search_searchdocument",
            "intake_importedrow",
        )
    )
    return {**counts, "every_row_whole": whole, "outbox_empty": counts["notify_outboxmessage"] == 0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, default=2000)
    parser.add_argument("--workers", type=int, help="worker processes (default: cores - 1)")
    parser.add_argument("--rerun", action="store_true", help="time a second run (all skipped)")
    parser.add_argument("--keep", action="store_true", help="keep the generated CSV")
    parser.add_argument("--no-classifier", action="store_true", help="triage without a model")
    parser.add_argument("--quick", action="store_true", help="20,000 rows, for CI")
    args = parser.parse_args()
    if args.quick:
        args.rows = 20_000
    var_dir = ROOT / "var" / "bench-import"
    env = environment("postgres", var_dir)
    print(f"== import: preparing {POSTGRES_URL}", flush=True)
    fresh_database("postgres", var_dir)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    os.environ.update(env)
    import django

    django.setup()
    info = machine()
    print(f"machine: {info}", flush=True)
    work = Path(tempfile.mkdtemp(prefix="kesu-import-"))
    try:
        path = work / "history.csv"
        print(f"== import: writing {args.rows:,} rows to {path}", flush=True)
        started = time.perf_counter()
        made = generate(path, args.rows)
        made["seconds"] = round(time.perf_counter() - started, 1)
        print(f"  {made}", flush=True)
        trained: dict[str, Any] = {}
        if not args.no_classifier:
            from kesu.triage import services as triage

            texts, labels = training_set(3000)
            model = triage.train_classifier(
                name=triage.CATEGORY_MODEL,
                texts=texts,
                labels=labels,
                source="bench",
                activate="always",
            )
            trained = {
                "texts": len(texts),
                "seconds": model.model.metrics["seconds"],
                "size_kib": model.model.size // 1024,
            }
            print(f"== import: classifier trained {trained}", flush=True)
        print(f"== import: {args.rows:,} rows, batches of {args.batch_size}", flush=True)
        first = timed_import(path, args.batch_size, args.workers)
        first["peak_memory_mib"] = {
            "importer": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "largest_worker": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024),
        }
        print(f"  {first}", flush=True)
        stored = check(first["created"])
        print(f"  stored: {stored}", flush=True)
        report: dict[str, Any] = {
            "machine": info,
            "when": time.strftime("%Y-%m-%d %H:%M:%S"),
            "database": "postgres",
            "file": made,
            "classifier": trained,
            "batch_size": args.batch_size,
            "workers": args.workers,
            "import": first,
            "stored": stored,
        }
        if args.rerun:
            print("== import: the same file again (every row already there)", flush=True)
            report["rerun"] = timed_import(path, args.batch_size, args.workers)
            print(f"  {report['rerun']}", flush=True)
        if args.keep:
            kept = RESULTS / "import-history.csv"
            shutil.copy(path, kept)
            print(f"  kept {kept}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = "import-quick.json" if args.quick else "import.json"
    (RESULTS / name).write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    print(
        f"== import: {first['rows']:,} rows in {first['seconds']} s "
        f"({first['rows_per_second']:,.0f} rows/s)",
        flush=True,
    )


if __name__ == "__main__":
    main()
