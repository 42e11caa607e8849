"""What people see of triage: the case page, queues, duplicates, the admin and the API."""

from __future__ import annotations

import pytest

from kesu.triage.models import Category, Rule

pytestmark = pytest.mark.django_db


def test_case_page_says_why(client, people, receive_public) -> None:
    complaint = receive_public(description="再不解决我就打１２３１５并找媒体曝光").complaint
    client.force_login(people["li"])
    client.cookies["django_language"] = "en"
    page = client.get(f"/work/c/{complaint.reference}/")
    text = page.content.decode()
    assert page.status_code == 200
    assert f"Grade {complaint.grade} because:" in text and "12315" in text
    assert "Regulator or hotline" in text and "Media or public exposure" in text
    assert 'data-testid="needs-review"' in text
    client.cookies["django_language"] = "zh-hans"
    text = client.get(f"/work/c/{complaint.reference}/").content.decode()
    assert "监管与热线" in text and "需要复核" in text


def test_duplicates_are_offered_and_merge(client, people, receive_public) -> None:
    first = receive_public(description="快递三天没到，客服一直不回复，订单JD123").complaint
    second = receive_public(description="快递三天了还没到，客服也不回复，订单JD123").complaint
    unrelated = receive_public(description="发票抬头开错了，请重新开").complaint
    client.force_login(people["li"])
    text = client.get(f"/work/c/{second.reference}/").content.decode()
    assert 'data-testid="duplicates"' in text
    assert first.reference in text.split('data-testid="duplicates"')[1].split("</ul>")[0]
    assert unrelated.reference not in text.split('data-testid="duplicates"')[1].split("</ul>")[0]
    response = client.post(f"/work/c/{second.reference}/do/merge/", {"target": first.reference})
    assert response.status_code in (200, 302)
    second.refresh_from_db()
    assert second.closure == "duplicate" and second.merged_into_id == first.pk


def test_a_different_customers_similar_text_is_not_a_duplicate(
    client, people, receive_public
) -> None:
    receive_public(description="快递三天没到，客服一直不回复")
    other = receive_public(description="快递三天没到，客服一直不回复", email="b@example.com")
    client.force_login(people["li"])
    text = client.get(f"/work/c/{other.complaint.reference}/").content.decode()
    assert 'data-testid="duplicates"' not in text


def test_queue_filters_by_flag(client, people, receive_public) -> None:
    risky = receive_public(description="我要找律师起诉你们").complaint
    calm = receive_public(description="请帮我查一下物流", email="c@example.com").complaint
    client.force_login(people["li"])
    text = client.get("/work/", {"queue": "all", "flag": "legal"}).content.decode()
    assert risky.reference in text and calm.reference not in text
    assert "需要复核" in client.get("/work/", {"queue": "review"}).content.decode()


def test_api_detail_has_triage_and_the_taxonomy_is_listed(api, receive_public) -> None:
    complaint = receive_public(description="孩子用了以后过敏，送去急诊").complaint
    body = api("li").get(f"/api/complaints/{complaint.reference}").json()
    assert body["flags"] == ["safety"] and body["grade"] == "B"
    assert body["triage"]["headline"].startswith("Grade B because:")
    rule = next(r for r in body["triage"]["reasons"] if r["kind"] == "rule")
    assert rule["flag"] == "safety" and rule["text"].startswith("Rule “")
    taxonomy = api("li").get("/api/taxonomy").json()
    natures = {n["code"]: n for n in taxonomy}
    assert set(natures) == {
        "product_quality", "service", "policy_process", "expectation_gap",
        "customer_misunderstanding", "fraud",
    }  # fmt: skip
    assert "quality_defect" in {c["code"] for c in natures["product_quality"]["categories"]}
    assert api(None).get("/api/taxonomy").status_code == 401


def test_classify_through_the_api_checks_the_taxonomy(api, receive_public) -> None:
    complaint = receive_public().complaint
    url = f"/api/complaints/{complaint.reference}/actions/classify"
    bad = api("wang").post(url, {"category": "nope"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "category"
    mismatch = api("wang").post(url, {"category": "wrong_item", "nature": "service"})
    assert mismatch.status_code == 422 and mismatch.json()["errors"][0]["field"] == "nature"
    ok = api("wang").post(url, {"category": "wrong_item"})
    assert ok.status_code == 200, ok.content
    complaint.refresh_from_db()
    assert (complaint.nature, complaint.category_confirmed) == ("product_quality", True)


def test_admin_edits_the_taxonomy_and_rules(client, people, receive_public) -> None:
    admin = people["admin"]
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client.force_login(admin)
    for path in ("category", "rule", "scoring", "classifiermodel"):
        assert client.get(f"/admin/triage/{path}/").status_code == 200, path
    nature = Category.objects.get(code="service")
    response = client.post(
        "/admin/triage/category/add/",
        {"code": "queue_jumping", "parent": nature.pk, "name_zh": "插队",
         "name_en": "Queue jumping", "points": 0, "position": 90, "is_active": "on"},
    )  # fmt: skip
    assert response.status_code == 302
    response = client.post(
        "/admin/triage/rule/add/",
        {"name": "插队", "keywords": "插队\n加塞", "position": 5, "is_active": "on",
         "category": Category.objects.get(code="queue_jumping").pk,
         "flag": "", "grade_floor": "", "pattern": ""},
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Rule.objects.filter(name="插队").exists()
    # A category in use cannot be deleted (deactivate it instead); an unused one can.
    receive_public(description="商家发错货了")  # the seeded rule files it under wrong_item
    used = Category.objects.get(code="wrong_item")
    assert client.get(f"/admin/triage/category/{used.pk}/delete/").status_code == 403
    unused = Category.objects.get(code="queue_jumping")
    Rule.objects.filter(name="插队").delete()
    assert client.get(f"/admin/triage/category/{unused.pk}/delete/").status_code == 200
