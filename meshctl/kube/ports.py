"""Which port of a Service (or listener of a Gateway) a URL uses, and its scheme.

* **Port**: by ``--port`` name or number (never by position); one port is that port; with
  several, a preferred name (``http``, ``http2``, ``http-web``; for the ingress gateway
  ``http2`` then ``http``), then a name starting with ``http-``, then ``appProtocol: http``,
  then port 80 or 8080. Istio's ``status-port`` (15021) is never chosen unless asked for. When
  the choice was made among several ports, a note says which one and how to pick another.
* **Scheme**: ``--scheme``, else ``https`` when the port is named ``https``/``https-*``, has
  ``appProtocol: https`` or is 443, else ``http``.
"""

from __future__ import annotations

from meshctl.errors import NotFoundError, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it is start-up cost
    from collections.abc import Iterable, Mapping, Sequence
    from typing import Any

    Obj = Mapping[str, Any]

HTTP_PORT_NAMES = ("http", "http2", "http-web")
INGRESS_HTTP_PORT_NAMES = ("http2", "http")
STATUS_PORT_NAME = "status-port"
STATUS_PORT = 15021
SCHEMES = ("http", "https")


def parse_port(value: str | int | None) -> str | int | None:
    """``--port``: a number (``"8080"``) or a name (``"http2"``)."""
    if value is None or isinstance(value, int):
        return value
    text = value.strip()
    if not text:
        raise UsageError("--port needs a port name or number")
    if text.isdigit():
        number = int(text)
        if not 0 < number < 65536:
            raise UsageError(f"--port {text}: a port number is between 1 and 65535")
        return number
    return text


def check_scheme(scheme: str | None) -> str | None:
    if scheme is not None and scheme not in SCHEMES:
        raise UsageError(f"--scheme {scheme}: choose one of {', '.join(SCHEMES)}")
    return scheme


def port_label(entry: Obj) -> str:
    """``http2 (80)``, or ``80`` for an unnamed port."""
    name, number = entry.get("name"), entry.get("port")
    return f"{name} ({number})" if name else str(number)


def port_scheme(entry: Obj, protocol_key: str = "appProtocol") -> str:
    """``https`` for a port named https/https-*, with appProtocol https, or numbered 443."""
    name = str(entry.get("name") or "").lower()
    protocol = str(entry.get(protocol_key) or "").lower()
    if name == "https" or name.startswith("https-") or protocol in ("https", "tls"):
        return "https"
    if entry.get("port") == 443:
        return "https"
    return "http"


def _is_status_port(entry: Obj) -> bool:
    return entry.get("name") == STATUS_PORT_NAME or entry.get("port") == STATUS_PORT


def _looks_http(entry: Obj, protocol_key: str) -> bool:
    name = str(entry.get("name") or "").lower()
    protocol = str(entry.get(protocol_key) or "").lower()
    return (name.startswith("http-") or name.startswith("http2-")
            or protocol in ("http", "http2", "h2c", "kubernetes.io/h2c"))


def choose_port(
    entries: Sequence[Obj],
    wanted: str | int | None,
    *,
    what: str,
    preferred: Sequence[str] = HTTP_PORT_NAMES,
    skip_status: bool = False,
    protocol_key: str = "appProtocol",
    port_word: str = "port",
) -> tuple[Obj, str | None]:
    """The port (or Gateway listener) to use, and a note when it was chosen among several.

    ``wanted`` is ``--port``: a number matches ``port``, a name matches ``name``; a miss is a
    usage error listing the choices. ``what`` names the owner in messages (``service "x"``).
    """
    entries = [e for e in entries if isinstance(e, dict)]
    if not entries:
        raise NotFoundError(f"{what} has no {port_word}s")
    choices = ", ".join(port_label(e) for e in entries)
    if wanted is not None:
        key = "port" if isinstance(wanted, int) else "name"
        for entry in entries:
            if entry.get(key) == wanted:
                return entry, None
        raise UsageError(f"{what} has no {port_word} {wanted}; its {port_word}s: {choices}")
    candidates = [e for e in entries if not (skip_status and _is_status_port(e))]
    if len(entries) == 1 and candidates:
        return entries[0], None
    if not candidates:
        raise NotFoundError(f"{what} has only a status {port_word}: {choices}")
    chosen = _preferred(candidates, preferred, protocol_key)
    if chosen is None:
        raise UsageError(
            f"{what} has several {port_word}s and none looks like HTTP: "
            f"choose one with --port ({choices})")
    others = [port_label(e) for e in entries if e is not chosen]
    note = (f"{what} has {len(entries)} {port_word}s; using {port_label(chosen)}; "
            f"--port chooses another: {', '.join(others)}")
    return chosen, note


def _preferred(candidates: list[Obj], preferred: Sequence[str], protocol_key: str) -> Obj | None:
    by_name = {e.get("name"): e for e in candidates}
    for name in preferred:
        if name in by_name:
            return by_name[name]
    for entry in candidates:
        if _looks_http(entry, protocol_key):
            return entry
    for number in (80, 8080):
        for entry in candidates:
            if entry.get("port") == number:
                return entry
    return None


def named_port(entries: Iterable[Obj], names: Sequence[str], number: int | None) -> Obj | None:
    entries = [e for e in entries if isinstance(e, dict)]
    for name in names:
        for entry in entries:
            if entry.get("name") == name:
                return entry
    for entry in entries:
        entry_name = str(entry.get("name") or "")
        if any(entry_name.startswith(name + "-") for name in names):
            return entry
    if number is not None:
        for entry in entries:
            if entry.get("port") == number:
                return entry
    return None
