"""RFC 3161 timestamps against a real, local `openssl ts` authority on 127.0.0.1.

The session fixture makes a CA and a TSA certificate (EC keys, extendedKeyUsage critical
timeStamping) and serves `openssl ts -reply` over HTTP:
  /tsa        grants (sha256, sha384, sha512 only: a SHA-1 request would be refused)
  /strict     a real openssl refusal: that section accepts only sha512 digests
  /replay     answers every request with the first reply it ever made (stale nonce)
  /garbage    200 with a body that is not ASN.1
  /down       HTTP 503
Every query received is kept, so tests can read what we actually sent.
"""

import hashlib
import shutil
import subprocess
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import httpx
import pytest
from asn1crypto import tsp

from evidence.tsa import TimestampError, TimestampToken, request_timestamp, verify_token

OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"

pytestmark = pytest.mark.skipif(not Path(OPENSSL).exists(), reason="openssl is not installed")

HELLO = hashlib.sha256("Звіт про власників ТОВ «Степ Агро Трейд»".encode()).hexdigest()
OTHER = hashlib.sha256(b"another WARC").hexdigest()

TSA_CNF = """
[ tsa ]
default_tsa = tsa_main

[ tsa_main ]
dir = {dir}
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.crt
certs = $dir/tsa.crt
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.3.6.1.4.1.55555.1
other_policies = 1.3.6.1.4.1.55555.2
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256

[ tsa_strict ]
dir = {dir}
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.crt
certs = $dir/tsa.crt
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.3.6.1.4.1.55555.1
other_policies = 1.3.6.1.4.1.55555.2
digests = sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256

[ tsa_cert ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = critical, timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""


def _openssl(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [OPENSSL, *args], cwd=cwd, capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 0, f"openssl {' '.join(args)}:\n{result.stdout}{result.stderr}"
    return result


def _make_ca(directory: Path, name: str) -> None:
    _openssl(
        "req", "-x509", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
        "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", f"/CN={name}",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        cwd=directory,
    )  # fmt: skip


@dataclass
class LocalTSA:
    base_url: str
    ca_cert: Path
    other_ca_cert: Path
    queries: list[bytes] = field(default_factory=list)
    directory: Path = Path()

    def url(self, path: str = "/tsa") -> str:
        return self.base_url + path

    def query_text(self, query: bytes) -> str:
        """`openssl ts -query -text` of a query the server received."""
        path = self.directory / "inspect.tsq"
        path.write_bytes(query)
        return _openssl("ts", "-query", "-in", str(path), "-text", cwd=self.directory).stdout


@pytest.fixture(scope="session")
def local_tsa(tmp_path_factory):
    directory = tmp_path_factory.mktemp("tsa")
    (directory / "tsa.cnf").write_text(TSA_CNF.format(dir=directory))
    (directory / "serial").write_text("01\n")
    _make_ca(directory, "Casefile Test Root CA")
    _openssl(
        "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", "tsa.key", "-out", "tsa.csr", "-subj", "/O=Casefile/CN=Casefile Test TSA",
        cwd=directory,
    )  # fmt: skip
    _openssl(
        "x509", "-req", "-in", "tsa.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-set_serial",
        "2", "-days", "2", "-out", "tsa.crt", "-extfile", "tsa.cnf", "-extensions", "tsa_cert",
        cwd=directory,
    )  # fmt: skip
    other = directory / "other"
    other.mkdir()
    _make_ca(other, "Somebody Else's CA")

    queries: list[bytes] = []
    replayed: list[bytes] = []
    lock = threading.Lock()

    def reply(query: bytes, section: str) -> bytes:
        with lock:  # one openssl at a time: they share the serial file
            queries.append(query)
            tsq = directory / "request.tsq"
            tsr = directory / "reply.tsr"
            tsq.write_bytes(query)
            _openssl(
                "ts", "-reply", "-config", "tsa.cnf", "-section", section,
                "-queryfile", str(tsq), "-out", str(tsr),
                cwd=directory,
            )  # fmt: skip
            return tsr.read_bytes()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            query = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            status, body = 200, b""
            if self.path == "/tsa":
                body = reply(query, "tsa_main")
            elif self.path == "/strict":
                body = reply(query, "tsa_strict")
            elif self.path == "/replay":
                if not replayed:
                    replayed.append(reply(query, "tsa_main"))
                body = replayed[0]
            elif self.path == "/garbage":
                body = b"<html><body>Service temporarily unavailable</body></html>"
            else:
                status, body = 503, b"down for maintenance"
            self.send_response(status)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield LocalTSA(
        base_url=f"http://127.0.0.1:{server.server_port}",
        ca_cert=directory / "ca.crt",
        other_ca_cert=other / "ca.crt",
        queries=queries,
        directory=directory,
    )
    server.shutdown()
    server.server_close()


def test_a_sha256_is_timestamped_and_verifies_against_the_ca(local_tsa):
    token = request_timestamp(sha256_hex=HELLO, tsa_url=local_tsa.url())

    assert isinstance(token, TimestampToken)
    assert token.gen_time.tzinfo is not None
    assert abs(datetime.now(UTC) - token.gen_time) < timedelta(minutes=1)
    assert token.policy == "1.3.6.1.4.1.55555.1"
    assert token.tsa_name == "O=Casefile, CN=Casefile Test TSA"
    assert token.token_der[:1] == b"\x30"  # a DER SEQUENCE: the ContentInfo
    assert verify_token(token.token_der, sha256_hex=HELLO, ca_cert_pem_path=local_tsa.ca_cert)


def test_the_token_does_not_verify_for_another_hash_or_another_ca(local_tsa):
    token = request_timestamp(sha256_hex=HELLO, tsa_url=local_tsa.url())

    assert not verify_token(token.token_der, sha256_hex=OTHER, ca_cert_pem_path=local_tsa.ca_cert)
    assert not verify_token(
        token.token_der, sha256_hex=HELLO, ca_cert_pem_path=local_tsa.other_ca_cert
    )
    tampered = bytearray(token.token_der)
    tampered[-5] ^= 0x01  # inside the signature value, at the end of the SignedData
    assert not verify_token(bytes(tampered), sha256_hex=HELLO, ca_cert_pem_path=local_tsa.ca_cert)


def test_serial_numbers_increase(local_tsa):
    first = request_timestamp(sha256_hex=HELLO, tsa_url=local_tsa.url())
    second = request_timestamp(sha256_hex=OTHER, tsa_url=local_tsa.url())

    assert second.serial_number == first.serial_number + 1


def test_the_request_carries_a_sha256_imprint_a_nonce_and_asks_for_the_certificate(local_tsa):
    request_timestamp(sha256_hex=OTHER, tsa_url=local_tsa.url())

    sent = local_tsa.queries[-1]
    text = local_tsa.query_text(sent)
    assert "Hash Algorithm: sha256" in text
    assert "Certificate required: yes" in text
    assert "Nonce: 0x" in text
    request = tsp.TimeStampReq.load(sent)
    assert request["version"].native == "v1"
    assert request["message_imprint"]["hash_algorithm"]["algorithm"].native == "sha256"
    assert request["message_imprint"]["hashed_message"].native == bytes.fromhex(OTHER)
    assert 0 < request["nonce"].native < 2**64


def test_nonces_differ_between_requests(local_tsa):
    request_timestamp(sha256_hex=HELLO, tsa_url=local_tsa.url())
    request_timestamp(sha256_hex=HELLO, tsa_url=local_tsa.url())

    first, second = (tsp.TimeStampReq.load(q)["nonce"].native for q in local_tsa.queries[-2:])
    assert first != second


def test_a_refusal_raises_with_the_authoritys_reason(local_tsa):
    with pytest.raises(TimestampError) as error:
        request_timestamp(sha256_hex=HELLO, tsa_url=local_tsa.url("/strict"))

    message = str(error.value)
    assert message.startswith("the timestamp authority refused the request")
    assert "rejection" in message
    assert "bad_alg" in message
    assert "Message digest algorithm is not supported" in message


def test_a_body_that_is_not_a_timestamp_reply_raises(local_tsa):
    with pytest.raises(TimestampError, match="not an RFC 3161 TimeStampResp"):
        request_timestamp(sha256_hex=HELLO, tsa_url=local_tsa.url("/garbage"))


def test_an_http_error_raises(local_tsa):
    with pytest.raises(TimestampError, match="HTTP 503"):
        request_timestamp(sha256_hex=HELLO, tsa_url=local_tsa.url("/down"))


def test_an_unreachable_authority_raises():
    with pytest.raises(TimestampError, match="could not reach the timestamp authority"):
        request_timestamp(sha256_hex=HELLO, tsa_url="http://127.0.0.1:9/tsa", timeout=2)


def test_a_replayed_reply_is_refused_by_nonce_and_imprint(local_tsa):
    request_timestamp(sha256_hex=HELLO, tsa_url=local_tsa.url("/replay"))

    with pytest.raises(TimestampError, match="nonce does not match"):
        request_timestamp(sha256_hex=HELLO, tsa_url=local_tsa.url("/replay"))
    with pytest.raises(TimestampError, match="for a different hash"):
        request_timestamp(sha256_hex=OTHER, tsa_url=local_tsa.url("/replay"))


def test_an_injected_client_is_used(local_tsa):
    seen: list[str] = []
    with httpx.Client(
        trust_env=False, event_hooks={"request": [lambda r: seen.append(r.headers["content-type"])]}
    ) as client:
        token = request_timestamp(sha256_hex=HELLO, tsa_url=local_tsa.url(), client=client)

    assert seen == ["application/timestamp-query"]
    assert verify_token(token.token_der, sha256_hex=HELLO, ca_cert_pem_path=local_tsa.ca_cert)


def test_the_ssrf_guarded_client_refuses_a_loopback_tsa(local_tsa, settings):
    from evidence.ssrf import guarded_client

    settings.FETCH_ALLOW_NETWORKS = []
    with guarded_client() as client, pytest.raises(TimestampError, match="loopback"):
        request_timestamp(sha256_hex=HELLO, tsa_url=local_tsa.url(), client=client)

    settings.FETCH_ALLOW_NETWORKS = ["127.0.0.0/8"]
    with guarded_client() as client:
        token = request_timestamp(sha256_hex=HELLO, tsa_url=local_tsa.url(), client=client)
    assert token.serial_number > 0


@pytest.mark.parametrize("bad", ["", "abc", "z" * 64, HELLO[:-1], HELLO + "00"])
def test_a_malformed_hash_is_a_value_error(bad):
    with pytest.raises(ValueError, match="not a SHA-256"):
        request_timestamp(sha256_hex=bad, tsa_url="http://127.0.0.1:9/tsa")
