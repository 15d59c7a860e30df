"""The SSRF guard: URL checks before the network, address checks at the connection itself."""

import re
import socket
import ssl

import httpx
import pytest
from django.core.exceptions import ImproperlyConfigured

from evidence import ssrf
from evidence.ssrf import Refused, address_allowed, check_address, check_url, guarded_client
from tests.evidence.httpserver import (  # noqa: F401
    LoopbackServer,
    make_certificate,
    no_network,
    server_context,
    web,
)

# (URL, words the reporter's reason must contain). All refused by check_url, before any lookup.
BAD_URLS = [
    ("http://2130706433/", "127.0.0.1, a loopback"),
    ("http://[::ffff:127.0.0.1]/", "127.0.0.1, a loopback"),
    ("http://[::ffff:7f00:1]/", "127.0.0.1, a loopback"),
    ("http://0x7f.1/", "127.0.0.1, a loopback"),
    ("http://0x7f000001/", "127.0.0.1, a loopback"),
    ("http://0x7f.0.0.1/", "127.0.0.1, a loopback"),
    ("http://017700000001/", "127.0.0.1, a loopback"),
    ("http://0177.0.0.1/", "127.0.0.1, a loopback"),
    ("http://127.1/", "127.0.0.1, a loopback"),
    ("http://127.0.0.1./", "loopback"),
    ("http://[::1]/", "loopback"),
    ("http://[fe80::1]/", "link-local"),
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://10.0.0.1/", "private"),
    ("http://172.16.5.4:8080/", "private"),
    ("http://192.168.1.1/admin", "private"),
    ("http://[fd00::1]/", "private"),
    ("http://100.64.0.1/", "carrier-grade NAT"),
    ("http://198.18.0.1/", "benchmarking"),
    ("http://192.0.2.1/", "documentation"),
    ("http://[2001:db8::1]/", "documentation"),
    ("http://[64:ff9b::a00:1]/", "carries 10.0.0.1, a private"),
    ("http://[2002:a9fe:a9fe::]/", "carries 169.254.169.254, a link-local"),
    ("http://[2001::1]/", "Teredo"),
    ("http://[::7f00:1]/", "IPv4-compatible"),
    ("http://0.0.0.0/", "unspecified"),
    ("http://0/", "unspecified"),
    ("http://[::]/", "unspecified"),
    ("http://0.1.2.3/", "this network"),
    ("http://224.0.0.1/", "multicast"),
    ("http://[ff02::1]/", "multicast"),
    ("http://255.255.255.255/", "broadcast"),
    ("http://240.0.0.1/", "reserved"),
    ("ftp://example.com/file", "only http and https"),
    ("file:///etc/passwd", "only http and https"),
    ("javascript:alert(1)", "only http and https"),
    ("gopher://127.0.0.1:6379/_INFO", "only http and https"),
    ("http://user:pw@example.com/", "user names or passwords"),
    ("http://user@example.com/", "user names or passwords"),
    ("http://example.com:0/", "not a valid port"),
    ("http://example.com:65536/", "not a valid port"),
    ("http:///path", "no host"),
    ("http://1.2.3.4.5/", "not a valid IP address"),
    ("http://256.0.0.1/", "not a valid"),
    ("http://127.0.0.1%2e/", "not a valid host name"),
    ("not a url", "only http and https"),
]


@pytest.mark.parametrize(("url", "words"), BAD_URLS)
def test_check_url_refuses_before_any_lookup(url, words, settings, no_network):  # noqa: F811
    settings.FETCH_ALLOW_NETWORKS = []
    with pytest.raises(Refused) as refused:
        check_url(url)
    assert refused.value.reason.startswith("refused: ")
    assert words in refused.value.reason


def test_numeric_forms_name_the_address_they_stand_for(settings):
    settings.FETCH_ALLOW_NETWORKS = []
    with pytest.raises(Refused) as refused:
        check_url("http://2130706433/")
    assert refused.value.reason == "refused: 2130706433 is 127.0.0.1, a loopback address"


@pytest.mark.parametrize(
    ("url", "normalised"),
    [
        ("HTTP://Example.COM", "http://example.com/"),
        ("https://example.com:443/a?b=1#section", "https://example.com/a?b=1"),
        (" http://example.com/x ", "http://example.com/x"),
        ("http://пример.рф/путь", "http://xn--e1afmkfd.xn--p1ai/%D0%BF%D1%83%D1%82%D1%8C"),
        ("http://8.8.8.8./", "http://8.8.8.8/"),
        ("http://134744072/", "http://8.8.8.8/"),
        ("http://[2001:4860:4860::8888]:8080/", "http://[2001:4860:4860::8888]:8080/"),
        ("http://[64:ff9b::808:808]/", "http://[64:ff9b::808:808]/"),
    ],
)
def test_check_url_normalises_what_it_allows(url, normalised, settings):
    settings.FETCH_ALLOW_NETWORKS = []
    assert check_url(url) == normalised


@pytest.mark.parametrize(
    ("ip", "allowed"),
    [
        ("93.184.215.14", True),
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
        ("64:ff9b::808:808", True),  # NAT64 to a public address is an ordinary route
        ("127.0.0.1", False),
        ("::ffff:127.0.0.1", False),
        ("169.254.169.254", False),
        ("fe80::1", False),
        ("100.127.255.255", False),
        ("198.19.0.1", False),
        ("0.0.0.0", False),  # noqa: S104
        ("not an address", False),
    ],
)
def test_address_allowed(ip, allowed, settings):
    settings.FETCH_ALLOW_NETWORKS = []
    assert address_allowed(ip) is allowed


def test_allow_networks_let_listed_addresses_through(settings):
    settings.FETCH_ALLOW_NETWORKS = ["127.0.0.0/8", "::1/128", "10.0.0.0/8"]
    check_address("127.0.0.1")
    check_address("::ffff:127.0.0.1")  # a mapped address is judged as the IPv4 address it is
    check_address("::1")
    check_address("10.20.30.40")
    assert check_url("http://2130706433:8000/x") == "http://127.0.0.1:8000/x"
    with pytest.raises(Refused, match=re.escape("169.254.169.254 is a link-local address")):
        check_address("169.254.169.254")
    with pytest.raises(Refused, match=re.escape("192.168.0.1 is a private address")):
        check_address("192.168.0.1")


def test_allow_networks_may_be_a_comma_separated_string(settings):
    settings.FETCH_ALLOW_NETWORKS = "10.0.0.0/8, 192.168.0.0/16"
    assert address_allowed("10.1.1.1")
    assert address_allowed("192.168.1.1")
    assert not address_allowed("127.0.0.1")


def test_a_malformed_allow_list_is_a_configuration_error(settings):
    settings.FETCH_ALLOW_NETWORKS = ["10.0.0.0/8", "intranet"]
    with pytest.raises(ImproperlyConfigured, match="FETCH_ALLOW_NETWORKS"):
        address_allowed("8.8.8.8")


def test_check_address_names_the_host_that_resolved(settings):
    settings.FETCH_ALLOW_NETWORKS = []
    with pytest.raises(Refused) as refused:
        check_address("10.0.0.7", host="intranet.example")
    assert (
        refused.value.reason == "refused: intranet.example resolves to 10.0.0.7, a private address"
    )


def test_loopback_server_reachable_only_when_allowed(web, settings):  # noqa: F811
    with guarded_client() as client:
        response = client.get(web.url("/company"))
    assert response.status_code == 200
    assert ssrf.peer_address(response) == "127.0.0.1"

    settings.FETCH_ALLOW_NETWORKS = []
    with (
        guarded_client() as client,
        pytest.raises(Refused, match=re.escape("127.0.0.1 is a loopback")),
    ):
        client.get(web.url("/company"))
    assert web.connections == 1


def test_a_name_that_resolves_to_loopback_is_refused_at_connect_time(settings, monkeypatch):
    settings.FETCH_ALLOW_NETWORKS = []
    check_url("http://localhost/")  # a name: the URL check cannot know where it points
    connects = []
    monkeypatch.setattr(socket.socket, "connect", lambda sock, address: connects.append(address))
    with guarded_client() as client, pytest.raises(Refused) as refused:
        client.get("http://localhost:1/")
    assert refused.value.reason.startswith("refused: localhost resolves to ")
    assert "loopback" in refused.value.reason
    assert connects == []


def _fake_resolver(monkeypatch, answers):
    """Replace socket.getaddrinfo with one that returns answers[i] on call i, and counts."""
    calls = []

    def getaddrinfo(host, port, *args, **kwargs):
        calls.append(host)
        ips = answers[min(len(calls), len(answers)) - 1]
        return [
            (
                socket.AF_INET6 if ":" in ip else socket.AF_INET,
                socket.SOCK_STREAM,
                socket.IPPROTO_TCP,
                "",
                (ip, port),
            )
            for ip in ips
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return calls


def test_rebinding_resolves_once_and_connects_to_the_checked_address(web, settings, monkeypatch):  # noqa: F811
    # The attacker's name server answers 127.0.0.1 (allowed here) to the check and would answer
    # 169.254.169.254 to a second lookup: there is no second lookup to answer.
    settings.FETCH_ALLOW_NETWORKS = ["127.0.0.1/32"]
    calls = _fake_resolver(monkeypatch, [["127.0.0.1"], ["169.254.169.254"]])
    with guarded_client() as client:
        response = client.get(f"http://rebind.example:{web.port}/company")
    assert response.status_code == 200
    assert calls == ["rebind.example"]
    assert ssrf.peer_address(response) == "127.0.0.1"
    assert web.requests[0].headers[0] == ("Host", f"rebind.example:{web.port}")


def test_rebinding_to_a_private_address_is_refused_on_the_next_connection(
    web,  # noqa: F811
    settings,
    monkeypatch,
):
    settings.FETCH_ALLOW_NETWORKS = ["127.0.0.1/32"]
    calls = _fake_resolver(monkeypatch, [["127.0.0.1"], ["169.254.169.254"]])
    url = f"http://rebind.example:{web.port}/company"
    with guarded_client() as client:
        assert client.get(url).status_code == 200
    with guarded_client() as client, pytest.raises(Refused) as refused:
        client.get(url)
    assert refused.value.reason == (
        "refused: rebind.example resolves to 169.254.169.254, a link-local address"
    )
    assert calls == ["rebind.example", "rebind.example"]
    assert web.connections == 1


def test_every_resolved_address_is_checked_before_connecting(settings, monkeypatch):
    # A public answer first and a private one second: a connect fallback must not reach the
    # private one, so nothing is connected to at all.
    settings.FETCH_ALLOW_NETWORKS = []
    _fake_resolver(monkeypatch, [["93.184.215.14", "10.0.0.1"]])
    connects = []
    monkeypatch.setattr(socket.socket, "connect", lambda sock, address: connects.append(address))
    with (
        guarded_client() as client,
        pytest.raises(Refused, match=re.escape("10.0.0.1, a private address")),
    ):
        client.get("http://mixed.example/")
    assert connects == []


def test_environment_proxies_are_ignored(web, monkeypatch):  # noqa: F811
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    with guarded_client() as client:
        response = client.get(web.url("/company"))
    assert response.status_code == 200
    assert web.requests[0].path == "/company"


def test_guarded_client_refuses_arguments_that_bypass_the_guard():
    with pytest.raises(TypeError, match="bypass"):
        guarded_client(proxy="http://proxy.example:3128")
    with pytest.raises(TypeError, match="bypass"):
        guarded_client(transport=httpx.HTTPTransport())
    with pytest.raises(TypeError, match="bypass"):
        guarded_client(trust_env=True)


def test_peer_address_needs_a_guarded_response():
    client = httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(200)))
    with client, pytest.raises(RuntimeError):
        ssrf.peer_address(client.get("http://example.com/"))


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for casefile.test only (not for 127.0.0.1)."""
    return make_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def tls_web(certificate, settings):
    settings.FETCH_ALLOW_NETWORKS = ["127.0.0.1/32"]
    server = LoopbackServer(ssl_context=server_context(*certificate)).start()
    server.add_builtin_routes()
    yield server
    server.stop()


def test_tls_verifies_the_url_host_name_not_the_address_connected_to(
    tls_web, certificate, monkeypatch
):
    cert, _ = certificate
    calls = _fake_resolver(monkeypatch, [["127.0.0.1"]])
    with guarded_client(verify=ssl.create_default_context(cafile=cert)) as client:
        response = client.get(f"https://casefile.test:{tls_web.port}/company")
    assert response.status_code == 200
    assert ssrf.peer_address(response) == "127.0.0.1"
    assert calls == ["casefile.test"]

    # Same server, same certificate, but the URL names the address: the name check fails.
    with (
        guarded_client(verify=ssl.create_default_context(cafile=cert)) as client,
        pytest.raises(httpx.ConnectError) as error,
    ):
        client.get(tls_web.url("/company"))
    assert "CERTIFICATE_VERIFY_FAILED" in str(error.value)


def test_guarded_client_checks_every_hop_when_httpx_follows_redirects(web):  # noqa: F811
    # Registries may let httpx follow redirects; the transport checks each hop's URL itself.
    with guarded_client(follow_redirects=True) as client:
        assert client.get(web.url("/redirect/1")).status_code == 200
        with pytest.raises(Refused, match=re.escape("169.254.169.254 is a link-local address")):
            client.get(web.url("/to-metadata"))
        with pytest.raises(Refused, match="user names or passwords"):
            client.get(web.url("/company").replace("http://", "http://user:pw@"))
    assert [r.path for r in web.requests][-1] == "/to-metadata"
