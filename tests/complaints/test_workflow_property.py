"""Random action sequences by random roles keep the workflow's invariants.

For every step: an accepted action writes exactly one Event and leaves the complaint in a state
of the table; a refused one writes no Event and changes no column of the complaint.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.forms.models import model_to_dict
from hypothesis import HealthCheck, given, settings, target
from hypothesis import event as note_event
from hypothesis import strategies as st

from kesu.complaints.models import Closure, Complaint, Event, State
from kesu.complaints.workflow import RULES, Action, allowed_actions, perform
from kesu.errors import KesuError

ACTORS = ["wang", "zhao", "li", "chen", "zhang", "sun", "admin"]
# The actions that move a complaint along its main path (and back, on reopen).
PROGRESS = {
    Action.ACKNOWLEDGE,
    Action.INVESTIGATE,
    Action.REQUEST_APPROVAL,
    Action.APPROVE_REMEDY,
    Action.PROPOSE_REMEDY,
    Action.CUSTOMER_ACCEPT,
    Action.CUSTOMER_REJECT,
    Action.START_REMEDY,
    Action.RESOLVE,
    Action.CLOSE,
    Action.REOPEN,
}


def valid_data(action: Action, draw_level: int, target: str, internal: bool) -> dict[str, Any]:
    return {
        Action.ACKNOWLEDGE: {},
        Action.CONTACT: {"method": "phone", "reached": True, "summary": "已电话联系客户"},
        Action.CLASSIFY: {"grade": "ABCDE"[draw_level]},
        Action.ASSIGN: {"assignee": "zhao"},
        Action.TRANSFER: {
            "department": ["quality", "after_sales"][draw_level % 2],
            "reason": "转给更合适的部门",
        },
        Action.INVESTIGATE: {},
        Action.REQUEST_APPROVAL: {
            "remedy_type": "compensation",
            "remedy_amount": "3000",
            "remedy_description": "赔偿三千元",
        },
        Action.APPROVE_REMEDY: {},
        Action.PROPOSE_REMEDY: {
            "remedy_type": "refund",
            "remedy_amount": "100",
            "remedy_description": "退款一百元",
        },
        Action.CUSTOMER_ACCEPT: {},
        Action.CUSTOMER_REJECT: {"reason": "金额太低"},
        Action.START_REMEDY: {},
        Action.RESOLVE: {
            "responsibility": "ours",
            "root_cause": "质检漏检",
            "corrective_action": "加强出厂检验",
        },
        Action.CLOSE: {"satisfaction": 4},
        Action.REOPEN: {"reason": "客户回访不满意"},
        Action.MARK_INVALID: {"reason": "经核实不属实"},
        Action.MERGE: {"target": target},
        Action.ESCALATE: {"level": 1 + draw_level % 3, "reason": "客户扬言投诉到12315"},
        Action.REPLY: {
            "text": "非常抱歉给您带来不便，12月5日前答复您。",
            "override_reason": "已核",
        },
        Action.PROFILE: {"profile": ["emotional", "prepared"][draw_level % 2], "reason": "激动"},
        Action.EXTEND: {"allowed": "30d", "reason": "需要第三方检测报告"},
        Action.ACKNOWLEDGE_ALERT: {"note": "已知悉，专家跟进"},
        Action.NOTE: {"text": "跟进备注", "internal": internal},
    }[action]


def snapshot(complaint: Complaint) -> dict[str, Any]:
    row = Complaint.objects.get(pk=complaint.pk)
    return model_to_dict(row, exclude=["updated_at"])


def check_invariants(complaint: Complaint) -> None:
    row = Complaint.objects.get(pk=complaint.pk)
    assert row.state in State.values
    assert (row.state == State.CLOSED) == (row.closure != "")
    if row.closure == Closure.DUPLICATE:
        assert row.merged_into_id is not None
    if row.state == State.RESOLVED or (row.state == State.CLOSED and row.closure == "resolved"):
        assert row.responsibility and row.root_cause and row.remedy_type
    assert 0 <= row.escalation_level <= 3


@pytest.mark.django_db
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_random_sequences_keep_the_invariants(in_department, people, data) -> None:
    complaint = in_department()
    merge_target = in_department(description="另一位客户的投诉，作为合并目标。")
    for _step in range(data.draw(st.integers(min_value=1, max_value=30), label="length")):
        username = data.draw(st.sampled_from(ACTORS), label="actor")
        allowed = allowed_actions(Complaint.objects.get(pk=complaint.pk), people[username])
        # Mostly an action this person may take now, so that sequences reach deep states;
        # otherwise any action at all, to exercise the refusals.
        steer = data.draw(st.integers(0, 9), label="steer")
        forward = [a for a in allowed if a in PROGRESS]
        if forward and steer < 6:
            action = data.draw(st.sampled_from(forward), label="action")
        elif allowed and steer < 8:
            action = data.draw(st.sampled_from(allowed), label="action")
        else:
            action = data.draw(st.sampled_from(list(Action)), label="action")
        valid = data.draw(st.integers(0, 9), label="valid") < 8
        level = data.draw(st.integers(0, 4), label="level")
        internal = data.draw(st.booleans(), label="internal")
        payload = (
            valid_data(action, level, merge_target.reference, internal) if valid else {"bogus": 1}
        )
        before_events = Event.objects.filter(complaint=complaint).count()
        before = snapshot(complaint)
        try:
            event = perform(complaint, action.value, people[username], **payload)
        except KesuError:
            assert Event.objects.filter(complaint=complaint).count() == before_events
            assert snapshot(complaint) == before
        else:
            note_event(f"accepted {action.value}")
            assert valid
            assert Event.objects.filter(complaint=complaint).count() == before_events + 1
            rule = RULES[action]
            assert event.kind == (rule.event_kind or action.value)
            assert event.from_state in rule.from_states
            expected = rule.to_state or event.from_state
            assert event.to_state == expected == Complaint.objects.get(pk=complaint.pk).state
        check_invariants(complaint)
    # Steer the search towards long lives: sequences that get far through the workflow.
    target(float(Event.objects.filter(complaint=complaint).count()), label="events")
