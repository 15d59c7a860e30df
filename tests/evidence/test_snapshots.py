"""Snapshots: the capture service against a real loopback server, refusals, idempotence,
watches and diffs, the WACZ export; and the whole path through a real Celery worker."""

import hashlib
import io
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.db import transaction
from django.urls import reverse
from selectolax.lexbor import LexborHTMLParser
from warcio.archiveiterator import ArchiveIterator

from entities.services import Scope, entity_create
from evidence import services
from evidence.models import Snapshot, Watch
from evidence.ssrf import Refused
from investigations import jobs
from investigations.errors import DomainError

WARCIO = str(Path(sys.executable).parent / "warcio")


def _run(snapshot: Snapshot) -> Snapshot:
    """What the capture task does, in-process (retries aside)."""
    from evidence.fetch import FetchError

    claimed = jobs.job_claim(Snapshot, snapshot.pk, task_id="test")
    try:
        services.snapshot_capture(snapshot=claimed)
    except (FetchError, Refused) as exc:
        jobs.job_fail(claimed, task_id="test", reason=exc.reason)
    else:
        jobs.job_finish(claimed, task_id="test")
    snapshot.refresh_from_db()
    return snapshot


@pytest.fixture(autouse=True)
def no_screenshots(settings):
    settings.SNAPSHOT_SCREENSHOTS = False  # the browser-specific test turns them on


def test_capture_writes_a_valid_warc_with_every_hop(case, alice, web):
    snapshot = services.snapshot_request(
        investigation=case, url=web.url("/redirect/1"), actor=alice
    )
    snapshot = _run(snapshot)
    assert snapshot.status == "done", snapshot.error
    assert snapshot.http_status == 200
    assert snapshot.final_url == web.url("/company")
    assert snapshot.peer_ip == "127.0.0.1"
    assert "Степ Агро Трейд" in snapshot.title and "Олена Коваленко" in snapshot.text
    path = default_storage.path(snapshot.warc_file)
    assert hashlib.sha256(Path(path).read_bytes()).hexdigest() == snapshot.warc_sha256
    assert subprocess.run([WARCIO, "check", path], capture_output=True).returncode == 0
    with open(path, "rb") as fh:
        records = [
            (r.rec_type, r.rec_headers.get_header("WARC-Target-URI")) for r in ArchiveIterator(fh)
        ]
    responses = [uri for kind, uri in records if kind == "response"]
    assert responses == [web.url(f"/redirect/{n}") for n in (1, 2, 3)] + [web.url("/company")]
    assert [kind for kind, _ in records].count("request") == 4
    assert records[-1][0] == "metadata"


def test_same_capture_twice_keeps_one_warc(case, alice, web):
    snapshot = _run(
        services.snapshot_request(investigation=case, url=web.url("/company"), actor=alice)
    )
    first = snapshot.warc_file
    # A second delivery of the same job finds it done and does nothing.
    assert jobs.job_claim(Snapshot, snapshot.pk, task_id="again") is None
    # A re-run after a crash (the row still running) replaces its own file, adds none.
    Snapshot.objects.filter(pk=snapshot.pk).update(status="running", claimed_by="crashed")
    services.snapshot_capture(snapshot=Snapshot.objects.get(pk=snapshot.pk))
    snapshot.refresh_from_db()
    assert snapshot.warc_file == first
    folder = Path(default_storage.path(first)).parent
    assert len(list(folder.glob(f"{snapshot.public_id}*.warc.gz"))) == 1


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://2130706433/", "loopback"),
        ("http://[::ffff:127.0.0.1]/", "loopback"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("file:///etc/passwd", "only http and https"),
        ("http://user:secret@example.org/", "user names or passwords"),
    ],
)
def test_refused_urls_are_an_error_on_the_url_and_leave_no_row(
    case, alice, url, reason, no_network
):
    with pytest.raises(DomainError) as refused:
        services.snapshot_request(investigation=case, url=url, actor=alice)
    assert refused.value.field == "url"
    assert reason in refused.value.message
    assert not Snapshot.objects.exists()


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"),
        ("ftp://example.org/file", "only http and https URLs can be captured"),
        ("https://user:secret@example.org/", "URLs with user names or passwords are not captured"),
        ("http://10.0.0.7/", "10.0.0.7 is a private address"),
    ],
)
def test_the_snapshot_form_shows_a_refused_url_on_the_spot(
    case, alice_client, url, reason, no_network
):
    entity = entity_create(scope=Scope(investigation=case), name="Step Agro Trade")
    response = alice_client.post(
        reverse("evidence:snapshots", kwargs={"case_id": case.public_id}),
        {"form": "snapshot", "url": url, "entity": entity.public_id},
    )
    assert response.status_code == 200  # the form again, not a redirect to a failed snapshot
    page = LexborHTMLParser(response.text)
    error = page.css_first("#id_url_error").text()
    assert error == f"This address cannot be captured: {reason}."
    assert page.css_first("#id_url").attributes["value"] == url  # nothing typed is lost
    assert page.css_first("input[name=entity]").attributes["value"] == str(entity.public_id)
    assert not Snapshot.objects.exists()
    assert "queued" not in response.text.lower()


def test_a_failed_capture_shows_its_reason_and_can_be_tried_again(
    case, alice_client, bob_client, web, django_capture_on_commit_callbacks
):
    from investigations.models import Membership

    snapshot = _run(
        services.snapshot_request(investigation=case, url=web.url("/to-metadata"), actor=None)
    )
    assert snapshot.status == "failed"
    url = reverse(
        "evidence:snapshot", kwargs={"case_id": case.public_id, "snapshot_id": snapshot.public_id}
    )
    retry = reverse(
        "evidence:snapshot-retry",
        kwargs={"case_id": case.public_id, "snapshot_id": snapshot.public_id},
    )
    page = LexborHTMLParser(alice_client.get(url).text)
    failure = page.css_first(".failure").text(separator=" ")
    assert "Not captured." in failure and "169.254.169.254" in failure
    assert page.css_first(f'form[action="{retry}"] button').text().strip() == "Try again"
    assert "queued" not in alice_client.get(url).text.lower()

    # A viewer may not; a reporter may, and the same row is queued again with fresh attempts.
    Membership.objects.filter(investigation=case, user__username="bob").update(role="viewer")
    assert bob_client.post(retry).status_code == 403
    with django_capture_on_commit_callbacks(execute=True):  # the message goes out (no worker)
        assert alice_client.post(retry).status_code == 302
    snapshot.refresh_from_db()
    assert (snapshot.status, snapshot.attempts, snapshot.error) == ("pending", 0, "")
    assert snapshot.sent_at is not None
    assert Snapshot.objects.count() == 1
    page = alice_client.get(url).text
    assert "Waiting for a worker" in page and "Try again" not in page
    # Only a failed capture can be tried again.
    response = alice_client.post(retry, follow=True)
    assert "Only a failed capture can be tried again" in response.text


def test_redirect_to_the_metadata_address_fails_with_the_reason(case, alice, web):
    snapshot = _run(
        services.snapshot_request(investigation=case, url=web.url("/to-metadata"), actor=alice)
    )
    assert snapshot.status == "failed"
    assert "169.254.169.254" in snapshot.error
    assert not snapshot.warc_file


def test_404_is_kept_as_evidence_and_pdf_is_captured(case, alice, web):
    missing = _run(
        services.snapshot_request(investigation=case, url=web.url("/missing"), actor=alice)
    )
    assert (missing.status, missing.http_status) == ("done", 404)
    pdf = _run(
        services.snapshot_request(investigation=case, url=web.url("/report.pdf"), actor=alice)
    )
    assert pdf.status == "done" and pdf.content_type == "application/pdf"


def test_snapshot_page_shows_hashes_and_form_refuses_with_reason(case, alice, alice_client, web):
    snapshot = _run(
        services.snapshot_request(investigation=case, url=web.url("/company"), actor=alice)
    )
    url = reverse(
        "evidence:snapshot", kwargs={"case_id": case.public_id, "snapshot_id": snapshot.public_id}
    )
    text = alice_client.get(url).content.decode()
    assert snapshot.warc_sha256 in text and snapshot.body_sha256 in text
    response = alice_client.post(
        reverse("evidence:snapshots", kwargs={"case_id": case.public_id}),
        {"form": "snapshot", "url": "http://0xa9fea9fe/latest/"},
    )
    assert "This address cannot be captured" in response.text
    assert "169.254.169.254" in response.text


def test_watch_keeps_a_snapshot_only_when_the_page_changes_and_diffs(
    case, alice, alice_client, web
):
    pages = iter(
        [
            b"<html><title>Price list</title><p>Chips: 10 USD</p></html>",
            b"<html><title>Price list</title><p>Chips: 10 USD</p></html>",
            b"<html><title>Price list</title><p>Chips: 14 USD</p><p>Drones</p></html>",
        ]
    )
    current = {"body": next(pages)}
    web.route(
        "/prices",
        lambda request: request.respond(
            200, [("Content-Type", "text/html; charset=utf-8")], current["body"]
        ),
    )
    watch = services.watch_create(
        investigation=case, url=web.url("/prices"), frequency="daily", actor=alice
    )
    for body in [None, *pages]:
        if body is not None:
            current["body"] = body
        claimed = jobs.job_claim(Watch, watch.pk, task_id=f"check-{body!r:.8}")
        services.watch_check(watch=claimed, task_id=claimed.claimed_by)
        jobs.job_finish(claimed, task_id=claimed.claimed_by)
        Watch.objects.filter(pk=watch.pk).update(status="pending")
    watch.refresh_from_db()
    assert (watch.checks, watch.changes_seen) == (3, 2)
    first, second = Snapshot.objects.filter(watch=watch).order_by("captured_at")
    diff = alice_client.get(
        reverse(
            "evidence:snapshot-diff",
            kwargs={"case_id": case.public_id, "snapshot_id": second.public_id},
        ),
        {"against": first.public_id},
    ).content.decode()
    assert "-Chips: 10 USD" in diff and "+Chips: 14 USD" in diff and "+Drones" in diff


def test_wacz_export_of_the_case(case, alice, alice_client, web):
    _run(services.snapshot_request(investigation=case, url=web.url("/company"), actor=alice))
    _run(services.snapshot_request(investigation=case, url=web.url("/report.pdf"), actor=alice))
    response = alice_client.get(
        reverse("evidence:snapshots-wacz", kwargs={"case_id": case.public_id})
    )
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    names = archive.namelist()
    assert "datapackage.json" in names and "pages/pages.jsonl" in names
    assert len([n for n in names if n.startswith("archive/")]) == 2


def test_trusted_timestamp_of_the_warc_hash(case, alice, web, local_tsa, settings):
    from evidence.tsa import verify_token

    settings.TSA_URL = local_tsa.url()
    snapshot = _run(
        services.snapshot_request(investigation=case, url=web.url("/company"), actor=alice)
    )
    assert snapshot.timestamp_at is not None, snapshot.timestamp_error
    assert verify_token(
        bytes(snapshot.timestamp_token),
        sha256_hex=snapshot.warc_sha256,
        ca_cert_pem_path=local_tsa.ca_cert,
    )


@pytest.mark.browser
def test_screenshot_is_taken_from_the_capture(case, alice, web, settings):
    from evidence.screenshot import screenshots_available

    if not screenshots_available():
        pytest.skip("chromium is not installed")
    settings.SNAPSHOT_SCREENSHOTS = True
    snapshot = _run(
        services.snapshot_request(investigation=case, url=web.url("/company"), actor=alice)
    )
    png = default_storage.open(snapshot.screenshot_file).read()
    assert png.startswith(b"\x89PNG")
    assert hashlib.sha256(png).hexdigest() == snapshot.screenshot_sha256
    # Who rendered it is recorded with it (evidence/browser.py): never root, sandboxed here.
    assert snapshot.screenshot_renderer.startswith("Chromium as ")
    assert "(uid 0)" not in snapshot.screenshot_renderer
    # Rendered from the capture: the server saw exactly one request for the page.
    assert [r.path for r in web.requests].count("/company") == 1


@pytest.mark.worker
def test_capture_through_a_real_worker(celery_worker, case, alice, web, alice_client):
    response = alice_client.post(
        reverse("evidence:snapshots", kwargs={"case_id": case.public_id}),
        {"form": "snapshot", "url": web.url("/redirect/1")},
    )
    snapshot = Snapshot.objects.get()
    assert response["Location"].endswith(f"/snapshots/{snapshot.public_id}/")
    done = celery_worker.wait_for(
        lambda: Snapshot.objects.filter(pk=snapshot.pk, status__in=["done", "failed"]).first(),
        timeout=60,
    )
    assert done.status == "done", done.error
    assert done.warc_sha256 and done.final_url == web.url("/company")


@pytest.mark.worker
def test_worker_records_a_refused_redirect_hop(celery_worker, case, alice, web):
    # The worker allows only 127.0.0.1: the hop to 127.0.0.2 is refused at connect time.
    with transaction.atomic():
        snapshot = services.snapshot_request(
            investigation=case, url=web.url("/to-loopback"), actor=alice
        )
    failed = celery_worker.wait_for(
        lambda: Snapshot.objects.filter(pk=snapshot.pk, status="failed").first(), timeout=60
    )
    assert "127.0.0.2" in failed.error


def test_capture_command_prints_hashes_and_fails_loudly(case, web):
    import json

    from django.core.management import CommandError, call_command

    out = io.StringIO()
    call_command("capture", web.url("/company"), "--case", case.slug, "--json", stdout=out)
    result = json.loads(out.getvalue())
    snapshot = Snapshot.objects.get(public_id=result["snapshot"])
    assert result["status"] == "done" and result["http_status"] == 200
    assert result["warc_sha256"] == snapshot.warc_sha256 and result["body_sha256"]
    out = io.StringIO()
    call_command("capture", web.url("/company"), "--case", str(case.public_id), stdout=out)
    assert "warc_sha256" in out.getvalue()
    out = io.StringIO()
    with pytest.raises(CommandError, match=r"capture failed: .* is a link-local address"):
        call_command("capture", "http://169.254.169.254/", "--case", case.slug, stdout=out)
    with pytest.raises(CommandError, match="No case file"):
        call_command("capture", web.url("/company"), "--case", "nope")


def test_capture_tied_to_an_entity_and_citations_of_a_shipment(case, alice, alice_client, web):
    from entities.services import Scope, entity_create, shipment_create
    from evidence.models import Citation

    company = entity_create(scope=Scope(investigation=case), name="Step Agro Trade")
    page = alice_client.get(
        reverse(
            "entities:detail", kwargs={"case_id": case.public_id, "entity_id": company.public_id}
        )
    ).content.decode()
    assert "Capture a web page about this company" in page
    alice_client.post(
        reverse("evidence:snapshots", kwargs={"case_id": case.public_id}),
        {"form": "snapshot", "url": web.url("/company"), "entity": company.public_id},
    )
    snapshot = _run(Snapshot.objects.get())
    assert snapshot.entity == company and snapshot.status == "done"
    shipment = shipment_create(
        scope=Scope(investigation=case), date="2022-05-01", hs_code="1001", exporter=company
    )
    panel = alice_client.get(
        reverse(
            "evidence:citation-panel",
            kwargs={
                "case_id": case.public_id,
                "claim_kind": "shipment",
                "claim_id": shipment.public_id,
            },
        )
    )
    assert f"snapshot:{snapshot.public_id}" in panel.content.decode()
    alice_client.post(
        reverse(
            "evidence:cite",
            kwargs={
                "case_id": case.public_id,
                "claim_kind": "shipment",
                "claim_id": shipment.public_id,
            },
        ),
        {"evidence": f"snapshot:{snapshot.public_id}", "quote": "Export since 2014"},
    )
    assert Citation.objects.get().shipment == shipment


def _snapshot_page(client, snapshot) -> str:
    url = reverse(
        "evidence:snapshot",
        kwargs={"case_id": snapshot.investigation.public_id, "snapshot_id": snapshot.public_id},
    )
    return client.get(url).content.decode()


@pytest.mark.worker
def test_item9_capture_while_redis_is_down_waits_for_the_queue_then_the_sweeper_sends_it(
    celery_worker, case, alice_client, web
):
    """It said "queued" while the message was never sent, and waited 31 minutes for the
    sweeper; now the row knows it was not sent, says so, and the next sweep sends it."""
    import time

    from tests.conftest import DEAD_BROKER, broker_at

    with broker_at(DEAD_BROKER):
        started = time.monotonic()
        response = alice_client.post(
            reverse("evidence:snapshots", kwargs={"case_id": case.public_id}),
            {"form": "snapshot", "url": web.url("/company")},
            follow=True,
        )
        elapsed = time.monotonic() - started
    assert elapsed < 2, elapsed  # a dead broker costs a request well under two seconds
    snapshot = Snapshot.objects.get()
    assert (snapshot.status, snapshot.sent_at) == (jobs.JobStatus.PENDING, None)
    page = response.content.decode()
    assert "waiting for the queue" in page.lower() and "Capture queued" not in page
    assert "Waiting for the queue" in _snapshot_page(alice_client, snapshot)
    time.sleep(1)
    assert Snapshot.objects.get().status == jobs.JobStatus.PENDING  # nobody got a message

    # Redis is back: beat's next sweep (every minute) sends it, not the one after 31 minutes.
    assert jobs.jobs_sweep() == 1
    assert Snapshot.objects.get().sent_at is not None
    done = celery_worker.wait_for(
        lambda: Snapshot.objects.filter(pk=snapshot.pk, status__in=["done", "failed"]).first(),
        timeout=60,
    )
    assert done.status == "done", done.error
    assert jobs.jobs_sweep() == 0


def test_item9_a_hung_broker_costs_a_request_about_two_seconds(
    case, alice, hung_broker, django_capture_on_commit_callbacks
):
    """A Redis that accepts connections and never answers held the request for good."""
    import signal
    import time

    def still_waiting(signum, frame):
        raise TimeoutError("still waiting for the broker after 10 s")

    previous = signal.signal(signal.SIGALRM, still_waiting)
    signal.alarm(10)
    try:
        started = time.monotonic()
        with django_capture_on_commit_callbacks(execute=True):
            snapshot = services.snapshot_request(
                investigation=case, url="https://example.org/", actor=alice
            )
        elapsed = time.monotonic() - started
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert elapsed < 3, elapsed
    assert (snapshot.status, snapshot.sent_at) == (jobs.JobStatus.PENDING, None)


@pytest.mark.worker
def test_item8_capture_command_beside_a_worker_on_the_same_queue(celery_worker, case, web):
    """The command enqueued the job and ran it too: when the worker claimed it first, the
    command crashed (AttributeError), 3 runs in 6. Now it runs the capture once, itself."""
    import json

    from django.core.management import call_command

    for run in range(6):
        out = io.StringIO()
        call_command("capture", web.url("/company"), "--case", case.slug, "--json", stdout=out)
        result = json.loads(out.getvalue())
        assert result["status"] == "done", (run, result)
        snapshot = Snapshot.objects.get(public_id=result["snapshot"])
        assert (snapshot.status, snapshot.attempts) == ("done", 1)
        assert snapshot.warc_file == result["warc"] and result["warc_sha256"]
    folder = f"snapshots/{case.public_id}"
    warcs = [n for n in default_storage.listdir(folder)[1] if n.endswith(".warc.gz")]
    assert len(warcs) == Snapshot.objects.count() == 6  # one WARC per capture, none twice
    assert [r.path for r in web.requests].count("/company") == 6
    assert "Task evidence.capture_snapshot[" not in celery_worker.output()  # never sent to it
