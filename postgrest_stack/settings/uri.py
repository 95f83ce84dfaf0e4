"""URIs and host names, as the settings' checkers read them.

- :func:`parse_uri`: an absolute URI by RFC 3986's generic syntax, as PostgREST's URI
  parser (Haskell network-uri) applies it (``jwt_audience``, ``public_api_url``,
  ``acme_ca``);
- :func:`host_and_port`: the ``HOST[:PORT]`` of an http(s) URL (``jwks_url``,
  ``apt_proxy``);
- :data:`DOMAIN`, a DNS name; :data:`EXTERNAL_DB`, the one shape ``external_db_uri``
  takes, also read for the address PostgREST reaches the database at.

Pure: regular expressions and :mod:`ipaddress`, nothing of the settings.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
#: A DNS name: labels of letters, digits and inner '-', 253 characters at most.
DOMAIN = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*$")
#: external_db_uri: postgres://HOST[:PORT]/DBNAME[?QUERY] (groups: host, port, db, query).
EXTERNAL_DB = re.compile(
    r"^postgres(?:ql)?://(?P<host>[A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\])(?::(?P<port>\d{1,5}))?"
    r"/(?P<db>[a-z_][a-z0-9_]*)(?P<query>\?[A-Za-z0-9_=&-]*)?$"
)

# RFC 3986 (URI generic syntax), as PostgREST's URI parser (Haskell network-uri) applies it.
_UNRESERVED = r"A-Za-z0-9\-._~"
_SUB_DELIMS = r"!$&'()*+,;="
_PCT = r"%[0-9A-Fa-f]{2}"
_PCHAR = rf"(?:[{_UNRESERVED}{_SUB_DELIMS}:@]|{_PCT})"
_URI = re.compile(
    rf"^(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*):"
    rf"(?:(?://(?P<authority>[^/?#]*)(?P<abempty>(?:/{_PCHAR}*)*))|(?P<path>/?(?:{_PCHAR}+(?:/{_PCHAR}*)*)?))"
    rf"(?:\?(?P<query>(?:{_PCHAR}|[/?])*))?"
    rf"(?:#(?P<fragment>(?:{_PCHAR}|[/?])*))?$"
)
_AUTHORITY = re.compile(
    rf"^(?:(?P<userinfo>(?:[{_UNRESERVED}{_SUB_DELIMS}:]|{_PCT})*)@)?"
    rf"(?P<host>\[[^\]]*\]|(?:[{_UNRESERVED}{_SUB_DELIMS}]|{_PCT})*)"
    r"(?::(?P<port>[0-9]*))?$"
)
_IPV_FUTURE = re.compile(rf"^v[0-9A-Fa-f]+\.[{_UNRESERVED}{_SUB_DELIMS}:]+$")


@dataclass(frozen=True)
class Uri:
    """The parts of an absolute URI that the checkers look at."""

    scheme: str
    userinfo: str | None
    host: str | None  # None: no authority
    port: str | None
    query: str | None
    fragment: str | None


def parse_uri(text: str) -> Uri | None:
    """``text`` as an absolute RFC 3986 URI, or None when it is not one."""
    match = _URI.match(text)
    if not match:
        return None
    host = userinfo = port = None
    if match["authority"] is not None:
        authority = _AUTHORITY.match(match["authority"])
        if not authority:
            return None
        host, userinfo, port = authority["host"], authority["userinfo"], authority["port"]
        if host.startswith("["):
            literal = host[1:-1]
            if not _IPV_FUTURE.match(literal):
                try:
                    ipaddress.IPv6Address(literal)
                except ValueError:
                    return None
    return Uri(match["scheme"], userinfo, host, port, match["query"], match["fragment"])


def valid_port(text: str | None) -> bool:
    """``text`` is a port number from 1 to 65535 (digits only)."""
    return text is not None and text.isdigit() and 1 <= int(text) <= 65535


def host_and_port(netloc: str) -> tuple[str, str | None] | None:
    """``HOST[:PORT]`` (host a DNS name, an IPv4 address or a bracketed IPv6 address)."""
    match = re.fullmatch(r"(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(?P<port>[^:]*))?", netloc)
    if not match:
        return None
    host = match["host"]
    if host.startswith("["):
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            return None
    elif not DOMAIN.match(host):
        return None
    return host, match["port"]

