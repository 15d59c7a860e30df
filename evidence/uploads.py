"""Streaming uploads: hashed while they are written to disk, stopped at the size limit.

Installed first in FILE_UPLOAD_HANDLERS. Every file goes to a temporary file (never memory),
its SHA-256 is computed chunk by chunk as it arrives, and a file over DOCUMENT_MAX_BYTES stops
the upload: the view then shows a clear error instead of the form silently losing the file.
"""

import hashlib

from django.conf import settings
from django.core.files.uploadhandler import StopUpload, TemporaryFileUploadHandler


class HashingLimitedUploadHandler(TemporaryFileUploadHandler):
    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self.sha256 = hashlib.sha256()
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self.received += len(raw_data)
        if self.received > settings.DOCUMENT_MAX_BYTES:
            self.request.upload_too_large = self.file_name  # type: ignore[attr-defined]
            self.file.close()
            raise StopUpload(connection_reset=False)
        self.sha256.update(raw_data)
        self.file.write(raw_data)

    def file_complete(self, file_size: int):
        uploaded = super().file_complete(file_size)
        if uploaded is not None:
            uploaded.sha256 = self.sha256.hexdigest()
        return uploaded
