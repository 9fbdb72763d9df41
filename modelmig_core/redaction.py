"""Secrets kept out of everything modelmig prints.

A connection URL is parsed once into its parts (``split_url``); what is secret
is read from the parts, never pattern-matched over the text: the password of
the user part, and every query option whose name holds ``password``,
``passwd``, ``pwd``, ``secret`` or ``token``. A password is often interpolated
raw (``postgresql://app:${PG_PASSWORD}@db/app``), so it may hold ``/ ? # @ :``
that a URL parser reads as structure; the user part therefore ends at the
*last* ``@`` of the URL, and every other reading a client library might take
(the standard one, up to the first ``/``) counts as secret too.

Two places use the parts:

- ``redact(url)``: the URL as it is shown (status headers, summaries, errors,
  ``--json``), each secret as ``***``.
- ``scrub(text)``: any text (an error from a client library, a warning, a
  traceback, a JSON document) with every known secret replaced by ``***``, in
  every form it may take there: as written, percent-decoded, percent-encoded
  (either case of hex digits), escaped by ``repr`` or JSON, and each piece of it
  between the characters a parser splits at (a library that misreads a raw
  ``/`` reports the half after it). Secrets are known from the URLs of the
  configuration (``remember_url``), from the ``${VAR}`` values interpolated
  into a password position (``remember``), and from every URL ``redact`` saw.

A secret (or piece) shorter than ``MIN_SECRET`` characters is redacted where it
sits in a URL but not searched for in free text: scrubbing every ``ab`` from an
error would garble it and protect nothing.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import quote, quote_plus, unquote, unquote_plus, urlsplit

MASK = "***"
MIN_SECRET = 4
SECRET_WORDS = ("password", "passwd", "pwd", "secret", "token", "authmechanismproperties")
_SPLITTERS = "/?#@:[]&=;, %"  # where a client library's parser may cut a raw password


@dataclass(frozen=True)
class UrlParts:
    """A URL as written: ``scheme://[user[:password]@]hosts[/path][?query]``. Every
    part raw (percent-encoding kept); ``password`` None when the URL has none."""

    scheme: str
    user: str | None
    password: str | None
    hosts: str
    path: str
    query: tuple[tuple[str, str | None], ...]

    def secret_query(self) -> list[str]:
        return [v for k, v in self.query if v is not None and is_secret_key(k)]


def is_secret_key(key: str) -> bool:
    name = unquote_plus(key).strip().lower()
    return any(word in name for word in SECRET_WORDS)


def _user_ok(userinfo: str) -> bool:
    """A user part (before the first ':') holds no URL structure; a password may."""
    user = userinfo.split(":", 1)[0]
    return not any(c in user for c in "/?#")


def split_url(url: str) -> UrlParts | None:
    """The parts of ``url``; None when it is not ``scheme://...``."""
    scheme, sep, rest = url.partition("://")
    if not sep or not scheme or any(c in scheme for c in "/?#@:"):
        return None
    userinfo: str | None = None
    after = rest
    if not rest.startswith("/"):
        at = rest.rfind("@")
        if at >= 0 and _user_ok(rest[:at]):
            userinfo, after = rest[:at], rest[at + 1 :]
        else:  # the standard reading: the authority ends at the first / ? or #
            end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
            authority = rest[:end]
            if "@" in authority:
                at = authority.rfind("@")
                userinfo, after = authority[:at], rest[at + 1 :]
    end = min((i for i in (after.find(c) for c in "/?") if i >= 0), default=len(after))
    hosts, tail = after[:end], after[end:]
    path, qmark, query_text = tail.partition("?")
    query: list[tuple[str, str | None]] = []
    if qmark:
        for pair in query_text.split("&"):
            key, eq, value = pair.partition("=")
            query.append((key, value if eq else None))
    user = password = None
    if userinfo is not None:
        user, colon, pw = userinfo.partition(":")
        password = pw if colon else None
    return UrlParts(scheme, user, password, hosts, path, tuple(query))


def redact(url: str) -> str:
    """``url`` as it may be shown: the password and every secret query option as
    ``***``. Its secrets are remembered, so that ``scrub`` finds them in any other
    text (a client library's error about the same URL)."""
    remember_url(url)
    parts = split_url(url)
    if parts is None:
        return MASK if any(w in url.lower() for w in SECRET_WORDS) else url
    out = f"{parts.scheme}://"
    if parts.user is not None:
        out += parts.user + (f":{MASK}" if parts.password is not None else "") + "@"
    out += parts.hosts + parts.path
    if parts.query:
        pairs = []
        for key, value in parts.query:
            if value is None:
                pairs.append(key)
            else:
                pairs.append(f"{key}={MASK if is_secret_key(key) else value}")
        out += "?" + "&".join(pairs)
    return out


# ---------------------------------------------------------------- the secrets of a URL


def _candidates(url: str) -> set[str]:
    """Every value that some reading of ``url`` takes for a password or secret option."""
    found: set[str] = set()
    parts = split_url(url)
    if parts is None:
        return found
    if parts.password is not None:
        found.add(parts.password)
    found.update(parts.secret_query())
    try:  # the standard library's reading (what a client built on it sees)
        std = urlsplit(url)
        if std.password:
            found.add(std.password)
        for key, _, value in (p.partition("=") for p in std.query.split("&")):
            if value and is_secret_key(key):
                found.add(value)
    except ValueError:
        pass
    rest = url.partition("://")[2]  # SQLAlchemy's reading: the password ends at the first '@'
    user, colon, tail = rest.partition(":")
    if colon and "@" in tail and not any(c in user for c in "/?#@"):
        found.add(tail.split("@", 1)[0])
    return found


def _pieces(secret: str) -> set[str]:
    """``secret`` and each run of it between characters a parser may cut at."""
    cuts = [i for i, c in enumerate(secret) if c in _SPLITTERS]
    starts = [0, *(i + 1 for i in cuts)]
    ends = [*cuts, len(secret)]
    return {secret[s:e] for s in starts for e in ends if e > s}


def forms(secret: str) -> set[str]:
    """Every form ``secret`` (and each piece of it) may take in a message."""
    pieces: set[str] = set()
    for value in {secret, unquote(secret), unquote_plus(secret)}:
        pieces |= _pieces(value)
    out: set[str] = set()
    for piece in pieces:
        if len(piece.strip()) < MIN_SECRET:
            continue
        out.update(
            (
                piece,
                quote(piece, safe=""),
                quote(piece),
                quote_plus(piece, safe=""),
                repr(piece)[1:-1],
                json.dumps(piece)[1:-1],
                piece.encode("unicode_escape").decode("ascii"),
                repr(piece.encode("utf-8", "surrogateescape"))[2:-1],
            )
        )
    lower_hex = {re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), f) for f in out if "%" in f}
    return {f for f in out | lower_hex if len(f.strip()) >= MIN_SECRET}


@lru_cache(maxsize=256)
def url_secrets(url: str) -> frozenset[str]:
    """The secrets of ``url``, in every form (see ``forms``)."""
    out: set[str] = set()
    for candidate in _candidates(url):
        out |= forms(candidate)
    return frozenset(out)


# ---------------------------------------------------------------- what is known, and scrubbing


class _Known:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.secrets: set[str] = set()
        self.pattern: re.Pattern[str] | _Literal | None = None

    def add(self, values: Iterable[str]) -> None:
        with self.lock:
            new = set(values) - self.secrets
            if new:
                self.secrets |= new
                self.pattern = None

    def compiled(self) -> re.Pattern[str] | _Literal | None:
        with self.lock:
            if self.pattern is None and self.secrets:
                try:
                    self.pattern = _pattern(self.secrets)
                except (RecursionError, re.error, OverflowError):
                    self.pattern = _Literal(self.secrets)
            return self.pattern


_known = _Known()


def _pattern(secrets: Iterable[str]) -> re.Pattern[str]:
    """One regular expression for many literal strings, as a trie (an alternation
    of thousands of strings would be tried one by one at every position); the
    longest match wins."""
    trie: dict[str, Any] = {}
    for secret in secrets:
        node = trie
        for ch in secret:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict[str, Any]) -> str:
        alternatives = []
        for ch, child in sorted(node.items()):
            if not ch:
                continue
            run = [ch]
            while len(child) == 1 and "" not in child:  # a chain of single letters: no group
                (next_ch, child), *_ = child.items()
                run.append(next_ch)
            alternatives.append(re.escape("".join(run)) + emit(child))
        if not alternatives:
            return ""
        body = alternatives[0] if len(alternatives) == 1 else "(?:" + "|".join(alternatives) + ")"
        return f"(?:{body})?" if "" in node else body

    return re.compile(emit(trie))


class _Literal:
    """The fallback when the trie is too deep for ``re``: each secret replaced in
    turn, longest first."""

    def __init__(self, secrets: Iterable[str]) -> None:
        self.secrets = sorted(secrets, key=lambda s: (-len(s), s))

    def sub(self, mask: str, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, mask)
        return text


def remember(*values: str) -> None:
    """Secrets (a password interpolated from the environment) that no output may show."""
    found: set[str] = set()
    for value in values:
        if value:
            found |= forms(value)
    _known.add(found)


def remember_url(url: str) -> None:
    """The secrets of ``url`` (see ``url_secrets``), remembered for ``scrub``."""
    _known.add(url_secrets(url))


def forget() -> None:
    """Start again with no known secret (each command of the CLI)."""
    with _known.lock:
        _known.secrets = set()
        _known.pattern = None


def scrub(text: str, *urls: str) -> str:
    """``text`` with every known secret, and those of ``urls``, as ``***``."""
    for url in urls:
        remember_url(url)
    pattern = _known.compiled()
    if pattern is None or not text:
        return text
    return pattern.sub(MASK, text)


def scrub_value(value: Any) -> Any:
    """A JSON-able value with every string in it scrubbed (keys too)."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {scrub_value(k): scrub_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub_value(v) for v in value]
    return value
