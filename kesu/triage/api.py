"""Triage's endpoints: the taxonomy an integrator classifies with."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from kesu.api_support import BearerAuth
from kesu.triage.selectors import taxonomy

router = Router(tags=["triage"])


class CategoryOut(Schema):
    code: str
    name_zh: str
    name_en: str


class NatureOut(CategoryOut):
    categories: list[CategoryOut]


@router.get(
    "/taxonomy",
    auth=BearerAuth(),
    response=list[NatureOut],
    summary="Natures and their categories, by code (for classify and staff intake)",
)
def list_taxonomy(request: HttpRequest) -> list[dict[str, Any]]:
    nodes = [n for n in taxonomy().nodes.values() if n.is_active]
    return [
        {
            "code": nature.code,
            "name_zh": nature.name_zh,
            "name_en": nature.name_en,
            "categories": [
                {"code": c.code, "name_zh": c.name_zh, "name_en": c.name_en}
                for c in nodes
                if c.parent == nature.code
            ],
        }
        for nature in nodes
        if not nature.parent
    ]
