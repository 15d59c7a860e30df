"""Write-once evidence storage on Django's default storage (local disk or S3-compatible)."""

import hashlib
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from django.core.files import File
from django.core.files.storage import default_storage

CHUNK = 1024 * 1024


def store(name: str, content: BinaryIO | File) -> str:
    """Save bytes under `name`, never replacing existing bytes; returns the stored name.

    Names are derived from the row (documents: their hash), so an existing name already holds
    these bytes and is kept as it is.
    """
    if default_storage.exists(name):
        return name
    return default_storage.save(name, content if isinstance(content, File) else File(content))


def delete(name: str) -> None:
    if name and default_storage.exists(name):
        default_storage.delete(name)


def sha256_of(name: str) -> str:
    digest = hashlib.sha256()
    with default_storage.open(name, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@contextmanager
def local_path(name: str) -> Iterator[Path]:
    """A local file path for a stored file (a temporary copy when storage is remote)."""
    try:
        yield Path(default_storage.path(name))
        return
    except NotImplementedError:
        pass
    with tempfile.NamedTemporaryFile(prefix="casefile-") as tmp:
        with default_storage.open(name, "rb") as fh:
            shutil.copyfileobj(fh, tmp, CHUNK)
        tmp.flush()
        yield Path(tmp.name)
