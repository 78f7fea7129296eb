"""Emit: turn a finished run into stdout text and files to write, per output mode.

The documents' new text is built by :mod:`meshctl.yamltext.edit` (which keeps the user's bytes);
this module only decides where it goes, and writes the files (:func:`write_files`) after the
whole run succeeded, so an error never leaves a partial file and ``-o`` may name an input.

How a file is written, as users expect from a Unix tool:

* a regular file is replaced atomically: a temp file in the same directory (so on the same
  filesystem) gets the new text, is flushed to disk, given the old file's owner, group and mode
  (a new file: ``0666`` less the umask) and renamed over the old one: readers see the old text
  or the new, never half;
* symbolic links are followed: the file they point to is replaced, the link stays a link;
* anything else (``/dev/null``, a FIFO, a terminal, ``/dev/stdout``, ``/dev/fd/N``) is written
  through, never replaced; ``--in-place`` refuses it (it rewrites files);
* with several files, every temp file is written and checked before the first rename, so a
  failure (an unwritable directory, a full disk) leaves every file as it was; errors name the
  user's path, never the temp file.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat

from meshctl.errors import OutputError
from meshctl.manifests import formats
from meshctl.manifests.results import RunResult
from meshctl.options import Mode, Options

FileWrite = tuple[str, str]
#: ``-o`` to this path is standard output itself (written like ``-o -``)
STDOUT_PATH = "/dev/stdout"


def joined_output(result: RunResult) -> str:
    """All sources as one stream: YAML joined with ``---``, JSON values one after another."""
    texts: list[str] = []
    for i, s in enumerate(result.sources):
        text = s.new_text
        if s.source.bom and i == 0:
            text = "\ufeff" + text
        if i > 0 and texts:
            prev = texts[-1]
            if prev and not prev.endswith("\n"):
                texts[-1] = prev + "\n"
            if not (
                s.source.is_json and result.sources[i - 1].source.is_json
            ) and not text.startswith("---"):
                texts.append("---\n")
        texts.append(text)
    return "".join(texts)


def emit(result: RunResult, opts: Options) -> tuple[str, list[FileWrite]]:
    """Return (text for stdout, files to write). Pure: nothing is written here."""
    if opts.mode is Mode.CHECK:
        return "", []
    if opts.mode is Mode.DIFF:
        return formats.render_diff(result), []
    if opts.mode is Mode.IN_PLACE:
        files: list[FileWrite] = []
        for s in result.sources:
            if s.changed and s.source.path is not None:
                prefix = "\ufeff" if s.source.bom else ""
                files.append((s.source.path, prefix + s.new_text))
        return "", files
    if opts.output_format == "json":
        text = formats.render_json(result)
    elif opts.output_format == "patch":
        text = formats.render_kustomize_patches(result)
    elif opts.output_format == "jsonpatch":
        text = formats.render_jsonpatch(result)
    else:
        text = joined_output(result)
    if opts.output is not None and opts.output not in ("-", STDOUT_PATH):
        return "", [(opts.output, text)]
    return text, []


#: paths that name one of meshctl's own file descriptors: written through that descriptor (its
#: offset shared with the shell's redirection), never opened anew or replaced
_DESCRIPTOR = re.compile(
    r"/dev/std(out|err)|/dev/fd/(\d+)|/proc/(?:self|thread-self|\d+)/fd/(\d+)")
#: how many symbolic links a path may go through (Linux's limit)
_MAX_LINKS = 40


class _Write:
    """One file to write: the user's name for it, where it lands, how."""

    __slots__ = ("name", "target", "text", "fd", "st", "tmp")

    def __init__(self, name: str, target: str, text: str, fd: int | None,
                 st: os.stat_result | None) -> None:
        self.name = name  # as the user wrote it: every message names it
        self.target = target  # symbolic links followed
        self.text = text
        self.fd = fd  # a descriptor of meshctl's own the path names (/dev/stderr, /dev/fd/3)
        self.st = st  # the existing file (None: a new file)
        self.tmp: str | None = None

    @property
    def through(self) -> bool:
        """Written through (a device, FIFO, descriptor), not replaced."""
        return self.fd is not None or (self.st is not None and not stat.S_ISREG(self.st.st_mode))


def _descriptor(path: str) -> int | None:
    """The descriptor of meshctl's own that ``path`` names, if it names one."""
    path = os.path.normpath(path) if path.startswith("/") else ""
    m = _DESCRIPTOR.fullmatch(path)
    if m is None or (m.group(3) and path.split("/")[2] not in ("self", "thread-self",
                                                                str(os.getpid()))):
        return None  # another process's descriptor: a path like any other
    if m.group(1):
        return 1 if m.group(1) == "out" else 2
    return int(m.group(2) or m.group(3))


def _follow(path: str) -> tuple[str, int | None]:
    """Where a write to ``path`` lands: its symbolic links followed (those of its directories
    the kernel follows), or the descriptor of meshctl's own that it names."""
    for _ in range(_MAX_LINKS):
        fd = _descriptor(path)
        if fd is not None:
            return path, fd
        try:
            link = os.readlink(path)
        except OSError:  # not a link, or missing: this is the file
            return path, None
        path = os.path.join(os.path.dirname(path), link)
    import errno

    raise OSError(errno.ELOOP, os.strerror(errno.ELOOP))


def _why(exc: OSError) -> str:
    text = exc.strerror or str(exc)
    return text[:1].lower() + text[1:]


def _plan(name: str, text: str, in_place: bool) -> _Write:
    try:
        target, fd = _follow(name)
        st = os.stat(target) if fd is None else None
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise OutputError(f"cannot write: {_why(exc)}", source=name) from None
    w = _Write(name, target, text, fd, st)
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise OutputError("cannot write: is a directory", source=name)
    if w.through and in_place:
        raise OutputError("not a regular file: --in-place only rewrites files", source=name)
    return w


def _umask() -> int:
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


def _create_temp(directory: str, base: str) -> tuple[int, str]:
    """A new, private (0600) file in ``directory``; its descriptor and path."""
    # a name that fits NAME_MAX whatever the length of the user's
    stem = base.encode("utf-8")[:200].decode("utf-8", "ignore")
    for _ in range(100):
        path = os.path.join(directory, f".{stem}.{os.urandom(4).hex()}.meshctl")
        try:
            return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600), path
        except FileExistsError:
            continue
    import errno

    raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST))


def _keep_owner(w: _Write, fd: int, warnings: list[str]) -> None:
    """Give the temp file the owner and group of the file it replaces (only root may give a
    file away: otherwise the group is kept if it can be, and a warning says what changed)."""
    assert w.st is not None
    want = (w.st.st_uid, w.st.st_gid)
    st = os.fstat(fd)
    if (st.st_uid, st.st_gid) == want:
        return
    try:
        os.fchown(fd, *want)
        return
    except PermissionError:
        with contextlib.suppress(PermissionError):
            os.fchown(fd, -1, w.st.st_gid)
    now = os.fstat(fd)
    lost = [f"{what} {old} (now {new})"
            for what, old, new in (("owner", w.st.st_uid, now.st_uid),
                                   ("group", w.st.st_gid, now.st_gid)) if old != new]
    warnings.append(f"{w.name}: could not keep its {' and '.join(lost)}: not permitted")


def _prepare(w: _Write, warnings: list[str]) -> None:
    """Write ``w``'s temp file beside its target, to disk, with the target's owner and mode."""
    directory = os.path.dirname(w.target) or "."
    if w.st is not None and not os.access(w.target, os.W_OK):
        raise OutputError("cannot write: permission denied", source=w.name)
    try:
        fd, w.tmp = _create_temp(directory, os.path.basename(w.target))
    except OSError as exc:
        raise OutputError(f"cannot create a file in {directory}: {_why(exc)}",
                          source=w.name) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(w.text.encode("utf-8"))
            fh.flush()
            if w.st is not None:
                _keep_owner(w, fd, warnings)  # before the mode: chown clears set-id bits
                os.fchmod(fd, stat.S_IMODE(w.st.st_mode))
                if w.st.st_nlink > 1:
                    warnings.append(f"{w.name}: had {w.st.st_nlink} hard links; the other "
                                    "names keep the old content")
            else:
                os.fchmod(fd, 0o666 & ~_umask())
            os.fsync(fd)
    except OSError as exc:
        raise OutputError(f"cannot write: {_why(exc)}", source=w.name) from None


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _write_through(w: _Write) -> None:
    data = w.text.encode("utf-8")
    try:
        if w.fd is not None:
            _write_all(w.fd, data)
            return
        # a FIFO waits here for its reader, as ``cat > fifo`` does
        fd = os.open(w.target, os.O_WRONLY | os.O_NOCTTY | os.O_CLOEXEC)
        try:
            _write_all(fd, data)
        finally:
            os.close(fd)
    except OSError as exc:
        raise OutputError(f"cannot write: {_why(exc)}", source=w.name) from None


def write_files(files: list[FileWrite], *, in_place: bool = False) -> list[str]:
    """Write every file (see the module docstring); the warnings (an owner that could not be
    kept, hard links broken). Raises OutputError, naming the user's path, before any file is
    replaced when anything cannot be written; ``in_place``: only regular files may be named."""
    if not files:
        return []
    writes: dict[str, _Write] = {}
    for name, text in files:
        w = _plan(name, text, in_place)
        key = f"fd:{w.fd}" if w.fd is not None else os.path.realpath(w.target)
        if key in writes and writes[key].text != text:
            raise OutputError(f"written twice with different content (also as "
                              f"{writes[key].name})", source=name)
        writes[key] = w
    plan = list(writes.values())
    warnings: list[str] = []
    directories: set[str] = set()
    try:
        for w in plan:
            if not w.through:
                _prepare(w, warnings)
        for w in plan:
            if w.through:
                _write_through(w)
        for w in plan:
            if w.tmp is not None:
                try:
                    os.replace(w.tmp, w.target)
                except OSError as exc:
                    raise OutputError(f"cannot replace: {_why(exc)}", source=w.name) from None
                w.tmp = None
                directories.add(os.path.dirname(w.target) or ".")
    finally:
        for w in plan:
            if w.tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(w.tmp)
    for directory in directories:  # the renames themselves to disk (best effort)
        with contextlib.suppress(OSError):
            dfd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
    return warnings
