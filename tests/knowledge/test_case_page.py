"""The knowledge base on the case page: similar cases, scripts, the customer's profile."""

from __future__ import annotations

import pytest

from kesu.complaints.models import Event
from kesu.complaints.workflow import perform
from kesu.customers.models import Customer
from kesu.errors import NotAllowed
from tests.knowledge.conftest import resolve

pytestmark = pytest.mark.django_db


def test_the_case_page_shows_similar_cases_scripts_and_advice(client, people, in_department,
                                                               write):  # fmt: skip
    earlier = in_department(description="电水壶用了两天就漏水，底座一直渗水。")
    past = resolve(earlier, people["zhao"], satisfaction=5)
    write()  # a published script for quality_defect
    now = in_department(description="新买的电水壶漏水，底座渗水，要求退货。")
    perform(now, "classify", people["li"], category="quality_defect")
    client.force_login(people["zhao"])
    page = client.get(f"/work/c/{now.reference}/").content.decode()
    assert 'data-testid="knowledge-panel"' in page and past.reference in page
    assert "电水壶漏水的标准答复" in page
    assert 'data-testid="customer-advice"' not in page  # a calm customer, no profile


def test_marking_a_profile_shows_its_advice_and_is_recorded(client, people, in_department):
    complaint = in_department()
    event = perform(complaint, "profile", people["zhao"], profile="publicity_power",
                    reason="自称报社记者")  # fmt: skip
    assert event.data == {"from": "", "to": "publicity_power", "reason": "自称报社记者"}
    assert Customer.objects.get(pk=complaint.customer_id).profile == "publicity_power"
    with pytest.raises(NotAllowed):
        perform(complaint, "profile", people["zhao"], profile="publicity_power")
    client.force_login(people["zhao"])
    page = client.get(f"/work/c/{complaint.reference}/").content.decode()
    assert 'data-testid="customer-profile"' in page and 'data-testid="customer-advice"' in page
    assert Event.objects.filter(complaint=complaint, kind="profile").count() == 1


def test_an_angry_customer_gets_suggested_advice(client, people, in_department):
    complaint = in_department(description="你们就是骗子，垃圾服务，气死我了！！！")
    client.force_login(people["zhao"])
    page = client.get(f"/work/c/{complaint.reference}/").content.decode()
    assert 'data-testid="customer-advice"' in page


def test_managers_may_promote_a_resolved_case(client, people, in_department):
    complaint = resolve(in_department(), people["zhao"])
    client.force_login(people["zhao"])
    assert (
        'data-testid="promote"'
        not in client.get(f"/work/c/{complaint.reference}/").content.decode()
    )
    client.force_login(people["li"])
    assert 'data-testid="promote"' in client.get(f"/work/c/{complaint.reference}/").content.decode()
    answer = client.post(f"/work/kb/promote/{complaint.reference}/")
    assert answer.status_code == 302 and "/work/kb/" in answer["Location"]
