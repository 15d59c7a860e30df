"""The one SSRF guard for every server-side fetch: snapshots now, company registries later.

Two layers, both needed:

1. check_url() looks at the URL before any network traffic: http(s) only, no credentials, a
   valid port, and a host that is either a name or an address we may visit. Numeric host forms
   that resolvers accept (2130706433, 0x7f.1, 017700000001, 127.1, [::ffff:127.0.0.1]) are
   normalised the way a browser or inet_aton would and judged immediately.
2. GuardedBackend, the httpcore network backend behind guarded_client(), resolves each host name
   itself, checks every address the resolver returned, and connects to one of those checked
   addresses. There is no second lookup between the check and the connect, so a DNS answer that
   changes (DNS rebinding) cannot slip a private address past the guard. It runs for every
   connection, so every redirect hop is checked again at the address actually used.

The address connected to is kept on the network stream; peer_address(response) reads it.
Networks listed in the FETCH_ALLOW_NETWORKS setting (CIDR strings, empty by default) are allowed
anyway: loopback for tests, 10.0.0.0/8 for an intranet registry.
"""

import contextlib
import contextvars
import functools
import ipaddress
import re
import select
import socket
import ssl
import threading
import time
import urllib.parse
from collections.abc import Iterable, Iterator
from typing import Any

import httpcore
import httpx
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

SCHEMES = ("http", "https")


class Refused(Exception):
    """A URL or address the guard will not fetch; .reason is written for the reporter."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --- Addresses -------------------------------------------------------------------------------

_V4 = ipaddress.IPv4Network
_V6 = ipaddress.IPv6Network

# Named ranges first, so the reason says what the address is. The is_* fallbacks in
# _describe_v4/_v6 catch anything a table misses; "not globally reachable" is the last word.
_V4_RANGES: tuple[tuple[ipaddress.IPv4Network, str], ...] = (
    (_V4("0.0.0.0/32"), "the unspecified address"),
    (_V4("0.0.0.0/8"), "a 'this network' address (0.0.0.0/8)"),
    (_V4("127.0.0.0/8"), "a loopback address"),
    (_V4("169.254.0.0/16"), "a link-local address"),
    (_V4("10.0.0.0/8"), "a private address"),
    (_V4("172.16.0.0/12"), "a private address"),
    (_V4("192.168.0.0/16"), "a private address"),
    (_V4("100.64.0.0/10"), "a carrier-grade NAT (shared) address"),
    (_V4("192.0.0.0/24"), "an IETF protocol address"),
    (_V4("192.0.2.0/24"), "a documentation address"),
    (_V4("198.51.100.0/24"), "a documentation address"),
    (_V4("203.0.113.0/24"), "a documentation address"),
    (_V4("198.18.0.0/15"), "a benchmarking address"),
    (_V4("192.88.99.0/24"), "a deprecated 6to4 relay address"),
    (_V4("224.0.0.0/4"), "a multicast address"),
    (_V4("255.255.255.255/32"), "the broadcast address"),
    (_V4("240.0.0.0/4"), "a reserved address"),
)

_V6_RANGES: tuple[tuple[ipaddress.IPv6Network, str], ...] = (
    (_V6("::/128"), "the unspecified address"),
    (_V6("::1/128"), "a loopback address"),
    (_V6("::/96"), "an IPv4-compatible address (deprecated)"),
    (_V6("::/8"), "a reserved address"),
    (_V6("64:ff9b:1::/48"), "a local-use NAT64 address"),
    (_V6("100::/64"), "a discard-only address"),
    (_V6("2001::/32"), "a Teredo tunnel address"),
    (_V6("2001:2::/48"), "a benchmarking address"),
    (_V6("2001:db8::/32"), "a documentation address"),
    (_V6("3fff::/20"), "a documentation address"),
    (_V6("2001::/23"), "an IETF protocol address"),
    (_V6("fc00::/7"), "a private (unique local) address"),
    (_V6("fe80::/10"), "a link-local address"),
    (_V6("fec0::/10"), "a site-local address (deprecated)"),
    (_V6("ff00::/8"), "a multicast address"),
)

_NAT64 = _V6("64:ff9b::/96")


def _describe_v4(ip: ipaddress.IPv4Address) -> str | None:
    for network, what in _V4_RANGES:
        if ip in network:
            return what
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_private:
        return "a private address"
    if ip.is_reserved or ip.is_unspecified or not ip.is_global:
        return "a reserved address"
    return None


def _describe_v6(ip: ipaddress.IPv6Address) -> str | None:
    # Addresses that carry an IPv4 address are judged by what they carry. NAT64 and 6to4 to a
    # public IPv4 address are ordinary routes; to a private one they reach inside.
    embedded: ipaddress.IPv4Address | None = None
    if ip in _NAT64:
        embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    elif ip.sixtofour is not None:
        embedded = ip.sixtofour
    if embedded is not None:
        what = _describe_v4(embedded)
        if what is not None:
            return f"an address that carries {embedded}, {what}"
        if ip in _NAT64:
            return None
        return "a 6to4 address (deprecated)"
    for network, what in _V6_RANGES:
        if ip in network:
            return what
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local or ip.is_site_local:
        return "a link-local address"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_private:
        return "a private address"
    if ip.is_reserved or ip.is_unspecified or not ip.is_global:
        return "a reserved address"
    return None


def _parse_address(ip: str | IPAddress) -> IPAddress:
    address = ipaddress.ip_address(ip) if isinstance(ip, str) else ip
    # An IPv4-mapped IPv6 address is an IPv4 address on a dual-stack socket: judge it as one.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    # Read at call time: tests and intranet deployments change it without a restart of this module.
    value = getattr(settings, "FETCH_ALLOW_NETWORKS", [])
    if isinstance(value, str):
        value = [part for part in value.split(",") if part.strip()]
    try:
        return [ipaddress.ip_network(cidr.strip(), strict=False) for cidr in value]
    except ValueError as exc:
        raise ImproperlyConfigured(f"FETCH_ALLOW_NETWORKS: {exc}") from exc


def _judge(address: IPAddress) -> str | None:
    """What makes this address off limits ("a loopback address"), or None when it may be used."""
    address = _parse_address(address)
    if any(address in network for network in _allowed_networks()):
        return None
    if isinstance(address, ipaddress.IPv4Address):
        return _describe_v4(address)
    return _describe_v6(address)


def _explain(shown: str, address: IPAddress, what: str) -> str:
    """ "127.0.0.1 is a loopback address", or "2130706433 is 127.0.0.1, a loopback address"."""
    normal = str(_parse_address(address))
    if shown == normal:
        return f"{shown} is {what}"
    return f"{shown} is {normal}, {what}"


def address_allowed(ip: str) -> bool:
    """Whether a fetch may connect to this address (public, or in FETCH_ALLOW_NETWORKS)."""
    try:
        return _judge(ipaddress.ip_address(ip)) is None
    except ValueError:
        return False


def check_address(ip: str, *, host: str | None = None) -> None:
    """Raise Refused unless a fetch may connect to this address.

    host, when given, is the name that resolved to ip, so the reason can say so.
    """
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        raise Refused(f"refused: {ip} is not an IP address") from None
    what = _judge(address)
    if what is None:
        return
    if host is not None and host != ip:
        normal = str(_parse_address(address))
        via = "" if normal == ip else f", which is {normal}"
        raise Refused(f"refused: {host} resolves to {ip}{via}, {what}")
    raise Refused(f"refused: {_explain(ip, address, what)}")


# --- URLs ------------------------------------------------------------------------------------

# WHATWG URL "ends in a number": such a host is an IPv4 address or an error, never a name.
_IPV4_NUMBER = re.compile(r"0[xX][0-9a-fA-F]*|[0-9]+")
_HOST_NAME = re.compile(
    r"[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)*\.?"
)


def _parse_ipv4_number(part: str) -> int:
    if part[:2] in ("0x", "0X"):
        return int(part[2:] or "0", 16)
    if len(part) > 1 and part.startswith("0"):
        return int(part[1:], 8)
    return int(part, 10)


def _numeric_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """The IPv4 address a numeric host stands for (127.1, 0x7f.1, 2130706433), or None.

    Follows the WHATWG IPv4 parser, which agrees with inet_aton: up to four parts, each decimal,
    octal (leading 0) or hex (0x); the last part fills the remaining bytes.
    """
    labels = host.split(".")
    if len(labels) > 1 and labels[-1] == "":
        labels.pop()
    if not _IPV4_NUMBER.fullmatch(labels[-1]):
        return None
    invalid = Refused(f"refused: {host} is not a valid IP address")
    if len(labels) > 4 or not all(_IPV4_NUMBER.fullmatch(label) for label in labels):
        raise invalid
    try:
        numbers = [_parse_ipv4_number(label) for label in labels]
    except ValueError:  # an octal part with an 8 or 9 in it
        raise invalid from None
    *leading, last = numbers
    if any(number > 255 for number in leading) or last >= 256 ** (5 - len(numbers)):
        raise invalid
    value = last
    for position, number in enumerate(leading):
        value += number << (8 * (3 - position))
    return ipaddress.IPv4Address(value)


def check_url(url: str) -> str:
    """Check a URL before any network traffic; return it normalised, or raise Refused.

    The normalised form has a lower-case scheme and host, IDNA-encoded names, numeric hosts in
    canonical form (http://2130706433/ would become http://127.0.0.1/, were it allowed), no
    default port, and no fragment (a fragment is never sent to the server).
    """
    if not isinstance(url, str):
        raise Refused("refused: not a URL")
    url = url.strip()
    scheme = url.partition(":")[0].lower() if ":" in url else ""
    if scheme not in SCHEMES:
        raise Refused("refused: only http and https URLs can be captured")
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError) as exc:
        # httpx rejects dotted forms with octal parts (0177.0.0.1) outright; say what they are.
        _judge_numeric_host(urllib.parse.urlsplit(url).hostname or "")
        raise Refused(f"refused: this is not a valid URL ({exc})") from exc
    if parsed.scheme not in SCHEMES:
        raise Refused("refused: only http and https URLs can be captured")
    if parsed.userinfo:
        raise Refused("refused: URLs with user names or passwords are not captured")
    if parsed.port is not None and not 1 <= parsed.port <= 65535:
        raise Refused(f"refused: {parsed.port} is not a valid port")
    host = parsed.raw_host.decode("ascii")
    if not host:
        raise Refused("refused: the URL has no host name")

    address: IPAddress | None
    if ":" in host:  # httpx only lets a bracketed IPv6 literal through with a colon in it
        try:
            address = ipaddress.IPv6Address(host)
        except ValueError as exc:
            raise Refused(f"refused: {host} is not a valid IP address") from exc
    else:
        address = _numeric_ipv4(host)
        if address is None and not _HOST_NAME.fullmatch(host):
            raise Refused(f"refused: {host} is not a valid host name")

    if address is not None:
        what = _judge(address)
        if what is not None:
            raise Refused(f"refused: {_explain(host, address, what)}")
        parsed = parsed.copy_with(host=str(address))
    if not urllib.parse.urlsplit(str(parsed)).path:  # http://example.com asks for /: say so
        parsed = parsed.copy_with(path="/")
    return str(parsed.copy_with(fragment=None))


def _judge_numeric_host(host: str) -> None:
    """Raise Refused if host is a numeric IPv4 form of an address we may not visit."""
    try:
        address = _numeric_ipv4(host)
    except Refused:
        return
    if address is not None and (what := _judge(address)) is not None:
        raise Refused(f"refused: {_explain(host, address, what)}")


# --- Connections ------------------------------------------------------------------------------

_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "ssrf_deadline", default=None
)


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Bound every lookup, connect, read and write in this block to `seconds` from now, in all.

    httpx's timeouts are per operation, so a server that drips a byte a second never trips a
    read timeout; this wall-clock deadline does.
    """
    token = _deadline.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _deadline.reset(token)


def _remaining(timeout: float | None, timeout_class: type[Exception]) -> float | None:
    """The timeout for one operation, shortened to what is left before the deadline."""
    end = _deadline.get()
    if end is None:
        return timeout
    left = end - time.monotonic()
    if left <= 0:
        raise timeout_class("the deadline for this fetch has passed")
    return left if timeout is None else min(timeout, left)


@contextlib.contextmanager
def _socket_errors(timeout_class: type[Exception], error_class: type[Exception]) -> Iterator[None]:
    """Turn socket errors into the httpcore exceptions httpx knows how to map."""
    try:
        yield
    except TimeoutError as exc:
        raise timeout_class(str(exc) or "timed out") from exc
    except OSError as exc:
        raise error_class(str(exc)) from exc


class GuardedStream(httpcore.NetworkStream):
    """A socket connected to a checked address, which it remembers as peer_ip.

    Every read, write and TLS handshake is bounded by the deadline() in force, if any.
    """

    def __init__(self, sock: socket.socket, peer_ip: str) -> None:
        self._sock = sock
        self.peer_ip = peer_ip

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        with _socket_errors(httpcore.ReadTimeout, httpcore.ReadError):
            self._sock.settimeout(_remaining(timeout, httpcore.ReadTimeout))
            return self._sock.recv(max_bytes)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        with _socket_errors(httpcore.WriteTimeout, httpcore.WriteError):
            while buffer:
                self._sock.settimeout(_remaining(timeout, httpcore.WriteTimeout))
                sent = self._sock.send(buffer)
                buffer = buffer[sent:]

    def close(self) -> None:
        self._sock.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        # httpcore passes the URL's host name here, not the address we connected to, so the
        # certificate is verified against the name the reporter asked for.
        try:
            with _socket_errors(httpcore.ConnectTimeout, httpcore.ConnectError):
                self._sock.settimeout(_remaining(timeout, httpcore.ConnectTimeout))
                tls = ssl_context.wrap_socket(self._sock, server_hostname=server_hostname)
        except BaseException:
            self.close()
            raise
        return GuardedStream(tls, self.peer_ip)

    def get_extra_info(self, info: str) -> Any:
        if info == "peer_ip":
            return self.peer_ip
        if info == "ssl_object":  # httpcore asks it for the negotiated ALPN protocol
            return self._sock if isinstance(self._sock, ssl.SSLSocket) else None
        if info == "socket":
            return self._sock
        if info == "client_addr":
            return self._sock.getsockname()
        if info == "server_addr":
            return self._sock.getpeername()
        if info == "is_readable":
            # A keep-alive connection that is readable while idle was closed by the server.
            if self._sock.fileno() < 0:
                return True
            readable, _, _ = select.select([self._sock], [], [], 0)
            return bool(readable)
        return None


class ResolveError(httpcore.ConnectError):
    """The host name did not resolve; .temporary tells a resolver hiccup from a missing name."""

    def __init__(self, message: str, *, temporary: bool) -> None:
        super().__init__(message)
        self.temporary = temporary


_ADDRINFO = list[tuple[Any, ...]]
# EAI_AGAIN: the name server did not answer in time; EAI_SYSTEM: a local failure such as
# running out of file descriptors. Both may well work on the next try.
_TEMPORARY_RESOLVER_ERRORS = {
    code for code in (socket.EAI_AGAIN, getattr(socket, "EAI_SYSTEM", None)) if code is not None
}


def _resolve(host: str, port: int, timeout: float | None) -> _ADDRINFO:
    """socket.getaddrinfo with a timeout: the stdlib call has none and may block for long."""
    result: list[_ADDRINFO] = []
    error: list[BaseException] = []

    def lookup() -> None:
        try:
            result.append(
                socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
            )
        except BaseException as exc:
            error.append(exc)

    # A daemon thread, so a resolver stuck past the timeout never holds up the process exit.
    thread = threading.Thread(target=lookup, name=f"resolve {host}", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise httpcore.ConnectTimeout(f"looking up {host} took longer than {timeout} s")
    if error:
        exc = error[0]
        if isinstance(exc, socket.gaierror):
            temporary = exc.errno in _TEMPORARY_RESOLVER_ERRORS
            raise ResolveError(f"{host}: {exc.strerror}", temporary=temporary) from exc
        raise exc
    return result[0]


class GuardedBackend(httpcore.NetworkBackend):
    """Resolve once, check every address, connect only to a checked address."""

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        infos = _resolve(host, port, _remaining(timeout, httpcore.ConnectTimeout))
        if not infos:
            raise ResolveError(f"{host}: no addresses", temporary=False)
        # Every answer is checked, not just the first: a resolver that mixes a public and a
        # private address must not get the private one used as a fallback.
        for *_, sockaddr in infos:
            check_address(sockaddr[0], host=host)

        # Like socket.create_connection, try the addresses in order until one answers; unlike
        # it, connect to the sockaddr we checked rather than looking the name up again.
        last_error: OSError | None = None
        for family, kind, proto, _canonname, sockaddr in infos:
            sock = socket.socket(family, kind, proto)
            try:
                for option in socket_options or ():
                    sock.setsockopt(*option)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                if local_address is not None:
                    sock.bind((local_address, 0))
                sock.settimeout(_remaining(timeout, httpcore.ConnectTimeout))
                sock.connect(sockaddr)
            except OSError as exc:
                sock.close()
                last_error = exc
                continue
            except BaseException:
                sock.close()
                raise
            return GuardedStream(sock, sockaddr[0])
        error_class = (
            httpcore.ConnectTimeout
            if isinstance(last_error, TimeoutError)
            else httpcore.ConnectError
        )
        raise error_class(f"connecting to {host}: {last_error}") from last_error

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        raise Refused("refused: Unix sockets are not fetched")


@functools.cache
def _default_ssl_context() -> ssl.SSLContext:
    """One verifying TLS context per process: building one loads the CA bundle (~20 ms, 43% of
    a capture's time in bench/snapshots.py). SSLContext is safe to share between connections."""
    return httpx.create_ssl_context(verify=True, trust_env=False)


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport with its connection pool on GuardedBackend and no proxy."""

    def __init__(
        self,
        *,
        verify: ssl.SSLContext | str | bool = True,
        cert: Any = None,
        http1: bool = True,
        http2: bool = False,
        limits: httpx.Limits | None = None,
    ) -> None:
        limits = limits or httpx.Limits(max_connections=10, max_keepalive_connections=5)
        if verify is True and cert is None:
            ssl_context = _default_ssl_context()
        else:
            ssl_context = httpx.create_ssl_context(verify=verify, cert=cert, trust_env=False)
        super().__init__(verify=ssl_context, trust_env=False, http1=http1, http2=http2)
        # HTTPTransport takes no network backend, so replace the pool it built with one that
        # has ours, configured the same way.
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            http1=http1,
            http2=http2,
            network_backend=GuardedBackend(),
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        # The URL checks too, so callers that let httpx follow redirects (registries) get every
        # hop checked the same way fetch() does.
        check_url(str(request.url))
        return super().handle_request(request)


_TRANSPORT_KWARGS = ("verify", "cert", "http1", "http2", "limits")
_BYPASS_KWARGS = ("transport", "mounts", "proxy", "trust_env", "app")


def guarded_client(**httpx_kwargs: Any) -> httpx.Client:
    """An httpx.Client whose every connection goes through the SSRF guard.

    Takes httpx.Client's keyword arguments, except those that would route around the guard
    (transport, mounts, proxy, trust_env). Environment proxies and .netrc are ignored: a proxy
    would make the proxy's address, not the target's, the one checked.
    """
    bypass = sorted(set(httpx_kwargs) & set(_BYPASS_KWARGS))
    if bypass:
        raise TypeError(f"guarded_client() does not take {', '.join(bypass)}: it would bypass")
    transport_kwargs = {k: httpx_kwargs.pop(k) for k in _TRANSPORT_KWARGS if k in httpx_kwargs}
    return httpx.Client(
        transport=GuardedTransport(**transport_kwargs), trust_env=False, **httpx_kwargs
    )


def peer_address(response: httpx.Response) -> str:
    """The address the response came from: the one the guard checked and connected to."""
    stream = response.extensions.get("network_stream")
    peer = stream.get_extra_info("peer_ip") if stream is not None else None
    if peer is None:
        raise RuntimeError("this response did not come through guarded_client()")
    return peer
