"""History import: mapping, bad rows, dry run, re-runs, encodings, customers, triage, search,
the command, and the admin's upload with its background run."""

from __future__ import annotations

import csv
import io
import json
import random
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.utils import timezone, translation

from kesu.accounts.services import create_user
from kesu.complaints.events import describe
from kesu.complaints.models import Complaint, Event, ReferenceCounter, State
from kesu.complaints.selectors import complaints_visible_to
from kesu.complaints.workflow import perform
from kesu.customers.models import Customer, CustomerContact
from kesu.errors import InvalidInput
from kesu.intake import importer
from kesu.intake.models import ImportedRow, ImportJob, ImportState
from kesu.notify.models import Notification, OutboxMessage
from kesu.search.models import SearchDocument
from kesu.search.services import document_text, matching_ids
from kesu.search.tokens import document_tokens
from kesu.sla.jobs import sweep
from kesu.sla.models import Clock
from kesu.triage import classifier
from kesu.triage import services as triage

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _uploads_in_tmp(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


HEADER = ["工单号", "投诉内容", "受理时间", "客户姓名", "联系电话", "邮箱", "来源渠道", "状态",
          "结案时间", "处理结果", "门店", "金额"]  # fmt: skip
MAPPING = {
    "source": "crm2019",
    "columns": {
        "source_id": "工单号", "description": "投诉内容", "received_at": "受理时间",
        "name": "客户姓名", "phone": "联系电话", "email": "邮箱", "channel": "来源渠道",
        "state": "状态", "closed_at": "结案时间", "resolution": "处理结果", "store": "门店",
        "amount": "金额",
    },
    "values": {"state": {"已办结": "closed"}},
}  # fmt: skip
GOOD = [
    ["A1", "电水壶用了两天就漏水，要求退货。", "2023-05-01 10:00", "刘女士", "13800138000", "",
     "电话", "已办结", "2023/05/03 12:00", "已为客户办理退货", "", "199.50"],
    ["A2", "快递三天没到，客服不回复，再不处理我就打12315！", "2023年5月2日 11:30", "王先生",
     "13900139000", "wang@example.com", "网站", "处理中", "", "", "", ""],
    ["A3", "店员态度很差，爱理不理。", "2023-05-20", "刘女士", "138 0013 8000", "liu@example.com",
     "hotline", "", "", "", "", ""],
]  # fmt: skip


def csv_file(rows: list[list[str]], *, encoding: str = "utf-8-sig", header=HEADER) -> io.BytesIO:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return io.BytesIO(out.getvalue().encode(encoding))


def run(rows=GOOD, *, mapping=MAPPING, name="history.csv", **options: Any) -> importer.Outcome:
    handle = rows if isinstance(rows, io.BytesIO) else csv_file(rows)
    return importer.import_file(
        handle, name=name, mapping=importer.read_mapping(mapping), **options
    )


def problems(outcome: importer.Outcome) -> set[tuple[int, str]]:
    return {(e["row"], e["column"]) for e in outcome.errors}


# --- The mapping and the file --------------------------------------------------------------------


def test_a_wrong_mapping_names_every_key() -> None:
    with pytest.raises(InvalidInput) as caught:
        importer.read_mapping({
            "source": "", "columns": {"description": "内容", "colour": "颜色"},
            "defaults": {"phone": "x"}, "timezone": "Mars/Olympus", "extra": 1,
        })  # fmt: skip
    fields = {e.field for e in caught.value.errors}
    assert fields >= {
        "source", "columns.colour", "defaults.phone", "timezone", "extra",
        "columns.source_id", "columns.received_at", "columns.channel",
    }  # fmt: skip
    with pytest.raises(InvalidInput, match="Not valid JSON"):
        importer.load_mapping("{not json")


def test_a_mapped_column_missing_from_the_file_is_refused_before_any_row() -> None:
    mapping = {**MAPPING, "columns": {**MAPPING["columns"], "order_ref": "订单号"}}
    with pytest.raises(InvalidInput) as caught:
        run(mapping=mapping)
    [error] = caught.value.errors
    assert error.field == "columns.order_ref" and "'订单号'" in error.message
    assert "工单号" in error.message  # the columns the file does have
    assert not Complaint.objects.exists()


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"%PDF-1.4", "history.pdf", "Use a .csv or .xlsx file"),
        (b"", "history.csv", "The file is empty"),
        ("工单号,投诉内容\nA1,好\n".encode() + b"A2,\xff\xfe\xff\n", "h.csv", "Line 3 is neither"),
        (b"PK\x03\x04broken", "history.xlsx", "not an Excel .xlsx workbook"),
    ],
)
def test_an_unreadable_file_is_refused_with_the_reason(content, name, message) -> None:
    with pytest.raises(InvalidInput, match=message):
        run(io.BytesIO(content), name=name)
    assert not Complaint.objects.exists()


# --- Rows ----------------------------------------------------------------------------------------


def test_every_bad_row_is_reported_and_the_good_ones_imported(store) -> None:
    future = (timezone.now() + timedelta(days=2)).strftime("%Y-%m-%d")
    rows = [
        GOOD[0],
        ["B1", "", "2023-05-01", "", "13800138001", "", "电话", "", "", "", "", ""],
        ["B2", "坏了", "昨天", "", "13800138002", "", "电话", "", "", "", "", ""],
        ["B3", "坏了", future, "", "13800138003", "", "电话", "", "", "", "", ""],
        ["B4", "坏了", "2023-05-01", "", "12345", "not-mail", "电话", "", "", "", "", ""],
        ["B5", "坏了", "2023-05-01", "", "", "", "电话", "", "", "", "", ""],
        ["B6", "坏了", "2023-05-01", "", "13800138006", "", "飞鸽", "挂起", "", "", "", ""],
        ["B7", "坏了", "2023-05-05", "", "13800138007", "", "电话", "", "2023-05-01", "", "", ""],
        ["B8", "坏了", "2023-05-01", "", "13800138008", "", "电话", "", "", "", "火星店", "-5"],
        ["A1", "同一个编号", "2023-05-01", "", "13800138009", "", "电话", "", "", "", "", ""],
        ["B9", "多了一列", "2023-05-01", "", "13800138010", "", "电话", "", "", "", "", "", "x"],
        ["", "没有编号", "2023-05-01", "", "13800138011", "", "电话", "", "", "", "", ""],
        ["B10", "门店", "2023-05-01", "", "13800138012", "", "电话", "", "", "", store.code, ""],
    ]  # fmt: skip
    outcome = run(rows)
    assert problems(outcome) == {
        (3, "投诉内容"),
        (4, "受理时间"),
        (5, "受理时间"),
        (6, "联系电话"), (6, "邮箱"),
        (7, "联系电话"),
        (8, "来源渠道"), (8, "状态"),
        (9, "结案时间"),
        (10, "门店"), (10, "金额"),
        (11, "工单号"),
        (12, ""),
        (13, "工单号"),
    }  # fmt: skip
    reasons = {(e["row"], e["column"]): e["reason"] for e in outcome.errors}
    assert "in the future" in reasons[(5, "受理时间")]
    assert "'昨天'" in reasons[(4, "受理时间")]
    assert "phone number or an email" in reasons[(7, "联系电话")]
    assert "Closed before it was received" in reasons[(9, "结案时间")]
    assert reasons[(11, "工单号")] == "The same id as row 2."
    assert "13 values but the header has 12" in reasons[(12, "")]
    assert (outcome.done, outcome.created, outcome.failed) == (13, 2, 11)
    assert Complaint.objects.count() == 2
    assert Complaint.objects.get(description="门店").store == store


def test_a_dry_run_reports_the_same_and_writes_nothing() -> None:
    rows = [*GOOD, ["B1", "", "2023-05-01", "", "13800138001", "", "电话", "", "", "", "", ""]]
    outcome = run(rows, dry_run=True)
    assert (outcome.created, outcome.skipped, outcome.failed) == (3, 0, 1)
    assert problems(outcome) == {(5, "投诉内容")}
    assert "Nothing was written" in outcome.message
    for model in (Complaint, Customer, CustomerContact, Event, ImportedRow, SearchDocument,
                  ReferenceCounter):  # fmt: skip
        assert not model.objects.exists(), model


def test_history_comes_in_as_it_was_and_tells_nobody(people) -> None:
    outcome = run(actor=people["admin"])
    assert (outcome.created, outcome.failed) == (3, 0)
    closed = Complaint.objects.get(description__startswith="电水壶")
    assert closed.received_at == datetime(2023, 5, 1, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
    assert closed.reference == "KS-20230501-000001"
    assert closed.state == State.CLOSED and closed.closure == "resolved"
    assert closed.closed_at == closed.resolved_at == datetime(2023, 5, 3, 4, 0, tzinfo=UTC)
    assert closed.resolution == "已为客户办理退货" and closed.amount == Decimal("199.50")
    assert closed.channel == "hotline" and closed.subject.startswith("电水壶")
    assert closed.tracking_token_hash == ""  # nobody can track history with a token
    open_one = Complaint.objects.get(description__startswith="快递")
    assert open_one.state == State.INVESTIGATING and open_one.channel == "web"
    assert open_one.closed_at is None and open_one.closure == ""
    # One event per complaint, saying where it came from.
    event = Event.objects.get(complaint=closed)
    assert event.kind == "imported" and event.to_state == State.CLOSED
    assert event.actor == people["admin"] and not event.customer_visible
    assert event.data["source"] == "crm2019" and event.data["source_id"] == "A1"
    assert event.data["row"] == 2 and event.data["file"] == "history.csv"
    with translation.override("en"):
        assert describe(event) == "Imported from crm2019 (id A1, row 2 of history.csv)."
    assert Event.objects.count() == 3
    # History sends nothing; only the open ones run clocks (test below).
    assert not OutboxMessage.objects.exists()
    assert not Notification.objects.exists()
    assert not Clock.objects.filter(complaint=closed).exists()
    assert Clock.objects.filter(complaint=open_one).count() == 2  # update, resolve
    assert set(ImportedRow.objects.values_list("source_id", flat=True)) == {"A1", "A2", "A3"}


def test_open_history_runs_its_clocks_from_when_it_was_received_and_pages_nobody(people):
    now = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
    rows = [
        # A month old, under investigation: resolution overdue by 16 days, every level reached.
        ["M1", "快递一个月没到，客服不回复。", "2026-05-01 10:00", "", "13800138001", "", "电话",
         "处理中", "", "", "", ""],
        # Due two hours ago: the breach level is reached, the expert group's is still to come.
        ["M2", "退款半个月了还没到账。", "2026-05-17 08:00", "", "13800138002", "", "电话",
         "处理中", "", "", "", ""],
        # An hour old and not yet acknowledged: every clock runs, none has warned.
        ["M3", "店员态度很差。", "2026-06-01 09:00", "", "13800138003", "", "电话", "", "", "",
         "", ""],
    ]  # fmt: skip
    with time_machine.travel(now, tick=False):
        outcome = run(rows, actor=people["admin"])
    assert (outcome.created, outcome.overdue) == (3, 2)
    with translation.override("en"):
        assert "2 open complaints were already past their resolution deadline" in outcome.message
    old = Complaint.objects.get(description__startswith="快递")
    due = Complaint.objects.get(description__startswith="退款")
    fresh = Complaint.objects.get(description__startswith="店员")

    def clocks(complaint: Complaint) -> dict[str, Clock]:
        return {c.target: c for c in Clock.objects.filter(complaint=complaint)}

    # The old system acknowledged and contacted the investigated ones: those targets are not
    # run again; the policy's clocks start at the received time.
    assert set(clocks(old)) == set(clocks(due)) == {"update", "resolve"}
    assert set(clocks(fresh)) == {"acknowledge", "first_contact", "update", "resolve"}
    resolve = clocks(old)["resolve"]
    assert resolve.started_at == old.received_at == datetime(2026, 5, 1, 2, 0, tzinfo=UTC)
    assert resolve.due_at == old.received_at + timedelta(days=15) == old.resolve_due
    assert old.policy is not None and old.policy.is_default
    assert old.update_due == clocks(old)["update"].due_at
    # What passed before the import is taken as it fell, silently: levels reached, no message.
    assert (resolve.warned_at, resolve.breached_at) == (resolve.warn_at, resolve.due_at)
    assert (resolve.level, resolve.next_check_at) == (4, None)
    climbing = clocks(due)["resolve"]
    assert climbing.level == 2 and climbing.next_check_at == climbing.due_at + timedelta(days=1)
    assert all(c.warned_at is None and c.level == 0 for c in clocks(fresh).values())
    assert set(Event.objects.values_list("kind", flat=True)) == {"imported"}
    event = Event.objects.get(complaint=old)
    assert event.data["overdue"] == ["update", "resolve"]
    with translation.override("en"):
        assert describe(event).endswith("Already overdue then: Customer update, Resolution.")
    assert "overdue" not in Event.objects.get(complaint=fresh).data
    # The first sweep finds nothing of the past to announce.
    quiet = sweep(now=now)
    assert (quiet.warnings, quiet.breaches, quiet.escalations) == (0, 0, 0)
    assert not Notification.objects.exists() and not OutboxMessage.objects.exists()
    # What comes due after the import is swept as for any complaint.
    sweep(now=clocks(fresh)["acknowledge"].due_at + timedelta(seconds=1))
    assert Event.objects.filter(complaint=fresh, kind="sla_breach",
                                data__target="acknowledge").count() == 1  # fmt: skip
    sweep(now=climbing.next_check_at + timedelta(seconds=1))
    climbed = Event.objects.filter(complaint=due, kind="sla_escalation", data__target="resolve")
    assert [e.data["level"] for e in climbed] == [3]
    assert not Event.objects.filter(complaint=old).exclude(kind="imported").exists()
    # The first action keeps the policy chosen at import and moves the clocks as usual.
    with time_machine.travel(now + timedelta(minutes=5), tick=False):
        perform(fresh, "acknowledge", people["wang"])
    assert clocks(fresh)["acknowledge"].stopped_at == now + timedelta(minutes=5)
    assert "policy" not in Event.objects.get(complaint=fresh, kind="acknowledge").data


def test_history_keeps_its_department_and_handler_known_by_code_or_name(people, departments):
    zhao = people["zhao"]
    create_user(username="wangfang1", role="handler", password="x", display_name="王芳")
    create_user(username="wangfang2", role="handler", password="x", display_name="王芳")
    left = create_user(username="liu", role="handler", password="x", display_name="刘离职")
    left.is_active = False
    left.save()
    header = [*HEADER, "承办部门", "处理人"]
    mapping = {**MAPPING, "columns": {**MAPPING["columns"], "department": "承办部门",
                                      "assignee": "处理人"}}  # fmt: skip

    def row(n: int, state: str, department: str, handler: str) -> list[str]:
        closed = "2026-05-03 12:00" if state == "已办结" else ""
        return [f"K{n}", f"第{n}号投诉：空调不制冷", "2026-05-01 10:00", "", f"1390013{n:04d}",
                "", "电话", state, closed, "", "", "", department, handler]  # fmt: skip

    rows = [
        row(1, "处理中", "售后服务部", "赵敏"),  # Chinese name, display name
        row(2, "处理中", "after_sales", "zhao"),  # code, username
        row(3, "已办结", "Quality", "刘离职"),  # history may name someone who has left
        row(4, "处理中", "售后服务部", "刘离职"),  # an open one may not
        row(5, "处理中", "售后服务部", "王芳"),  # two people: which one?
        row(6, "处理中", "研发部", ""),  # no such department
        row(7, "处理中", "", "zhao"),  # the department is the handler's only one
        row(8, "处理中", "质量管理部", "zhao"),  # not one of hers
        row(9, "处理中", "", "sun"),  # an auditor holds no complaint
    ]
    with translation.override("en"):
        outcome = run(csv_file(rows, header=header), mapping=mapping)
    assert (outcome.created, outcome.failed) == (4, 5)
    reasons = {e["row"]: (e["column"], e["reason"]) for e in outcome.errors}
    inactive = "'刘离职' is not active; an open complaint needs one who can act on it."
    assert reasons[5] == ("处理人", inactive)
    assert reasons[6] == ("处理人", "Several people are called '王芳': give the username.")
    assert reasons[7] == ("承办部门", "No department '研发部'.")
    assert reasons[9] == ("处理人", "zhao is not a member of quality.")
    assert reasons[10] == ("处理人", "sun cannot hold complaints (role Auditor).")
    held = {c.description[:4]: (c.department, c.assignee) for c in Complaint.objects.all()}
    after_sales, quality = departments["after_sales"], departments["quality"]
    assert held == {"第1号投": (after_sales, zhao), "第2号投": (after_sales, zhao),
                    "第3号投": (quality, left), "第7号投": (after_sales, zhao)}  # fmt: skip
    # The department's own people find the open ones in their queue.
    visible = set(complaints_visible_to(people["li"]).values_list("description", flat=True))
    assert {d[:4] for d in visible} == {"第1号投", "第2号投", "第7号投"}


def test_reference_numbers_share_the_live_counter(receive_public) -> None:
    live = receive_public().complaint
    today = timezone.localdate(live.received_at)
    rows = [["T1", "今天的", timezone.localtime().strftime("%Y-%m-%d %H:%M"), "", "13800138000",
             "", "电话", "", "", "", "", ""]]  # fmt: skip
    run(rows)
    later = receive_public(email="other@example.com").complaint
    numbers = sorted(
        Complaint.objects.filter(reference__startswith=f"KS-{today:%Y%m%d}").values_list(
            "reference", flat=True
        )
    )
    assert numbers == [f"KS-{today:%Y%m%d}-{n:06d}" for n in (1, 2, 3)]
    assert later.reference.endswith("000003")


def test_a_rerun_skips_what_is_there_and_completes_a_run_that_stopped(monkeypatch) -> None:
    rows = [[f"R{i}", f"第{i}号投诉：东西坏了", "2023-06-01 09:00", "", f"1380013{i:04d}", "",
             "电话", "", "", "", "", ""] for i in range(5)]  # fmt: skip
    write = importer._Table.write
    calls = {"events": 0}

    def failing(self, rows):
        if self.model is Event:
            calls["events"] += 1
            if calls["events"] == 2:
                raise RuntimeError("disk full")
        return write(self, rows)

    monkeypatch.setattr(importer._Table, "write", failing)
    with pytest.raises(RuntimeError):
        run(rows, batch_size=2)
    # The first batch is whole; nothing of the second.
    assert Complaint.objects.count() == Event.objects.count() == ImportedRow.objects.count() == 2
    assert SearchDocument.objects.count() == 2
    monkeypatch.setattr(importer._Table, "write", write)
    again = run(rows, batch_size=2)
    assert (again.created, again.skipped, again.failed) == (3, 2, 0)
    assert Complaint.objects.count() == 5 and Customer.objects.count() == 5
    assert (run(rows).created, run(rows).skipped) == (0, 5)
    assert Complaint.objects.count() == 5


# --- Encodings and workbooks ---------------------------------------------------------------------


def test_a_gbk_csv_from_chinese_excel() -> None:
    outcome = run(csv_file(GOOD, encoding="gb18030"))
    assert outcome.kind == "csv (gb18030)" and outcome.created == 3
    assert Complaint.objects.filter(description="店员态度很差，爱理不理。").exists()


def test_an_xlsx_workbook_with_numbers_and_dates() -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    sheet.append([1001, "洗衣机漏水", datetime(2022, 3, 4, 15, 30), "周先生", 13700137000, None,
                  "微信", "已解决", datetime(2022, 3, 6), None, None, 88.5])  # fmt: skip
    sheet.append([1002.0, "", datetime(2022, 3, 5), None, 13700137001, None, "微信"])
    handle = io.BytesIO()
    book.save(handle)
    handle.seek(0)
    outcome = run(handle, name="history.xlsx")
    assert outcome.kind == "xlsx" and outcome.created == 1
    assert problems(outcome) == {(3, "投诉内容")}
    complaint = Complaint.objects.get()
    assert complaint.received_at == datetime(2022, 3, 4, 7, 30, tzinfo=UTC)
    assert complaint.state == State.RESOLVED and complaint.amount == Decimal("88.50")
    assert complaint.customer.phone == "+8613700137000"
    assert ImportedRow.objects.get().source_id == "1001"


# --- Customers, triage, search -------------------------------------------------------------------


def test_customers_are_found_by_phone_or_email_across_rows_and_existing(make_complaint) -> None:
    existing = make_complaint().customer  # 刘女士, 13800138000, complained just now
    before = existing.last_complaint_at
    outcome = run()
    assert outcome.created == 3
    existing.refresh_from_db()
    # A1 and A3 (the same phone, written differently) are hers; A3 adds her email.
    assert existing.complaint_count == 3
    assert existing.last_complaint_at == before  # old complaints do not move it back
    assert existing.email == "liu@example.com"
    assert CustomerContact.objects.filter(customer=existing).count() == 2
    wang = Customer.objects.get(name="王先生")
    assert wang.complaint_count == 1 and wang.phone == "+8613900139000"
    assert Customer.objects.count() == 2
    # Within one batch: the same new email joins the customer made for an earlier row.
    rows = [
        ["C1", "第一次", "2023-01-01", "赵女士", "", "zhao@example.com", "电话", "", "", "", "",
         ""],
        ["C2", "第二次", "2023-01-09", "", "13600136000", "zhao@example.com", "电话", "", "", "",
         "", ""],
    ]  # fmt: skip
    run(rows)
    zhao = Customer.objects.get(name="赵女士")
    assert zhao.complaint_count == 2 and timezone.localdate(zhao.last_complaint_at).day == 9
    assert set(zhao.contacts.values_list("value", flat=True)) == {
        "zhao@example.com", "+8613600136000",
    }  # fmt: skip


def test_triage_reads_each_row_as_intake_would() -> None:
    run()
    threat = Complaint.objects.get(description__contains="12315")
    assert "regulator" in threat.flags.split()
    assert threat.grade in ("A", "B", "C")
    assert Event.objects.get(complaint=threat).data["triage"]["grade"] == threat.grade
    # A3 is 刘女士's second complaint within 30 days of A1: a repeat.
    repeat = Complaint.objects.get(description__startswith="店员")
    assert "repeat" in repeat.flags.split()
    assert repeat.category == "staff_attitude"  # a keyword rule


def test_the_classifier_reads_the_batch_as_it_reads_one_text() -> None:
    rng = random.Random(0)
    words = {"quality_defect": ["屏幕碎了", "漏水", "开机就坏"],
             "late_delivery": ["快递没到", "物流不动", "还没发货"],
             "staff_attitude": ["店员骂人", "很不耐烦", "甩脸色"]}  # fmt: skip
    texts, labels = [], []
    for i in range(90):
        label = list(words)[i % 3]
        texts.append(f"我上周买的东西，{rng.choice(words[label])}，请尽快处理")
        labels.append(label)
    triage.train_classifier(name=triage.CATEGORY_MODEL, texts=texts, labels=labels,
                            source="test", activate="always")  # fmt: skip
    probes = ["我上周买的手机，屏幕碎了", "快递没到！", "你好"]
    batch = list(importer._predict_all(probes))
    loaded = classifier.active(triage.CATEGORY_MODEL)
    assert loaded is not None
    for probe, prediction in zip(probes, batch, strict=True):
        one = loaded.predict(probe)
        assert prediction is not None
        assert prediction.category == one.category
        assert prediction.confidence == pytest.approx(one.confidence, abs=1e-5)
        # The words that weighed most (their order among equal weights may differ).
        assert bool(prediction.features) == bool(one.features)
    run([["M1", "我上周买的手机，屏幕碎了", "2023-01-01", "", "13800138000", "", "电话", "", "",
          "", "", ""]])  # fmt: skip
    assert Complaint.objects.get().category == "quality_defect"


def test_imported_complaints_are_found_by_search() -> None:
    run()
    found = Complaint.objects.filter(pk__in=matching_ids("漏水")).values_list("description")
    assert [d for (d,) in found] == ["电水壶用了两天就漏水，要求退货。"]
    assert Complaint.objects.filter(pk__in=matching_ids("13900139000")).count() == 1
    assert Complaint.objects.filter(pk__in=matching_ids("KS-20230502-000001")).count() == 1


def test_search_rows_are_those_intake_would_write(make_complaint, store) -> None:
    make_complaint()
    rows = [[*GOOD[0][:10], store.code, ""], *GOOD[1:]]
    run(rows)
    imported = ImportedRow.objects.values("complaint_id")
    for complaint in Complaint.objects.filter(pk__in=imported).select_related("customer", "store"):
        expected = " ".join(document_tokens(document_text(complaint)))
        assert complaint.search_document.tokens == expected, complaint.reference


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_large_file_is_read_by_worker_processes() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the workers open the database themselves: not an in-memory SQLite one")
    rows = [[f"W{i}", f"第{i}号：{GOOD[i % 3][1]}", "2023-06-01 09:00", "", f"1380013{i:04d}", "",
             "电话", "", "", "", "", ""] for i in range(30)]  # fmt: skip
    rows[7][2] = "不是日期"
    outcome = run(rows, workers=1, batch_size=8)
    assert (outcome.created, outcome.failed) == (29, 1)
    assert problems(outcome) == {(9, "受理时间")}
    threat = Complaint.objects.get(description__contains="12315", description__startswith="第1号")
    assert "regulator" in threat.flags.split()
    assert Complaint.objects.count() == SearchDocument.objects.count() == 29


# --- The command ---------------------------------------------------------------------------------


def test_the_command_imports_with_a_progress_bar_and_a_summary(tmp_path) -> None:
    data = tmp_path / "history.csv"
    data.write_bytes(csv_file([*GOOD, ["B1", "", "2023-05-01", "", "13800138001", "", "电话",
                                       "", "", "", "", ""]]).getvalue())  # fmt: skip
    mapping = tmp_path / "map.json"
    mapping.write_text(json.dumps(MAPPING, ensure_ascii=False), encoding="utf-8")
    errors = tmp_path / "bad.csv"
    out, err = StringIO(), StringIO()
    call_command("import_complaints", str(data), "--mapping", str(mapping), "--dry-run",
                 stdout=out, stderr=err)  # fmt: skip
    assert "3 would be imported" in out.getvalue() and "row 5, 投诉内容" in out.getvalue()
    assert "100%" in err.getvalue() and "4/4 rows" in err.getvalue()
    assert not Complaint.objects.exists()
    call_command("import_complaints", str(data), "--mapping", str(mapping), "--batch-size", "2",
                 "--errors", str(errors), stdout=out, stderr=err)  # fmt: skip
    assert Complaint.objects.count() == 3
    assert errors.read_text(encoding="utf-8-sig").splitlines()[1].startswith("5,投诉内容,")
    with pytest.raises(CommandError, match="cannot read"):
        call_command("import_complaints", str(tmp_path / "none.csv"), "--mapping",
                     str(mapping), stdout=StringIO(), stderr=StringIO())  # fmt: skip
    mapping.write_text('{"source": "x", "columns": {"colour": "颜色"}}', encoding="utf-8")
    with pytest.raises(CommandError, match=r"columns\.colour: Unknown field"):
        call_command("import_complaints", str(data), "--mapping", str(mapping),
                     stdout=StringIO(), stderr=StringIO())  # fmt: skip


# --- The admin and the background run ------------------------------------------------------------


def upload(rows=GOOD, **fields: Any) -> dict[str, Any]:
    return {
        "file": SimpleUploadedFile("history.csv", csv_file(rows).getvalue(), "text/csv"),
        "mapping": json.dumps(MAPPING, ensure_ascii=False),
        **fields,
    }


def test_upload_in_the_admin_runs_in_the_background_with_progress(client, people) -> None:
    client.force_login(people["admin"])
    assert client.get("/admin/intake/importjob/add/").status_code == 200
    rows = [*GOOD, ["B1", "", "2023-05-01", "", "13800138001", "", "电话", "", "", "", "", ""]]
    response = client.post("/admin/intake/importjob/add/", upload(rows))
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/{job.pk}/change/")
    # Only the header is read in the request; the rows are counted when the job starts.
    assert job.state == ImportState.QUEUED and job.total_rows is None and not job.dry_run
    page = client.get(f"/admin/intake/importjob/{job.pk}/change/").content.decode()
    assert 'http-equiv="refresh"' in page  # it refreshes itself while queued
    with translation.override("en"):  # the worker's language (the page's stays active)
        assert importer.run_pending_imports() == 1
        assert importer.run_pending_imports() == 0
    job.refresh_from_db()
    assert job.state == ImportState.DONE and job.finished_at is not None
    assert (job.total_rows, job.done_rows, job.created, job.failed) == (4, 4, 3, 1)
    page = client.get(f"/admin/intake/importjob/{job.pk}/change/").content.decode()
    assert 'http-equiv="refresh"' not in page
    assert '<progress value="4" max="4"' in page and "100%" in page
    assert "3 complaints imported" in page and "投诉内容" in page
    listing = client.get("/admin/intake/importjob/").content.decode()
    assert "100% (4 / 4)" in listing
    download = client.get(f"/admin/intake/importjob/{job.pk}/errors.csv")
    assert download["Content-Type"].startswith("text/csv")
    assert download.content.decode("utf-8-sig").splitlines()[1].startswith("5,投诉内容,")
    assert Complaint.objects.count() == 3


def test_the_admin_checks_the_header_at_once_and_queues_nothing_wrong(client, people) -> None:
    client.force_login(people["admin"])
    mapping = {**MAPPING, "columns": {**MAPPING["columns"], "order_ref": "订单号"}}
    response = client.post(
        "/admin/intake/importjob/add/", upload(mapping=json.dumps(mapping, ensure_ascii=False))
    )
    assert response.status_code == 200 and "订单号" in response.content.decode()
    response = client.post("/admin/intake/importjob/add/", upload(mapping="{}"))
    assert response.status_code == 200 and "columns.source_id" in response.content.decode()
    assert not ImportJob.objects.exists()
    client.force_login(people["li"])  # a manager is not an administrator
    assert client.get("/admin/intake/importjob/add/").status_code == 302


def test_a_dry_run_job_then_for_real(client, people) -> None:
    client.force_login(people["admin"])
    client.post("/admin/intake/importjob/add/", upload(dry_run="on"))
    importer.run_pending_imports()
    dry = ImportJob.objects.get()
    assert dry.dry_run and dry.state == ImportState.DONE and dry.created == 3
    assert not Complaint.objects.exists()
    client.post("/admin/intake/importjob/", {"action": "import_for_real",
                                             "_selected_action": [dry.pk]})  # fmt: skip
    assert importer.run_pending_imports() == 1
    assert Complaint.objects.count() == 3


def test_a_job_is_claimed_once() -> None:
    from kesu.accounts.services import create_user

    admin = create_user(username="root", role="admin", password=None)
    jobs = [
        importer.queue_import(upload=SimpleUploadedFile("h.csv", csv_file(GOOD).getvalue()),
                              name="h.csv", mapping=importer.read_mapping(MAPPING),
                              raw_mapping=MAPPING, dry_run=True, user=admin)
        for _ in range(2)
    ]  # fmt: skip
    first = importer._claim()
    assert first is not None and first.pk == jobs[0].pk
    second = importer._claim()
    assert second is not None and second.pk == jobs[1].pk  # the running one is not taken again
    assert importer._claim() is None
    assert importer.run_pending_imports() == 0


def test_a_job_whose_worker_died_is_taken_again_and_completed() -> None:
    from kesu.accounts.services import create_user

    admin = create_user(username="root", role="admin", password=None)
    job = importer.queue_import(upload=SimpleUploadedFile("h.csv", csv_file(GOOD).getvalue()),
                                name="h.csv", mapping=importer.read_mapping(MAPPING),
                                raw_mapping=MAPPING, dry_run=False, user=admin)  # fmt: skip
    claimed = importer._claim()
    assert claimed is not None and claimed.pk == job.pk
    assert importer._claim() is None  # running, and beating: nobody takes it
    # Its worker dies: the heartbeat stops.
    silent = timezone.now() - importer.STALE_AFTER - timedelta(seconds=1)
    ImportJob.objects.filter(pk=job.pk).update(heartbeat_at=silent)
    assert importer.run_pending_imports() == 1
    job.refresh_from_db()
    assert job.state == ImportState.DONE and job.created == Complaint.objects.count() > 0
    assert job.heartbeat_at is not None and job.heartbeat_at > silent


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_workers_never_take_the_same_job() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SKIP LOCKED: PostgreSQL (SQLite lets one writer in at a time)")
    from kesu.accounts.services import create_user

    admin = create_user(username="root", role="admin", password=None)
    job = importer.queue_import(upload=SimpleUploadedFile("h.csv", csv_file(GOOD).getvalue()),
                                name="h.csv", mapping=importer.read_mapping(MAPPING),
                                raw_mapping=MAPPING, dry_run=True, user=admin)  # fmt: skip
    locked, release = threading.Event(), threading.Event()
    seen: list[Any] = []

    def holder() -> None:
        # Another worker between its SELECT … FOR UPDATE and its commit.
        with transaction.atomic():
            ImportJob.objects.select_for_update().get(pk=job.pk)
            locked.set()
            release.wait(5)
        connection.close()

    def claimer() -> None:
        seen.append(importer._claim())
        connection.close()

    first = threading.Thread(target=holder)
    first.start()
    locked.wait(5)
    second = threading.Thread(target=claimer)
    second.start()
    second.join(5)
    release.set()
    first.join(5)
    assert seen == [None]  # skipped, not waited for
    assert ImportJob.objects.get(pk=job.pk).state == ImportState.QUEUED


def test_the_other_intake_models_in_the_admin(client, people) -> None:
    client.force_login(people["admin"])
    for model in ("mailbox", "source", "conversation", "inboundmessage"):
        assert client.get(f"/admin/intake/{model}/").status_code == 200, model
    page = client.get("/admin/intake/mailbox/add/").content.decode()
    assert "password_env" in page and 'type="password"' not in page
    assert client.get("/admin/intake/inboundmessage/add/").status_code == 403
