"""The performance report: KPIs per department, handler and store, and the causes (§6, L11)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from kesu.complaints.models import Complaint
from kesu.complaints.workflow import perform
from kesu.reports.selectors import performance
from kesu.sla.models import Clock
from tests.conftest import PASSWORD, walk

pytestmark = pytest.mark.django_db


def due(complaint: Complaint, target: str):
    return Clock.objects.get(complaint=complaint, target=target).due_at


def resolve(complaint: Complaint, people, *, at) -> Complaint:
    """Walk the complaint to resolved, the last step at `at`."""
    walk(complaint, [
        ("investigate", people["zhao"], {}),
        ("propose_remedy", people["zhao"], {"remedy_type": "refund", "remedy_amount": "99",
                                            "remedy_description": "全额退款"}),
        ("customer_accept", people["li"], {}),
    ])  # fmt: skip
    perform(complaint, "resolve", people["zhao"], at=at, responsibility="ours",
            root_cause="出库漏检", corrective_action="出库逐件检查")  # fmt: skip
    return complaint


@pytest.fixture
def cases(make_complaint, in_department, people, store):
    """Five complaints received now, handled well and badly."""
    start = timezone.now()
    good = in_department(store=store.code)  # acknowledged and assigned at once
    perform(good, "contact", people["zhao"], method="phone", reached=True, summary="已致歉")
    twin = make_complaint()
    perform(twin, "merge", people["li"], target=good.reference)  # a duplicate: not counted
    resolve(good, people, at=start + timedelta(hours=5))
    late = make_complaint()
    perform(late, "acknowledge", people["wang"], at=due(late, "acknowledge") + timedelta(hours=1))
    perform(late, "assign", people["li"], department="logistics", assignee="zhang")
    invalid = in_department()
    perform(invalid, "mark_invalid", people["zhao"], reason="订单不是本公司的")
    escalated = in_department(store=store.code)
    perform(escalated, "escalate", people["li"], level=3, reason="客户已向12315投诉")
    perform(escalated, "transfer", people["li"], department="quality", reason="质量问题")
    return {"good": good, "late": late, "invalid": invalid, "escalated": escalated}


def test_deadlines_met_and_missed_resolution_time_and_escalations(cases, people):
    # Looked at just after the late one's first-contact deadline: it is still running past it.
    now = due(cases["late"], "first_contact") + timedelta(minutes=1)
    report = performance(people["admin"], days=7, now=now)
    total = report.total
    assert (total.received, total.resolved, total.invalid, total.escalated) == (4, 1, 1, 1)
    assert total.open == total.overdue == 2  # the late and the escalated one: never contacted
    assert total.high_risk == 1  # the escalated one: level 3
    assert (total.deadlines["acknowledge"].met, total.deadlines["acknowledge"].missed) == (3, 1)
    assert total.acknowledged_on_time == 75
    # The invalid one's first contact is moot: it was closed before anyone called.
    assert (total.deadlines["first_contact"].met, total.deadlines["first_contact"].missed) == (1, 2)
    assert total.deadlines["resolve"].met == 2  # the resolved one and the one closed as invalid
    assert total.median_hours == pytest.approx(5, abs=0.1) and total.median_text == "5.0 h"
    assert total.reopen_rate == 0 and total.transfer_rate == 25
    by_department = {r.key: r for r in report.departments}
    assert set(by_department) == {"after_sales", "logistics", "quality"}
    assert by_department["logistics"].acknowledged_on_time == 0
    assert by_department["after_sales"].acknowledged_on_time == 100
    assert by_department["quality"].escalated == 1
    by_handler = {r.key: r for r in report.handlers}
    assert by_handler["zhao"].received == 2 and by_handler["zhang"].received == 1
    assert by_handler[""].label == "Unassigned"  # the escalated one lost its handler in transfer
    assert [(r.key, r.received) for r in report.stores] == [("bj-chaoyang", 2)]
    assert [(r.key, r.label, r.received) for r in report.channels] == [("web", "Web form", 4)]


def test_overdue_means_past_a_deadline_now(cases, people):
    total = performance(people["admin"], days=7).total  # before any first-contact deadline
    assert total.deadlines["acknowledge"].missed == 1  # the late one: acknowledged late
    assert total.open == 2 and total.overdue == 0  # but nothing open is past a deadline now


def test_a_manager_sees_his_departments_only(cases, people):
    departments = {r.key for r in performance(people["li"], days=7).departments}
    assert "logistics" not in departments and "after_sales" in departments


def test_the_period_counts_what_was_received_in_it(cases, people):
    assert (
        performance(people["admin"], days=7, now=timezone.now() + timedelta(days=8)).total.received
        == 0
    )
    assert performance(people["admin"], days=1).total.received == 4


def test_a_cause_that_grows_is_marked_rising(make_complaint, people):
    for n in range(5):
        make_complaint(description=f"快递员态度恶劣，把包裹扔在门口就走了，第{n}次了。")
    now = timezone.now()
    report = performance(people["admin"], days=7, now=now + timedelta(minutes=1))
    top = report.causes[0]
    assert top.received == 5 and top.previous == 0 and top.rising and top.change is None
    later = performance(people["admin"], days=7, now=now + timedelta(days=7, minutes=1))
    assert later.causes[0].received == 0 and later.causes[0].previous == 5
    assert not later.causes[0].rising


def test_the_page_csv_and_who_may_see_them(client, cases, people):
    client.login(username="li", password=PASSWORD)
    page = client.get("/work/reports/performance/?days=7", headers={"Accept-Language": "zh-hans"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "售后服务部" in html and "赵敏" in html and "物流配送部" not in html
    assert 'href="/work/reports/satisfaction/?days=7"' in html
    download = client.get("/work/reports/performance/?days=7&format=csv")
    assert download["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert len(rows[0]) == 15 and rows[1][2] == "2"  # li sees the two left in after-sales
    workbook = client.get("/work/reports/performance/?days=7&format=xlsx")
    assert workbook["Content-Disposition"].endswith('.xlsx"')
    book = load_workbook(io.BytesIO(workbook.content), read_only=True)
    assert book.sheetnames == ["全部", "部门", "处理人", "门店", "渠道", "投诉原因"]
    lines = list(book["部门"].values)
    assert lines[0][0].endswith("收到的投诉")  # the period: "2026-… 至 2026-… 收到的投诉"
    assert lines[1][:3] == ("名称", "已接收", "未结案")
    assert lines[2][:3] == ("售后服务部", 2, 0)  # both closed: one resolved, one invalid
    client.logout()
    client.login(username="wang", password=PASSWORD)
    assert client.get("/work/reports/performance/").status_code == 404


def test_the_api_answers_and_names_bad_input(api, cases):
    answer = api("admin").get("/api/reports/performance", days=7)
    assert answer.status_code == 200
    body = answer.json()
    assert body["total"]["received"] == 4 and body["total"]["acknowledged_on_time_pct"] == 75.0
    assert {c["code"] for c in body["causes"]} and body["days"] == 7
    bad = api("admin").get("/api/reports/performance", days="0", team="x")
    assert bad.status_code == 422
    assert [e["field"] for e in bad.json()["errors"]] == ["days", "team"]
    assert api("wang").get("/api/reports/performance").status_code == 403


def test_a_reopened_case_counts_as_reopened_while_open(in_department, people):
    complaint = resolve(in_department(), people, at=timezone.now() + timedelta(hours=2))
    perform(complaint, "reopen", people["li"], reason="客户回访不满意")
    total = performance(people["admin"], days=7, now=timezone.now() + timedelta(hours=3)).total
    assert (total.resolved, total.resolved_once, total.reopened) == (0, 1, 1)
    assert total.reopen_rate == 100


def test_a_breached_deadline_moved_later_is_missed_but_not_overdue(in_department, people):
    complaint = in_department()
    now = timezone.now()
    # As after an approved extension: breached once, now due in 20 days.
    Clock.objects.filter(complaint=complaint, target="resolve").update(
        breached_at=now - timedelta(hours=1), due_at=now + timedelta(days=20)
    )
    total = performance(people["admin"], days=7, now=now).total
    assert total.deadlines["resolve"].missed == 1 and total.overdue == 0


def test_days_must_be_plain_digits(api, client, people):
    bad = api("admin").get("/api/reports/performance", days="²")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "days"
    client.force_login(people["li"])
    assert client.get("/work/reports/performance/?days=²").status_code == 200  # 30 days


def test_names_never_become_spreadsheet_formulas(client, make_complaint, people, departments):
    departments["after_sales"].name_zh = '=HYPERLINK("http://x")'
    departments["after_sales"].save()
    complaint = make_complaint()
    perform(complaint, "assign", people["li"], department="after_sales", assignee="zhao")
    client.force_login(people["admin"])
    download = client.get("/work/reports/performance/?days=7&format=csv")
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert rows[2][:2] == ["部门", '\'=HYPERLINK("http://x")']
