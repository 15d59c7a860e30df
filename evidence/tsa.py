"""RFC 3161 trusted timestamps of a SHA-256 hash, from a timestamp authority (TSA) over HTTP.

A timestamp token is the TSA's signed statement "this hash existed at this time". We ask with
SHA-256 (rfc3161ng, for comparison, asks with SHA-1 unless given digest=), a random 64-bit
nonce, and certReq so the token carries the TSA's certificate and can be verified offline.
request_timestamp() checks that the token answers our request (same imprint, same nonce);
verify_token() checks the signature and certificate chain against a CA, with the openssl CLI.
"""

import re
import secrets
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
from asn1crypto import cms, tsp, x509
from asn1crypto.core import Void

from evidence.ssrf import Refused

QUERY_CONTENT_TYPE = "application/timestamp-query"
REPLY_CONTENT_TYPE = "application/timestamp-reply"
# A reply is a signature, a few certificates and a little ASN.1; anything bigger is not one.
MAX_REPLY_BYTES = 1024 * 1024
OPENSSL = "/usr/bin/openssl"

_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


class TimestampError(Exception):
    """The TSA could not be reached, refused, or answered with something that is not our token."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class TimestampToken:
    """A granted timestamp: the token to store, and what it says, for display."""

    token_der: bytes  # the timeStampToken: a CMS ContentInfo (SignedData over a TSTInfo)
    gen_time: datetime  # aware, UTC
    serial_number: int
    tsa_name: str | None
    policy: str  # dotted OID


class _TimeStampResp(tsp.TimeStampResp):
    # RFC 3161 makes the token OPTIONAL (a refusal has none); asn1crypto 1.5 requires it.
    _fields = [
        ("status", tsp.PKIStatusInfo),
        ("time_stamp_token", cms.ContentInfo, {"optional": True}),
    ]


_NAME_KEYS = {
    "country_name": "C",
    "state_or_province_name": "ST",
    "locality_name": "L",
    "organization_name": "O",
    "organizational_unit_name": "OU",
    "common_name": "CN",
    "serial_number": "serialNumber",
    "email_address": "emailAddress",
}


def _name_text(name: x509.Name) -> str:
    """A distinguished name as "C=UA, O=Example, CN=Example TSA", in certificate order."""
    parts = []
    for rdn in name.chosen:
        for attribute in rdn:
            kind = attribute["type"]
            key = _NAME_KEYS.get(kind.native, kind.dotted)
            parts.append(f"{key}={attribute['value'].native}")
    return ", ".join(parts)


def _digest(sha256_hex: str) -> bytes:
    value = sha256_hex.strip().lower()
    if not _SHA256_HEX.fullmatch(value):
        raise ValueError(f"not a SHA-256 hex digest: {sha256_hex!r}")
    return bytes.fromhex(value)


def build_request(*, digest: bytes, nonce: int) -> tsp.TimeStampReq:
    """A TimeStampReq (v1) for a SHA-256 digest, with a nonce, asking for the TSA's certificate."""
    return tsp.TimeStampReq(
        {
            "version": "v1",
            "message_imprint": {
                "hash_algorithm": {"algorithm": "sha256"},
                "hashed_message": digest,
            },
            "nonce": nonce,
            "cert_req": True,
        }
    )


def _post(client: httpx.Client, url: str, body: bytes, timeout: float) -> bytes:
    headers = {"Content-Type": QUERY_CONTENT_TYPE, "Accept": REPLY_CONTENT_TYPE}
    try:
        with client.stream("POST", url, content=body, headers=headers, timeout=timeout) as resp:
            if resp.status_code != 200:
                raise TimestampError(
                    f"the timestamp authority answered HTTP {resp.status_code}, not a timestamp"
                )
            chunks: list[bytes] = []
            size = 0
            for chunk in resp.iter_bytes():
                size += len(chunk)
                if size > MAX_REPLY_BYTES:
                    raise TimestampError(
                        f"the timestamp authority's reply is over {MAX_REPLY_BYTES} bytes"
                    )
                chunks.append(chunk)
            return b"".join(chunks)
    except Refused as exc:
        raise TimestampError(f"not asking the timestamp authority at {url}: {exc.reason}") from exc
    except httpx.HTTPError as exc:
        raise TimestampError(f"could not reach the timestamp authority: {exc}") from exc


def _refusal(status: tsp.PKIStatusInfo) -> str:
    """Why the TSA said no, from the PKIStatusInfo: status, failure bits and its own words."""
    detail = [f"status: {str(status['status'].native).replace('_', ' ')}"]
    failures = status["fail_info"].native
    if failures:
        detail.append("failure: " + ", ".join(sorted(str(f) for f in failures)))
    message = f"the timestamp authority refused the request ({'; '.join(detail)})"
    words = status["status_string"].native
    if words:
        message += ": " + " ".join(words)
    return message


def _tsa_name(tst_info: tsp.TSTInfo, signed_data: cms.SignedData) -> str | None:
    """The TSA's name from the TSTInfo, else the subject of the certificate it sent."""
    tsa = tst_info["tsa"]
    if tsa.native is not None:
        if tsa.name == "directory_name":
            return _name_text(tsa.chosen)
        return str(tsa.native)
    for choice in signed_data["certificates"] or []:
        if choice.name != "certificate":
            continue
        cert: x509.Certificate = choice.chosen
        usage = cert.extended_key_usage_value
        if usage is not None and "time_stamping" in usage.native:
            return _name_text(cert.subject)
    return None


def parse_reply(reply: bytes, *, digest: bytes, nonce: int) -> TimestampToken:
    """Check a TimeStampResp answers our request and pull out the token and what it says.

    The signature is not checked here (that needs a trust anchor: verify_token() does it).
    """
    try:
        resp = _TimeStampResp.load(reply, strict=True)
        status = resp["status"]
        code = status["status"].native
    except (ValueError, TypeError, KeyError) as exc:
        raise TimestampError(
            f"the timestamp authority's reply is not an RFC 3161 TimeStampResp ({exc})"
        ) from exc
    if code not in ("granted", "granted_with_mods"):
        raise TimestampError(_refusal(status))
    try:
        token: cms.ContentInfo = resp["time_stamp_token"]
        if isinstance(token, Void) or token["content_type"].native != "signed_data":
            raise TimestampError("the timestamp authority granted but sent no signed token")
        signed_data: cms.SignedData = token["content"]
        encap = signed_data["encap_content_info"]
        if encap["content_type"].native != "tst_info":
            raise TimestampError("the timestamp token does not hold a TSTInfo")
        tst_info: tsp.TSTInfo = encap["content"].parsed
        imprint = tst_info["message_imprint"]
        algorithm = imprint["hash_algorithm"]["algorithm"].native
        hashed = imprint["hashed_message"].native
        token_nonce = tst_info["nonce"].native
        gen_time: datetime = tst_info["gen_time"].native
        serial_number = int(tst_info["serial_number"].native)
        policy = tst_info["policy"].dotted
        tsa_name = _tsa_name(tst_info, signed_data)
        token_der = token.dump()
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise TimestampError(f"the timestamp token could not be read ({exc})") from exc
    if algorithm != "sha256" or hashed != digest:
        raise TimestampError(
            f"the timestamp token is for a different hash ({algorithm} {hashed.hex()}), not ours"
        )
    if token_nonce != nonce:
        raise TimestampError(
            "the timestamp token's nonce does not match our request (a replayed or stale reply)"
        )
    return TimestampToken(
        token_der=token_der,
        gen_time=gen_time.astimezone(UTC),
        serial_number=serial_number,
        tsa_name=tsa_name,
        policy=policy,
    )


def request_timestamp(
    *,
    sha256_hex: str,
    tsa_url: str,
    timeout: float = 10,
    client: httpx.Client | None = None,
) -> TimestampToken:
    """Ask the TSA at tsa_url to timestamp a SHA-256 hash; raise TimestampError if it won't.

    Pass client=evidence.ssrf.guarded_client() to send the request through the SSRF guard.
    """
    digest = _digest(sha256_hex)
    # Positive and non-zero, so it always encodes and a missing nonce never equals it.
    nonce = secrets.randbits(64) | 1
    body = build_request(digest=digest, nonce=nonce).dump()
    if client is None:
        with httpx.Client(trust_env=False) as own_client:
            reply = _post(own_client, tsa_url, body, timeout)
    else:
        reply = _post(client, tsa_url, body, timeout)
    return parse_reply(reply, digest=digest, nonce=nonce)


def verify_token(token_der: bytes, *, sha256_hex: str, ca_cert_pem_path: str | Path) -> bool:
    """Whether the token is a valid TSA signature over this hash, chaining to the given CA.

    Runs `openssl ts -verify`, which checks the imprint, the signature, the signer's critical
    timeStamping extended key usage, and the chain to ca_cert_pem_path.
    """
    digest_hex = _digest(sha256_hex).hex()
    openssl = OPENSSL if Path(OPENSSL).exists() else shutil.which("openssl")
    if openssl is None:
        raise TimestampError("the openssl command is not installed; cannot verify tokens")
    with tempfile.TemporaryDirectory(prefix="casefile-tsa-") as tmp:
        token_path = Path(tmp) / "token.der"
        token_path.write_bytes(token_der)
        result = subprocess.run(
            [
                openssl,
                "ts",
                "-verify",
                "-digest",
                digest_hex,
                "-in",
                str(token_path),
                "-token_in",
                "-CAfile",
                str(ca_cert_pem_path),
            ],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    return result.returncode == 0 and "Verification: OK" in result.stdout
