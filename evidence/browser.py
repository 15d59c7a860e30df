"""Chromium for pages from the web, isolated from the worker that starts it.

Everything Casefile renders comes from someone else's server, scripts included. isolated_context()
starts Debian's chromium through Playwright with a fresh profile and yields a Playwright
BrowserContext; callers add their own network rules (evidence/screenshot.py). Around it:

- Chromium never runs as root. A worker running as root starts it through a small wrapper that
  execs `setpriv` (util-linux) to the user BROWSER_USER (casefile-render, created by the setup;
  else nobody), with no supplementary groups, no inheritable capabilities and no_new_privs.
  setpriv keeps the pipe Playwright talks over (file descriptors 3 and 4), where runuser or su
  might not. The profile directory, which is also HOME, belongs to that user.
- Chromium's own sandbox (a user namespace per renderer, and seccomp) is on where the host
  allows it: unprivileged user namespaces must work for that user, which is checked once per
  process (`unshare --user --pid --net`) and then by the launch itself. Where they do not, the
  browser runs without its sandbox, and says so: Isolation.describe() is logged and stored
  with each screenshot.
- The browser gets a minimal environment, never the worker's (database URL, keys).
"""

import contextlib
import functools
import logging
import os
import pwd
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext

logger = logging.getLogger(__name__)

CHROMIUM = "/usr/bin/chromium"
SETPRIV = "/usr/bin/setpriv"
FALLBACK_USER = "nobody"


class BrowserUnavailable(Exception):
    """The browser cannot be started safely here; the reason says what the setup lacks."""


@dataclass(frozen=True)
class Isolation:
    """Who the browser runs as, and whether in its sandbox."""

    user: str
    uid: int
    gid: int
    switched: bool  # started through setpriv, from root
    sandbox: bool
    no_sandbox_reason: str = ""

    def describe(self) -> str:
        who = f"Chromium as {self.user} (uid {self.uid})"
        if self.sandbox:
            return f"{who}, in its sandbox"
        return f"{who}, without its sandbox: {self.no_sandbox_reason}"


@dataclass
class Session:
    context: "BrowserContext"
    isolation: Isolation
    profile: Path


def render_user() -> tuple[str, int, int, bool]:
    """(name, uid, gid, switched): who the browser runs as. From root, BROWSER_USER or
    nobody; otherwise the worker's own user, as it is not privileged."""
    from django.conf import settings

    if os.geteuid() != 0:
        return pwd.getpwuid(os.geteuid()).pw_name, os.geteuid(), os.getegid(), False
    for name in dict.fromkeys((settings.BROWSER_USER, FALLBACK_USER)):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        if entry.pw_uid != 0:
            return name, entry.pw_uid, entry.pw_gid, True
    raise BrowserUnavailable(
        f"the worker runs as root and neither {settings.BROWSER_USER} nor {FALLBACK_USER} "
        f"exists to run the browser as (useradd --system {settings.BROWSER_USER})"
    )


def _setpriv(uid: int, gid: int) -> list[str]:
    return [
        SETPRIV,
        f"--reuid={uid}",
        f"--regid={gid}",
        "--clear-groups",
        "--inh-caps=-all",
        "--no-new-privs",
        "--",
    ]


@functools.cache
def sandbox_unavailable(uid: int, gid: int, switched: bool) -> str:
    """Why Chromium's sandbox cannot start for this user here; "" if it can."""
    for knob, name in (
        ("/proc/sys/kernel/unprivileged_userns_clone", "kernel.unprivileged_userns_clone"),
        ("/proc/sys/user/max_user_namespaces", "user.max_user_namespaces"),
    ):
        with contextlib.suppress(OSError):
            if Path(knob).read_text().strip() == "0":
                return f"unprivileged user namespaces are off ({name} = 0)"
    unshare = shutil.which("unshare") or "/usr/bin/unshare"
    command = [unshare, "--user", "--pid", "--net", "--fork", "true"]
    if switched:
        command = _setpriv(uid, gid) + command
    try:
        result = subprocess.run(
            command, capture_output=True, timeout=10, env={"PATH": "/usr/bin:/bin"}, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"user namespaces could not be tried ({exc})"
    if result.returncode != 0:
        error = result.stderr.decode(errors="replace").strip().splitlines()
        return f"user namespaces are not available ({error[-1] if error else 'unshare failed'})"
    return ""


# Sandboxed launches that failed, per process: the next launches go without the sandbox.
_sandbox_failed: dict[int, str] = {}


def isolation() -> Isolation:
    """How the next browser will run; logged with each launch."""
    user, uid, gid, switched = render_user()
    reason = _sandbox_failed.get(uid) or sandbox_unavailable(uid, gid, switched)
    return Isolation(user, uid, gid, switched, sandbox=not reason, no_sandbox_reason=reason)


def _wrapper(directory: Path, executable: str, isolated: Isolation) -> str:
    """The executable Playwright starts: Chromium itself, or setpriv in front of it."""
    if not isolated.switched:
        return executable
    if not os.access(SETPRIV, os.X_OK):
        raise BrowserUnavailable(
            "the worker runs as root and setpriv (util-linux) is missing to drop privileges"
        )
    script = directory / "chromium"
    argv = shlex.join([*_setpriv(isolated.uid, isolated.gid), executable])
    script.write_text(f'#!/bin/sh\nexec {argv} "$@"\n')
    script.chmod(0o700)
    return str(script)


@contextlib.contextmanager
def isolated_context(
    *,
    timeout_ms: float,
    executable: str = CHROMIUM,
    args: tuple[str, ...] = (),
    **context_options: Any,
) -> Iterator[Session]:
    """A browser with a fresh profile in a temporary directory, closed and deleted afterwards.

    context_options go to Playwright's launch_persistent_context (viewport, service_workers,
    ...). Raises BrowserUnavailable when the setup cannot run it unprivileged, and
    Playwright's Error when it does not start.
    """
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    isolated = isolation()
    with (
        tempfile.TemporaryDirectory(prefix="casefile-chromium-") as workdir,
        sync_playwright() as playwright,
    ):
        root = Path(workdir)
        root.chmod(0o711)  # the browser's user reaches its profile, and nothing else here
        profile = root / "profile"
        profile.mkdir(mode=0o700)
        os.chown(profile, isolated.uid, isolated.gid)
        launch = functools.partial(
            playwright.chromium.launch_persistent_context,
            str(profile),
            executable_path=_wrapper(root, executable, isolated),
            headless=True,
            args=list(args),
            env={"HOME": str(profile), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
            timeout=timeout_ms,
            **context_options,
        )
        try:
            context = launch(chromium_sandbox=isolated.sandbox)
        except PlaywrightError as exc:
            if not isolated.sandbox or "sandbox" not in str(exc).lower():
                raise
            reason = f"it failed to start in it ({str(exc).strip().splitlines()[0][:200]})"
            _sandbox_failed[isolated.uid] = reason
            isolated = isolation()
            logger.warning("browser: sandboxed launch failed, without it from now: %s", reason)
            context = launch(chromium_sandbox=False)
        logger.info("browser: %s", isolated.describe())
        try:
            context.set_default_timeout(timeout_ms)
            yield Session(context=context, isolation=isolated, profile=profile)
        finally:
            # A browser that crashed or hung cannot close cleanly; leaving the with block stops
            # Playwright's driver, which takes the browser down with it.
            with contextlib.suppress(PlaywrightError):
                context.close()
