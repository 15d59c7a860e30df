"""Run text extraction in a child process with memory and CPU limits.

Parsers of hostile files can need far more memory or time than the file's size suggests; the
limits of evidence/extract.py catch the known ways, and this catches the rest. Each extraction
runs in a process forked from a forkserver that has the parsers imported
already, so a document costs a fork (about 10 ms; bench/extract.py) rather than a new Python.
The child sets RLIMIT_AS and RLIMIT_CPU on itself before reading the file; one that runs out is
reported as the document's extraction error, and the worker that asked stays as it was.

As with any multiprocessing start method but fork, each child imports the calling program's
main module (as __mp_main__): a script that calls this must keep its work under
`if __name__ == "__main__":` (celery, manage.py and pytest do).
"""

import contextlib
import logging
import os
import resource
import signal
import time
from dataclasses import replace
from pathlib import Path

import billiard
from billiard.connection import Connection

from .detect import DetectedType
from .extract import Extracted, ExtractLimits, extract_text

logger = logging.getLogger(__name__)

MB = 1024 * 1024
# The child may outlive its CPU limit by this much in wall time (reading the file, a slow disk)
# before the parent kills it.
WALL_GRACE_SECONDS = 30

# billiard is Celery's fork of multiprocessing: unlike the standard library's, it lets a Celery
# pool process (a daemon) start a child.
_context = billiard.get_context("forkserver")
_context.set_forkserver_preload(["evidence.extract"])


def extract_text_limited(
    path: Path | str,
    detected: DetectedType,
    *,
    max_chars: int = 5_000_000,
    limits: ExtractLimits | None = None,
    memory_mb: int | None = None,
    cpu_seconds: int | None = None,
) -> Extracted:
    """extract_text() in a child process of at most memory_mb of address space and
    cpu_seconds of processor time (EXTRACT_MEMORY_MB, EXTRACT_CPU_SECONDS by default).

    A child stopped by a limit gives an Extracted with the reason as its error. OSError (the
    file is missing or unreadable) is raised here, as extract_text() raises it.
    """
    from django.conf import settings

    limits = limits or ExtractLimits.from_settings()
    memory_mb = memory_mb or settings.EXTRACT_MEMORY_MB
    cpu_seconds = cpu_seconds or settings.EXTRACT_CPU_SECONDS
    receiver, sender = _context.Pipe(duplex=False)
    child = _context.Process(
        target=_child_main,
        args=(sender, str(path), detected, max_chars, limits, memory_mb, cpu_seconds),
        name="casefile-extract",
        daemon=True,
    )
    started = time.monotonic()
    try:
        child.start()
    finally:
        sender.close()  # the child holds the only sending end: EOF when it dies
    try:
        if not receiver.poll(cpu_seconds + WALL_GRACE_SECONDS):
            return _stopped(f"it took more than {_seconds(cpu_seconds + WALL_GRACE_SECONDS)}")
        try:
            outcome, payload, peak_kb = receiver.recv()
        except EOFError:
            outcome, payload, peak_kb = "died", None, None
    finally:
        receiver.close()
        child.join(1)  # a child that answered exits at once
        if child.is_alive():
            with contextlib.suppress(ProcessLookupError):
                os.kill(child.pid, signal.SIGKILL)
            child.join(5)
    if outcome == "ok":
        return replace(payload, peak_memory_kb=peak_kb)
    if outcome == "oserror":
        raise OSError(*payload)
    logger.warning("extraction of %s stopped: %s (exit code %s)", path, outcome, child.exitcode)
    if outcome == "memory":
        return _stopped(f"the file needed more than {memory_mb} MB of memory")
    # Killed at the hard CPU limit (stuck in C code, deaf to SIGXCPU), or crashed: a forkserver
    # child's exit signal is not passed on, but processor time never outruns the clock.
    if outcome == "cpu" or time.monotonic() - started >= cpu_seconds:
        return _stopped(f"the file needed more than {_seconds(cpu_seconds)} of processor time")
    # Parsers written in C (PDFium, libxml2) may abort rather than report a failed allocation,
    # which under RLIMIT_AS is the likely cause.
    return _stopped(f"the extractor crashed on this file, perhaps short of memory ({memory_mb} MB)")


def _seconds(seconds: int) -> str:
    return "1 second" if seconds == 1 else f"{seconds} seconds"


def _stopped(why: str) -> Extracted:
    return Extracted(text="", page_count=None, error=f"Text extraction stopped: {why}.")


class _CpuLimit(BaseException):
    """SIGXCPU, raised where the extractor is; not an Exception, which extractors catch."""


def _on_cpu_limit(signum: int, frame: object) -> None:
    raise _CpuLimit


def _child_main(
    sender: Connection,
    path: str,
    detected: DetectedType,
    max_chars: int,
    limits: ExtractLimits,
    memory_mb: int,
    cpu_seconds: int,
) -> None:
    signal.signal(signal.SIGXCPU, _on_cpu_limit)
    address_space = memory_mb * MB
    resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
    # SIGXCPU at the soft limit; SIGKILL at the hard one, should the handler not get to run.
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 5))
    message: tuple = ("memory", None)
    try:
        message = ("ok", extract_text(path, detected, max_chars=max_chars, limits=limits))
    except MemoryError:
        pass  # leaving the except block frees what the extractor held
    except _CpuLimit:
        message = ("cpu", None)
    except OSError as exc:
        message = ("oserror", (exc.errno, exc.strerror or str(exc)))
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        sender.send((*message, peak_kb))
    except MemoryError:
        sender.send(("memory", None, peak_kb))
    sender.close()
