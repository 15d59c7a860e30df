"""Every label points at its input, and every input has a label, on every page a member opens
(the URL walk of tests/url_world.py) and on forms shown back with errors."""

import pytest
from django.test import Client
from selectolax.lexbor import LexborHTMLParser

from tests.url_world import build_realistic_world, html_pages

LABELABLE = {"input", "select", "textarea", "button", "meter", "output", "progress"}
UNLABELLED_TYPES = {"hidden", "submit", "button", "reset", "image"}


def label_problems(html: str) -> list[str]:
    tree = LexborHTMLParser(html)
    ids = {node.attributes.get("id"): node for node in tree.css("[id]")}
    problems = []
    labelled = set()
    for label in tree.css("label"):
        target = label.attributes.get("for")
        if target is None:
            inner = label.css_first("input, select, textarea")
            if inner is None:
                problems.append(f"<label> without for= or a control inside: {label.text()!r}")
            continue
        node = ids.get(target)
        if not target or node is None:
            problems.append(f"<label for={target!r}> ({label.text().strip()!r}): no such id")
        elif node.tag not in LABELABLE or node.attributes.get("type") == "hidden":
            problems.append(f"<label for={target!r}> points at a <{node.tag}>, not a control")
        labelled.add(target)
    for control in tree.css("input, select, textarea"):
        attrs = control.attributes
        if control.tag == "input" and attrs.get("type") in UNLABELLED_TYPES:
            continue
        if attrs.get("aria-label") or attrs.get("aria-labelledby") or attrs.get("id") in labelled:
            continue
        parent, wrapped = control.parent, False
        while parent is not None and not wrapped:
            wrapped, parent = parent.tag == "label", parent.parent
        if not wrapped:
            problems.append(f"<{control.tag} name={attrs.get('name')!r}> has no label")
    return problems


@pytest.fixture
def realistic(db):
    return build_realistic_world()


def test_every_label_points_at_its_input_on_every_page(realistic):
    client = Client()
    client.force_login(realistic.alice)
    checked, problems = 0, {}
    for name, url in html_pages(realistic):
        response = client.get(url)
        if response.status_code != 200 or "text/html" not in response["Content-Type"]:
            continue
        checked += 1
        found = label_problems(response.text)
        if found:
            problems[f"{name} ({url})"] = found
    assert checked > 40
    assert problems == {}


def test_forms_shown_back_with_errors_keep_their_labels(realistic):
    client = Client()
    client.force_login(realistic.alice)
    case = f"/cases/{realistic.case.public_id}"
    entity = client.post(
        f"{case}/entities/new/",
        {
            "schema": "Company",
            "name": "",
            "start_date": "2022-13",
            "identifier_scheme": ["kz_bin", "ru_inn"],
            "identifier_value": ["940140000386", "1"],
        },
    )
    assert "Month 13 does not exist" in entity.text
    assert entity.text.count('class="field-error" id="id_identifier_error_') == 2
    snapshot = client.post(f"{case}/snapshots/", {"form": "snapshot", "url": "http://10.0.0.1/"})
    assert "This address cannot be captured" in snapshot.text
    for response in (entity, snapshot):
        assert label_problems(response.text) == []


def test_the_check_can_fail():
    assert label_problems('<label for="x">X</label><input id="y" name="y">') == [
        "<label for='x'> ('X'): no such id",
        "<input name='y'> has no label",
    ]
