"""What a web capture is made of, shared by the fetcher, the WARC writer and the snapshot task."""

import datetime
from dataclasses import dataclass, field


@dataclass
class Exchange:
    """One HTTP request and its response: a redirect hop or the final page."""

    url: str
    method: str
    # Header lists as sent / received, order and duplicates kept (WARC records them verbatim).
    request_headers: list[tuple[str, str]]
    status: int
    reason: str
    http_version: str  # "HTTP/1.1" or "HTTP/2"
    response_headers: list[tuple[str, str]]
    # The payload as it came off the wire (transfer-decoded, content-encoding such as gzip
    # kept), which is what the WARC response record stores ...
    raw_body: bytes
    # ... and the same payload with content-encoding removed, for hashing and text extraction.
    body: bytes
    # The address actually connected to (after the SSRF guard checked it).
    peer_ip: str
    started_at: datetime.datetime
    truncated: bool = False  # the body hit the size cap


@dataclass
class Capture:
    requested_url: str
    exchanges: list[Exchange] = field(default_factory=list)

    @property
    def final(self) -> Exchange:
        return self.exchanges[-1]

    @property
    def final_url(self) -> str:
        return self.final.url
