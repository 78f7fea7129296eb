"""Read: files, directories, URLs and stdin, split into documents that keep their source text.

The stream is split on the text, not through a parser: a line that starts with ``---`` or
``...`` at column 0 is a document marker wherever it appears (YAML forbids such lines inside
content), so splitting on them is exact and costs nothing. Concatenating every chunk's text gives
back the input byte for byte, which is how untouched documents come out identical.

Every document is checked later, by the pipeline: documents that may be workloads are composed
into nodes, the others are walked event by event (:mod:`meshctl.yamltext.check`: syntax,
duplicate keys, nesting, alias bombs), so a broken document anywhere fails the run before
anything is written. Reading itself refuses what cannot be a manifest: an input larger than
:data:`MAX_INPUT_BYTES` (checked before it is read whole), a document larger than
:data:`MAX_DOCUMENT_CHARS`, text that is not UTF-8, classic Mac line endings (a bare CR), and
from a URL, a page that is HTML rather than YAML or JSON.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Callable, Iterable, Iterator

from meshctl.errors import InputError

YAML_SUFFIXES = (".yaml", ".yml", ".json")
#: the largest input read (a file, stdin or a URL); larger ones are refused before being read
MAX_INPUT_BYTES = 64 * 1024 * 1024
#: the largest document (the API server takes request bodies of 3 MiB at most)
MAX_DOCUMENT_CHARS = 8 * 1024 * 1024
#: what a command says when it is given no input
NO_INPUT = "filename not specified (see --filename or -f)"

_DOC_START = re.compile(r"---(?:[ \t\r\n]|$)")
_DOC_END = re.compile(r"\.\.\.(?:[ \t\r\n]|$)")
_CONTENT = re.compile(r"^[ \t]*[^ \t\r\n#]", re.M)
#: A top-level ``kind:`` line of a block mapping; good enough to decide that a document
#: certainly is *not* a workload. Anything unusual falls back to parsing.
_TOP_KIND = re.compile(
    r"^kind[ \t]*:[ \t]*([\"']?)([A-Za-z][A-Za-z0-9]*)\1[ \t]*(?:#.*)?\r?$", re.M
)


class Chunk:
    """One document of a source, with the exact text it came from.

    ``text`` includes the document's own marker line (``---``), the comments around it and a
    trailing ``...``. ``index`` is the 1-based document number within its source, the way a YAML
    parser counts documents; ``start_line`` is the 1-based line of ``text``'s first line.
    """

    __slots__ = ("source", "index", "text", "start_line", "is_json", "_content", "parse")

    source: str
    index: int
    text: str
    start_line: int
    is_json: bool
    _content: bool | None
    #: whether the document may be a workload (meshctl.manifests.find.needs_parse, kept here
    #: once decided: several steps ask)
    parse: bool | None

    def __init__(self, source: str, index: int, text: str, start_line: int,
                 is_json: bool = False) -> None:
        self.source = source
        self.index = index
        self.text = text
        self.start_line = start_line
        self.is_json = is_json
        self._content = None
        self.parse = None

    def has_content(self) -> bool:
        """Whether the document holds more than comments, blank lines and markers (asked
        once the stream is split: the answer is kept)."""
        if self._content is None:
            self._content = _CONTENT.search(self.text) is not None and any(
                not _is_marker_or_comment(line) for line in self.text.splitlines()
            )
        return self._content

    def kind_hint(self) -> str | None:
        """The top-level kind, read off the text without parsing; None when unsure."""
        if self.is_json:
            return None
        found = _TOP_KIND.findall(self.text)
        if len(found) != 1:
            return None
        return str(found[0][1])

    def line_of_offset(self, offset: int) -> int:
        return self.start_line + self.text.count("\n", 0, offset)

    def first_line(self) -> int:
        """The line of the document's first content (not a comment, blank or ``---``)."""
        for offset, line in enumerate(self.text.splitlines()):
            stripped = line.strip()
            if stripped and not stripped.startswith("#") and stripped != "---":
                return self.start_line + offset
        return self.start_line


def _is_marker_or_comment(line: str) -> bool:
    stripped = line.strip()
    return (
        not stripped
        or stripped.startswith("#")
        or stripped.startswith("%")
        or stripped in ("---", "...")
        or (
            stripped.startswith("---")
            and stripped[3:4] in (" ", "\t")
            and _only_comment(stripped[3:])
        )
    )


def _only_comment(rest: str) -> bool:
    rest = rest.strip()
    return not rest or rest.startswith("#")


class Source:
    """An input as read: its display name, full text and documents."""

    __slots__ = ("name", "text", "path", "bom", "chunks")

    name: str
    text: str
    path: str | None  # the file, when the input is one (in-place writes go there)
    bom: bool
    chunks: list[Chunk]

    def __init__(self, name: str, text: str, path: str | None = None, bom: bool = False,
                 chunks: list[Chunk] | None = None) -> None:
        self.name = name
        self.text = text
        self.path = path
        self.bom = bom
        self.chunks = [] if chunks is None else chunks

    @property
    def is_json(self) -> bool:
        return bool(self.chunks) and all(c.is_json for c in self.chunks if c.has_content())


def split_yaml(text: str, source: str) -> list[Chunk]:
    """Split a YAML stream into chunks at document markers; see the module docstring.

    Leading comment-only text before the first ``---`` is kept with the first document, so
    the document numbers match a YAML parser's.
    """
    pieces: list[tuple[int, str]] = []  # (start line, text)
    cur: list[str] = []
    cur_start = 1
    lineno = 1
    for line in text.splitlines(keepends=True):
        if _DOC_START.match(line) and cur:
            pieces.append((cur_start, "".join(cur)))
            cur, cur_start = [], lineno
        cur.append(line)
        if _DOC_END.match(line):
            pieces.append((cur_start, "".join(cur)))
            cur, cur_start = [], lineno + 1
        lineno += 1
    if cur:
        pieces.append((cur_start, "".join(cur)))

    chunks: list[Chunk] = []
    pending_prefix = ""
    pending_start: int | None = None
    for start, body in pieces:
        is_doc = _DOC_START.match(body) is not None or _has_content(body)
        if not is_doc:
            # comments/blank lines/directives: carry them into the next document, or keep
            # them as a trailing chunk when nothing follows.
            if pending_start is None:
                pending_start = start
            pending_prefix += body
            continue
        chunks.append(
            Chunk(
                source=source,
                index=len(chunks) + 1,
                text=pending_prefix + body,
                start_line=pending_start if pending_start is not None else start,
            )
        )
        pending_prefix, pending_start = "", None
    if pending_prefix:
        if chunks:
            chunks[-1].text += pending_prefix
        else:
            chunks.append(Chunk(source, 1, pending_prefix, pending_start or 1))
    return chunks


def _has_content(body: str) -> bool:
    return any(not _is_marker_or_comment(line) for line in body.splitlines())


def split_json(text: str, source: str) -> list[Chunk] | None:
    """Split a stream of JSON values (``{...}{...}`` or one per line); None if it is not JSON."""
    decoder = json.JSONDecoder()
    chunks: list[Chunk] = []
    pos = 0
    n = len(text)
    prev_end = 0
    while True:
        while pos < n and text[pos] in " \t\r\n":
            pos += 1
        if pos >= n:
            break
        try:
            _, end = decoder.raw_decode(text, pos)
        except ValueError:
            return None
        except RecursionError:
            raise InputError("nested too deeply", source=source, document=len(chunks) + 1,
                             line=text.count("\n", 0, pos) + 1) from None
        chunks.append(
            Chunk(
                source=source,
                index=len(chunks) + 1,
                text=text[prev_end:end],
                start_line=text.count("\n", 0, prev_end) + 1,
                is_json=True,
            )
        )
        pos = prev_end = end
    if not chunks:
        return None
    if prev_end < n:
        chunks[-1].text += text[prev_end:]
    return chunks


def parse_source(name: str, text: str, path: str | None = None) -> Source:
    """Split an input into documents (see the module docstring for what is refused here)."""
    bom = text.startswith("\ufeff")
    if bom:
        text = text[1:]
    src = Source(name=name, text=text, path=path, bom=bom)
    if "\r" in text:
        _check_line_endings(name, text)
    stripped = text.lstrip()
    chunks = split_json(text, name) if stripped[:1] in ("{", "[") else None
    src.chunks = chunks if chunks is not None else split_yaml(text, name)
    for chunk in src.chunks:
        if len(chunk.text) > MAX_DOCUMENT_CHARS:
            raise InputError(f"document larger than {MAX_DOCUMENT_CHARS // 2**20} MiB "
                             f"({len(chunk.text) // 2**20} MiB): no Kubernetes object is that "
                             "big", source=name, document=chunk.index, line=chunk.start_line)
    return src


_BARE_CR = re.compile(r"\r(?!\n)")


def _check_line_endings(name: str, text: str) -> None:
    """Classic Mac line endings (CR alone) are refused: YAML reads a CR as a line break, most
    tools do not (meshctl's own line splitting would not find the document markers)."""
    found = _BARE_CR.search(text)
    if found is None:
        return
    offset = found.start()
    line = text.count("\n", 0, offset) + text.count("\r", 0, offset) - text.count(
        "\r\n", 0, offset) + 1
    src = Source(name, text[:offset])
    src.chunks = split_yaml(src.text, name)
    raise InputError("line ends with a bare CR (classic Mac line endings); convert the file to "
                     "LF (or CRLF) line endings", source=name,
                     document=len(src.chunks) or 1, line=line)


Fetcher = Callable[[str], bytes]


def _fetch_url(url: str) -> bytes:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=30) as resp:  # noqa: S310 (user asked for it)
            kind = str(resp.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            if kind in ("text/html", "application/xhtml+xml"):
                raise InputError(f"the URL returned an HTML page ({kind}), not YAML or JSON",
                                 source=url)
            return _bounded(resp.read(MAX_INPUT_BYTES + 1), url)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise InputError(f"cannot fetch: {reason}", source=url) from None


def _bounded(data: bytes, name: str, size: int = 0) -> bytes:
    """``data`` (read with a limit of one byte more than allowed), or the error for an input
    larger than :data:`MAX_INPUT_BYTES` (``size``: known before reading)."""
    if max(size, len(data)) > MAX_INPUT_BYTES:
        raise InputError(f"larger than {MAX_INPUT_BYTES // 2**20} MiB: not a manifest meshctl "
                         "reads", source=name)
    return data


def _decode(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        good = data[: exc.start].decode("utf-8")
        line = good.count("\n") + 1
        document = len(split_yaml(good + "x", name))
        raise InputError(f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset "
                         f"{exc.start}): binary data, or another encoding", source=name,
                         document=document, line=line) from None


def _looks_like_markup(text: str) -> bool:
    """An HTML or XML page (a URL that answered with a login page, an error page...)."""
    head = text.lstrip()[:200].lower()
    return head.startswith(("<!doctype", "<html", "<?xml", "<head", "<body"))


def expand_paths(names: Iterable[str], recursive: bool,
                 warnings: list[str] | None = None) -> Iterator[str]:
    """Files named, and the manifest files of directories named (sorted, like kubectl -f DIR).

    A directory's entries named like manifests are read when they are regular files (or
    symbolic links to one), with and without ``recursive`` alike (:func:`_read_entry`). A
    directory without any manifest file is an error (a typo in a path, an empty checkout)."""
    for name in names:
        if name == "-" or name.startswith(("http://", "https://")):
            yield name
            continue
        if os.path.isdir(name):
            path = _display_path(name)
            entries: list[str] = []
            if recursive:
                for root, dirs, files in os.walk(path):
                    dirs.sort()
                    entries.extend(os.path.join(root, f) for f in sorted(files))
            else:
                entries = [_join(path, f) for f in sorted(os.listdir(path))]
            found = [e for e in entries if e.endswith(YAML_SUFFIXES) and _read_entry(e, warnings)]
            if not found:
                below = " or below" if recursive else ""
                raise InputError(f"no manifests (*.yaml, *.yml, *.json) in the directory{below}",
                                 source=path)
            yield from found
        else:
            yield name


_NOT_REGULAR = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"),
                (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))


def _read_entry(path: str, warnings: list[str] | None) -> bool:
    """Whether a directory's entry named like a manifest is read: a regular file is (a link to
    one too). Any other file (FIFO, socket, device: reading it may never end) is skipped with a
    warning, a directory silently (``-R`` descends into real ones); a dangling symbolic link is
    an error, like a missing file named by ``-f``."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        target = os.readlink(path) if os.path.islink(path) else "?"
        raise InputError(f"dangling symbolic link (to {target})", source=path) from None
    except OSError as exc:
        raise InputError(exc.strerror or str(exc), source=path) from None
    if stat.S_ISREG(mode):
        return True
    kind = next((what for test, what in _NOT_REGULAR if test(mode)), None)
    if kind is not None and warnings is not None:
        warnings.append(f"{path}: not a regular file ({kind}); skipped")
    return False


def _display_path(name: str) -> str:
    """``name`` as ``str(pathlib.Path(name))`` spells it (no ``.`` parts, no doubled or trailing
    ``/``): the names of a directory's files are shown that way. (pathlib itself is not imported:
    ~2 ms of every start-up.)"""
    head = "/" if name.startswith("/") else ""
    if name.startswith("//") and not name.startswith("///"):
        head = "//"
    parts = [p for p in name.split("/") if p not in ("", ".")]
    return head + "/".join(parts) if parts or head else "."


def _join(directory: str, entry: str) -> str:
    return entry if directory == "." else os.path.join(directory, entry)


def read_sources(
    names: Iterable[str],
    *,
    recursive: bool = False,
    stdin: Callable[[int], bytes] | None = None,
    fetch: Fetcher = _fetch_url,
    warnings: list[str] | None = None,
    only_manifests: bool = False,
) -> list[Source]:
    """Read every input fully (so ``-o`` may name an input) and split it into documents;
    ``warnings`` gets what was skipped. With ``only_manifests``, a file that is plainly not
    Kubernetes manifests (:func:`is_manifest_file`) is skipped with a warning, not an error."""
    names = list(names)
    if not names:
        raise InputError(NO_INPUT)
    sources: list[Source] = []
    for name in expand_paths(names, recursive, warnings):
        if name == "-":
            if stdin is None:
                raise InputError("no standard input available", source="<stdin>")
            display = "<stdin>"
            src = parse_source(display, _decode(_bounded(stdin(MAX_INPUT_BYTES + 1), display),
                                                display))
        elif name.startswith(("http://", "https://")):
            text = _decode(fetch(name), name)
            if _looks_like_markup(text):
                raise InputError("the URL returned an HTML or XML page, not YAML or JSON",
                                 source=name)
            src = parse_source(name, text)
        else:
            try:
                with open(name, "rb") as fh:
                    if os.fstat(fh.fileno()).st_size > MAX_INPUT_BYTES:  # not read at all
                        _bounded(b"", name, size=os.fstat(fh.fileno()).st_size)
                    data = _bounded(fh.read(MAX_INPUT_BYTES + 1), name)
            except FileNotFoundError:
                raise InputError("no such file or directory", source=name) from None
            except IsADirectoryError:
                raise InputError("is a directory", source=name) from None
            except OSError as exc:
                raise InputError(exc.strerror or str(exc), source=name) from None
            src = parse_source(name, _decode(data, name), name)
            if only_manifests and not is_manifest_file(src):
                if warnings is not None:
                    warnings.append(f"{name}: not Kubernetes manifests; skipped")
                continue
        sources.append(src)
    return sources


#: a block mapping's top-level ``apiVersion:``/``kind:`` line
_TOP_KEY = re.compile(r"^(apiVersion|kind)[ \t]*:", re.M)


def is_manifest_file(src: Source) -> bool:
    """Whether a file holds Kubernetes objects: every document with content is a mapping with
    ``apiVersion`` and ``kind``. A file that does not parse counts as manifests when it has
    top-level ``apiVersion:`` and ``kind:`` lines (a broken manifest is an error, not skipped)."""
    from meshctl.yamltext.source import YamlSyntaxError, load_document

    for chunk in src.chunks:
        if not chunk.has_content():
            continue
        try:
            data = load_document(chunk.text).data
        except YamlSyntaxError:
            return len(set(_TOP_KEY.findall(chunk.text))) == 2
        if data is None:
            continue
        if not isinstance(data, dict) or "apiVersion" not in data or "kind" not in data:
            return False
    return True
