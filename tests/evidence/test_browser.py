"""Issue 10, item 12: the browser that renders pages from the web never runs as root, and runs
in Chromium's sandbox where the host allows it.

The tests start the real browser and read what the kernel says about its processes in /proc:
their user ids, their user namespace and their seccomp mode.
"""

import os
from pathlib import Path

import pytest

from evidence import browser
from evidence.screenshot import render_screenshot

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(browser.CHROMIUM).exists(),
        reason="Debian's chromium is not installed (apt-get install chromium)",
    ),
]


def _inspect(pid: int) -> dict[str, str] | None:
    """/proc/<pid>/status as a dict, plus "userns" (its own user namespace: "yes"/"no") and
    "environ"; None if the process is gone (Chromium starts and ends helpers as it goes)."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
        userns = os.readlink(f"/proc/{pid}/ns/user") != os.readlink("/proc/self/ns/user")
        environ = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return None
    status = dict(line.split(":\t", 1) for line in lines if ":\t" in line)
    return {**status, "userns": "yes" if userns else "no", "environ": environ.decode("latin-1")}


def _chromium_processes() -> list[int]:
    """Our descendants running Chromium: the browser, its zygotes, renderers and helpers."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    ours, frontier = set(), {os.getpid()}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - ours
        ours |= frontier
    found = []
    for pid in ours:
        try:
            if os.readlink(f"/proc/{pid}/exe").startswith("/usr/lib/chromium/"):
                found.append(pid)
        except OSError:
            continue
    return found


def _render_and_inspect() -> tuple[browser.Isolation, dict[int, dict[str, str]]]:
    with browser.isolated_context(timeout_ms=20_000) as session:
        page = session.context.new_page()
        page.set_content("<p>Справка</p><script>document.title = 'rendered'</script>")
        assert page.title() == "rendered"
        processes = {pid: _inspect(pid) for pid in _chromium_processes()}
        return session.isolation, {pid: info for pid, info in processes.items() if info}


def test_item12_the_renderer_is_not_uid_0_when_the_worker_is_and_is_sandboxed():
    isolation, processes = _render_and_inspect()
    assert processes, "no Chromium process found"
    for status in processes.values():
        real, effective, _, _ = (int(uid) for uid in status["Uid"].split())
        if os.geteuid() == 0:
            assert real != 0 and effective != 0, status["Uid"]
            assert status["Groups"].strip() == ""  # no supplementary groups kept from root
        assert (real, effective) == (isolation.uid, isolation.uid)
    if os.geteuid() == 0:
        assert isolation.switched and isolation.user in ("casefile-render", "nobody")
    # This host allows user namespaces: the renderers run in their own, under seccomp.
    assert browser.sandbox_unavailable(isolation.uid, isolation.gid, isolation.switched) == ""
    assert isolation.sandbox
    sandboxed = [pid for pid, status in processes.items() if status["userns"] == "yes"]
    assert sandboxed, "no Chromium process in a user namespace of its own"
    # The zygotes set up the namespaces; the renderers they fork run under a seccomp filter.
    assert any(processes[pid]["Seccomp"].strip() == "2" for pid in sandboxed)
    assert (
        isolation.describe()
        == f"Chromium as {isolation.user} (uid {isolation.uid}), in its sandbox"
    )


def test_item12_without_user_namespaces_it_runs_unsandboxed_still_unprivileged_and_says_so(
    monkeypatch,
):
    monkeypatch.setattr(
        browser, "sandbox_unavailable", lambda *args: "user namespaces are not available (test)"
    )
    isolation, processes = _render_and_inspect()
    assert not isolation.sandbox
    assert isolation.describe().endswith(
        "without its sandbox: user namespaces are not available (test)"
    )
    assert processes and all(status["userns"] == "no" for status in processes.values())
    for status in processes.values():
        assert status["Uid"].split()[:2] == [str(isolation.uid)] * 2
        if os.geteuid() == 0:
            assert isolation.uid != 0


def test_item12_the_screenshot_says_who_rendered_it():
    rendered = render_screenshot(
        url="https://example.test/", body=b"<p>hi</p>", content_type="text/html"
    )
    assert rendered is not None and rendered.png.startswith(b"\x89PNG")
    assert rendered.renderer == browser.isolation().describe()
    assert "in its sandbox" in rendered.renderer


def test_item12_the_browser_gets_none_of_the_workers_environment(monkeypatch):
    monkeypatch.setenv("CASEFILE_TEST_SECRET", "s3cr3t")
    _, processes = _render_and_inspect()
    assert processes
    for status in processes.values():
        assert "CASEFILE_TEST_SECRET" not in status["environ"]
        assert "DATABASE_URL" not in status["environ"]
