"""The workflow table and its guards, action by action, through `perform`."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kesu.accounts.models import RolePolicy
from kesu.complaints.models import Closure, Complaint, Event, RemedyStatus, State
from kesu.complaints.workflow import Action, allowed_actions, perform
from kesu.errors import Forbidden, InvalidInput, NotAllowed, NotFound
from kesu.notify.models import OutboxMessage
from tests.conftest import walk

pytestmark = pytest.mark.django_db


def events(complaint: Complaint) -> list[str]:
    return list(complaint.events.order_by("at", "id").values_list("kind", flat=True))


def to_investigating(c: Complaint, people) -> Complaint:
    return walk(c, [("investigate", people["zhao"], {})])


def to_accepted(c: Complaint, people, amount: str = "100") -> Complaint:
    return walk(
        c,
        [
            ("investigate", people["zhao"], {}),
            (
                "propose_remedy",
                people["zhao"],
                {
                    "remedy_type": "refund",
                    "remedy_amount": amount,
                    "remedy_description": "退还货款，三个工作日内到账。",
                },
            ),
            ("customer_accept", people["zhao"], {}),
        ],
    )


def test_full_lifecycle_writes_one_event_per_action(in_department, people) -> None:
    complaint = to_accepted(in_department(), people)
    walk(
        complaint,
        [
            ("contact", people["zhao"], {"method": "phone", "reached": True, "summary": "已致歉"}),
            ("start_remedy", people["zhao"], {}),
            (
                "resolve",
                people["zhao"],
                {
                    "responsibility": "ours",
                    "root_cause": "出厂密封圈缺陷",
                    "corrective_action": "通知质量部排查同批次",
                },
            ),
            ("close", people["zhao"], {"satisfaction": 5}),
        ],
    )
    complaint.refresh_from_db()
    assert complaint.state == State.CLOSED
    assert complaint.closure == Closure.RESOLVED
    assert complaint.satisfaction == 5
    assert complaint.first_contact_at is not None
    assert complaint.resolved_at is not None and complaint.closed_at is not None
    assert events(complaint) == [
        "received",
        "acknowledge",
        "assign",
        "investigate",
        "propose_remedy",
        "customer_accept",
        "contact",
        "start_remedy",
        "resolve",
        "close",
    ]
    last = complaint.events.order_by("-id").first()
    assert last is not None and last.from_state == State.RESOLVED and last.to_state == State.CLOSED


def test_action_in_wrong_state_changes_nothing_and_says_why(make_complaint, people) -> None:
    complaint = make_complaint()
    before = Event.objects.count()
    with pytest.raises(NotAllowed, match="Start investigating"):
        perform(complaint, "investigate", people["zhao"])
    complaint.refresh_from_db()
    assert complaint.state == State.RECEIVED
    assert Event.objects.count() == before


def test_role_not_allowed_is_forbidden(make_complaint, people) -> None:
    complaint = walk(make_complaint(actor=people["wang"]), [("acknowledge", people["wang"], {})])
    with pytest.raises(Forbidden, match="may not"):
        perform(complaint, "investigate", people["wang"])  # agents do not investigate
    with pytest.raises(Forbidden):
        perform(complaint, "note", people["sun"], text="审计不能写")  # auditors only read


def test_unknown_action_is_not_found(make_complaint, people) -> None:
    with pytest.raises(NotFound, match="Unknown action"):
        perform(make_complaint(), "teleport", people["admin"])


def test_complaint_outside_my_departments_is_not_found(in_department, people) -> None:
    complaint = in_department()
    with pytest.raises(NotFound):
        perform(complaint, "note", people["zhang"], text="不是我部门的")


def test_invalid_data_names_the_field(in_department, people) -> None:
    complaint = to_investigating(in_department(), people)
    with pytest.raises(InvalidInput) as caught:
        perform(complaint, "propose_remedy", people["zhao"], remedy_type="bribe")
    fields = {e.field for e in caught.value.errors}
    assert {"remedy_type", "remedy_description"} <= fields
    with pytest.raises(InvalidInput) as caught:
        perform(complaint, "note", people["zhao"], text="好", colour="red")
    assert [e.field for e in caught.value.errors] == ["colour"]
    with pytest.raises(InvalidInput) as caught:
        perform(complaint, "note", people["zhao"], text=["not", "a", "string"])
    assert [e.field for e in caught.value.errors] == ["text"]


def test_remedy_above_authority_needs_a_managers_approval(in_department, people) -> None:
    complaint = to_investigating(in_department(), people)
    remedy = {
        "remedy_type": "compensation",
        "remedy_amount": "3000",
        "remedy_description": "赔偿三千元",
    }
    with pytest.raises(NotAllowed, match="authority"):
        perform(complaint, "propose_remedy", people["zhao"], **remedy)
    perform(complaint, "request_approval", people["zhao"], **remedy)
    assert complaint.state == State.INVESTIGATING
    assert complaint.remedy_status == RemedyStatus.PENDING_APPROVAL
    # The customer hears nothing until it is approved.
    assert not OutboxMessage.objects.filter(complaint=complaint, kind="remedy_proposed").exists()
    with pytest.raises(Forbidden):
        perform(complaint, "approve_remedy", people["zhao"])
    perform(complaint, "approve_remedy", people["li"])
    assert complaint.state == State.AWAITING_CUSTOMER
    assert complaint.remedy_status == RemedyStatus.PROPOSED
    assert complaint.remedy_approved_by == people["li"]
    assert OutboxMessage.objects.filter(complaint=complaint, kind="remedy_proposed").exists()


def test_approval_beyond_the_approvers_authority_is_refused(in_department, people) -> None:
    complaint = to_investigating(in_department(), people)
    perform(
        complaint,
        "request_approval",
        people["zhao"],
        remedy_type="compensation",
        remedy_amount="8000",
        remedy_description="赔偿八千元",
    )
    with pytest.raises(NotAllowed, match="5000"):
        perform(complaint, "approve_remedy", people["li"])
    perform(complaint, "approve_remedy", people["admin"])  # no limit
    assert complaint.remedy_status == RemedyStatus.PROPOSED


def test_authority_is_configurable_per_role(in_department, people) -> None:
    RolePolicy.objects.filter(role="handler").update(remedy_authority=Decimal("5000"))
    complaint = to_investigating(in_department(), people)
    perform(
        complaint,
        "propose_remedy",
        people["zhao"],
        remedy_type="compensation",
        remedy_amount="3000",
        remedy_description="赔偿三千元",
    )
    assert complaint.state == State.AWAITING_CUSTOMER


def test_nobody_approves_their_own_request(in_department, people) -> None:
    complaint = walk(in_department(), [("investigate", people["li"], {})])
    perform(
        complaint,
        "request_approval",
        people["li"],
        remedy_type="refund",
        remedy_amount="100",
        remedy_description="退款",
    )
    with pytest.raises(NotAllowed, match="approved by the person"):
        perform(complaint, "approve_remedy", people["li"])


def test_resolve_needs_verdict_root_cause_and_accepted_remedy(in_department, people) -> None:
    complaint = to_investigating(in_department(), people)
    assert Action.RESOLVE not in allowed_actions(complaint, people["zhao"])
    to_accepted_complaint = walk(
        complaint,
        [
            (
                "propose_remedy",
                people["zhao"],
                {"remedy_type": "apology", "remedy_description": "当面致歉"},
            ),
        ],
    )
    with pytest.raises(NotAllowed, match="accepted"):
        perform(to_accepted_complaint, "resolve", people["zhao"], responsibility="ours")
    perform(complaint, "customer_accept", people["zhao"])
    with pytest.raises(InvalidInput) as caught:
        perform(complaint, "resolve", people["zhao"])
    assert {e.field for e in caught.value.errors} == {"responsibility", "root_cause"}
    with pytest.raises(InvalidInput) as caught:
        perform(complaint, "resolve", people["zhao"], responsibility="ours", root_cause="态度差")
    assert [e.field for e in caught.value.errors] == ["corrective_action"]
    perform(
        complaint,
        "resolve",
        people["zhao"],
        responsibility="customer",
        root_cause="客户误解退换货规则",
    )
    assert complaint.state == State.RESOLVED


def test_customer_reject_returns_to_investigating_and_counts(in_department, people) -> None:
    complaint = walk(
        to_investigating(in_department(), people),
        [
            (
                "propose_remedy",
                people["zhao"],
                {
                    "remedy_type": "fee_waiver",
                    "remedy_amount": "50",
                    "remedy_description": "免运费",
                },
            ),
        ],
    )
    with pytest.raises(InvalidInput):
        perform(complaint, "customer_reject", people["zhao"])  # a reason is required
    perform(complaint, "customer_reject", people["zhao"], reason="金额太低")
    assert complaint.state == State.INVESTIGATING
    assert complaint.rejections == 1
    assert complaint.remedy_status == RemedyStatus.REJECTED


def test_mark_invalid_needs_a_reason_and_closes(in_department, people) -> None:
    complaint = in_department()
    with pytest.raises(InvalidInput):
        perform(complaint, "mark_invalid", people["zhao"], reason="  ")
    perform(complaint, "mark_invalid", people["zhao"], reason="订单不是本公司的")
    assert complaint.state == State.CLOSED
    assert complaint.closure == Closure.INVALID
    assert complaint.responsibility == "unfounded"
    assert OutboxMessage.objects.filter(complaint=complaint, kind="invalid").exists()


def test_reopen_needs_a_reason_counts_and_restarts_the_clock(in_department, people) -> None:
    complaint = in_department()
    perform(complaint, "mark_invalid", people["zhao"], reason="重复来电")
    old_due = complaint.resolve_due
    with pytest.raises(InvalidInput):
        perform(complaint, "reopen", people["li"])
    perform(complaint, "reopen", people["li"], reason="客户补充了新证据")
    assert complaint.state == State.INVESTIGATING
    assert complaint.reopens == 1
    assert complaint.closure == ""
    assert complaint.closed_at is None
    assert complaint.resolve_due > old_due


def test_merge_needs_an_open_target(in_department, make_complaint, people) -> None:
    target = in_department()
    duplicate = make_complaint(description="同一件事又打电话来投诉。")
    with pytest.raises(NotAllowed, match="itself"):
        perform(duplicate, "merge", people["li"], target=duplicate.reference)
    with pytest.raises(InvalidInput):
        perform(duplicate, "merge", people["li"], target="KS-20000101-000001")
    closed = make_complaint()
    perform(closed, "mark_invalid", people["li"], reason="测试")
    with pytest.raises(NotAllowed, match="open"):
        perform(duplicate, "merge", people["li"], target=closed.reference)
    perform(duplicate, "merge", people["li"], target=target.reference.lower())
    assert duplicate.state == State.CLOSED
    assert duplicate.closure == Closure.DUPLICATE
    assert duplicate.merged_into == target
    with pytest.raises(NotAllowed, match="duplicate"):
        perform(duplicate, "reopen", people["li"], reason="试试")


def test_transfer_is_counted_and_needs_a_reason(in_department, people) -> None:
    complaint = in_department()
    with pytest.raises(InvalidInput):
        perform(complaint, "transfer", people["li"], department="quality")
    with pytest.raises(NotAllowed, match="already"):
        perform(complaint, "transfer", people["li"], department="after_sales", reason="x")
    perform(
        complaint,
        "transfer",
        people["li"],
        department="quality",
        assignee="chen",
        reason="疑似批次质量问题",
    )
    assert complaint.department.code == "quality"
    assert complaint.assignee == people["chen"]
    assert complaint.transfers == 1


def test_assign_checks_membership_and_points_to_transfer(make_complaint, people) -> None:
    complaint = make_complaint()
    with pytest.raises(InvalidInput) as caught:
        perform(complaint, "assign", people["li"], department="after_sales", assignee="zhang")
    assert caught.value.errors[0].field == "assignee"
    perform(complaint, "assign", people["wang"], assignee="zhao")  # department from the person
    assert complaint.department.code == "after_sales"
    with pytest.raises(NotAllowed, match="transfer"):
        perform(complaint, "assign", people["li"], department="quality")


def test_investigate_makes_the_actor_responsible(make_complaint, people) -> None:
    complaint = walk(make_complaint(), [("acknowledge", people["wang"], {})])
    perform(complaint, "investigate", people["zhao"])
    assert complaint.assignee == people["zhao"]
    assert complaint.department.code == "after_sales"


def test_escalate_only_upwards(make_complaint, people) -> None:
    complaint = make_complaint()
    perform(complaint, "escalate", people["wang"], level=2, reason="客户说要找记者")
    assert complaint.escalation_level == 2
    with pytest.raises(NotAllowed):
        perform(complaint, "escalate", people["wang"], level=1, reason="降级")
    with pytest.raises(InvalidInput):
        perform(complaint, "escalate", people["wang"], level=7, reason="太高")


def test_notes_internal_or_public(in_department, people) -> None:
    complaint = in_department()
    internal = perform(complaint, "note", people["zhao"], text="查看监控录像", internal=True)
    public = perform(complaint, "note", people["zhao"], text="我们明天上午十点给您回电。")
    assert not internal.customer_visible
    assert public.customer_visible  # internal defaults to false when not given
    assert OutboxMessage.objects.filter(complaint=complaint, kind="message").count() == 1
    perform(complaint, "mark_invalid", people["zhao"], reason="无效")
    perform(complaint, "note", people["zhao"], text="已归档", internal=True)  # closed cases too


def test_classify_records_old_and_new(make_complaint, people) -> None:
    complaint = make_complaint()
    event = perform(complaint, "classify", people["wang"], grade="B", category="quality_defect")
    # The category brings its nature with it.
    assert event.data["changes"] == {
        "category": ["", "quality_defect"],
        "nature": ["", "product_quality"],
        "grade": ["E", "B"],
    }
    with pytest.raises(InvalidInput):
        perform(complaint, "classify", people["wang"])


def test_allowed_actions_follow_role_and_state(in_department, people) -> None:
    complaint = in_department()
    assert Action.INVESTIGATE in allowed_actions(complaint, people["zhao"])
    assert Action.INVESTIGATE not in allowed_actions(complaint, people["wang"])
    assert allowed_actions(complaint, people["sun"]) == []
    assert allowed_actions(complaint, people["zhang"]) == []  # cannot see it
    assert Action.APPROVE_REMEDY not in allowed_actions(complaint, people["li"])


def test_events_are_append_only_in_the_database(make_complaint) -> None:
    from django.db import DatabaseError, transaction

    event = make_complaint().events.get()
    with pytest.raises(DatabaseError), transaction.atomic():
        Event.objects.filter(pk=event.pk).update(kind="forged")
