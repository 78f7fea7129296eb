"""A persistent cache for what every run would otherwise rebuild: compiled templates, help text.

Why: compiling a sidecar template takes tens of milliseconds (Istio's eight templates: about
two hundred), several times what rendering one pod takes, and its result depends only on the
template's text, the function map and the code that compiles it.
Like Python's own bytecode cache, meshctl keeps that result on disk and reuses it while every
input it depends on is unchanged.

Where: ``$XDG_CACHE_HOME/meshctl`` (when that is an absolute path, as the XDG spec asks), else
``~/.cache/meshctl``. ``MESHCTL_NO_CACHE=1`` turns the cache off. The cache is an optimisation
only: a directory that cannot be created or written, an entry that is truncated, corrupt, of
another format, not owned by the user or writable by others, is treated as absent (and
rewritten when possible); nothing is ever reported.

Keys: an entry is found by the SHA-256 of everything its content depends on (see
:func:`template_key`); the file repeats the full digest, so a file renamed by hand is not
mistaken for another. Entries are written to a temporary file and renamed (atomic on POSIX),
so a reader never sees half an entry. At most :data:`MAX_ENTRIES` entries of one kind are kept.

Pickling compiled templates: gotpl's ``Template`` is a graph of frozen dataclasses; two things
in it need help to survive a round trip unchanged. Read-only dict views
(``types.MappingProxyType``) cannot be pickled: they are saved as a view of the same dict.
Module-level objects (sentinels such as gotpl's ``INVALID``, which the runtime compares by
identity) must come back as *the* object, not a copy: every module global that is not a plain
value is saved as a reference to its module and name. tests/cli/test_startup.py renders every
Istio golden input with a fresh and a round-tripped template and compares the output.
"""

from __future__ import annotations

import gc
import io
import os
import sys
import types

TYPE_CHECKING = False
if TYPE_CHECKING:  # not imported at run time: the help path of meshctl.cli.main uses this module
    from collections.abc import Callable, Iterable, Mapping
    from typing import Any, Final, TypeVar

    T = TypeVar("T")

#: Bump when the layout of an entry or of a key changes.
FORMAT: Final = "meshctl-cache-1"
MAGIC: Final = b"meshctl-cache 1\n"
#: Entries kept per kind (a few profiles, a few terminal widths); the oldest go first.
MAX_ENTRIES: Final = 64
#: pickle protocol of template entries (fixed, so that the key does not depend on the default)
PICKLE_PROTOCOL: Final = 5


def cache_dir() -> str | None:
    """The cache directory for this run, or None when the cache is off."""
    if os.environ.get("MESHCTL_NO_CACHE", "") not in ("", "0"):
        return None
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):
        home = os.path.expanduser("~")
        if not os.path.isabs(home):
            return None
        base = os.path.join(home, ".cache")
    return os.path.join(base, "meshctl")


def _sha256() -> Any:
    """A SHA-256 object: CPython's built-in one when there is one (hashlib loads OpenSSL, ~2 ms
    of every start-up), the same digest either way."""
    try:
        from _sha256 import sha256  # CPython 3.11
    except ImportError:
        try:
            from _sha2 import sha256  # CPython 3.12+
        except ImportError:
            from hashlib import sha256
    return sha256()


def digest(*parts: str | bytes) -> str:
    """SHA-256 of the parts, each length-prefixed so that no two part lists collide."""
    h = _sha256()
    for part in parts:
        data = part.encode("utf-8", "surrogatepass") if isinstance(part, str) else part
        h.update(b"%d:" % len(data))
        h.update(data)
    return str(h.hexdigest())


def file_stamp(path: str | None) -> str:
    """``path:mtime_ns:size`` (what Python's bytecode cache trusts), or a marker if absent."""
    if not path:
        return "-"
    try:
        st = os.stat(path)
    except OSError:
        return f"{path}:missing"
    return f"{path}:{st.st_mtime_ns}:{st.st_size}"


#: What every :class:`Cache` of this process did (tests read it; nothing else does).
STATS: dict[str, int] = {"hits": 0, "misses": 0, "stores": 0}


class Cache:
    """Entries of one cache directory; ``directory=None`` is a cache that never hits.

    ``hits``, ``misses`` and ``stores`` count what this object did (also summed in
    :data:`STATS`), for tests and debugging.
    """

    def __init__(self, directory: str | None) -> None:
        self.directory = directory
        self.hits = 0
        self.misses = 0
        self.stores = 0

    def _path(self, kind: str, key: str) -> str | None:
        if self.directory is None:
            return None
        return os.path.join(self.directory, f"{kind}-{key[:40]}")

    def has(self, kind: str, key: str) -> bool:
        """Whether an entry exists (without reading it; :meth:`get` may still refuse it)."""
        path = self._path(kind, key)
        if path is None:
            return False
        try:
            return _trusted(os.stat(path))
        except OSError:
            return False

    def get(self, kind: str, key: str) -> bytes | None:
        """The payload stored under ``key``, or None (absent, unreadable, not trustworthy)."""
        payload = self._read(kind, key)
        self._count("misses" if payload is None else "hits", 1)
        return payload

    def _count(self, what: str, n: int) -> None:
        setattr(self, what, getattr(self, what) + n)
        STATS[what] += n

    def _read(self, kind: str, key: str) -> bytes | None:
        path = self._path(kind, key)
        if path is None:
            return None
        try:
            with open(path, "rb") as fh:
                if not _trusted(os.fstat(fh.fileno())):
                    return None
                data = fh.read()
        except OSError:
            return None
        header = MAGIC + key.encode("ascii") + b"\n"
        if not data.startswith(header):
            return None
        return data[len(header):]

    def put(self, kind: str, key: str, payload: bytes) -> bool:
        """Store atomically; False (and nothing stored) when the directory is not writable."""
        path = self._path(kind, key)
        if path is None:
            return False
        name = os.path.basename(path)
        tmp = os.path.join(self.directory or "", f".{name}.{os.getpid()}.tmp")
        try:
            os.makedirs(self.directory or "", mode=0o700, exist_ok=True)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(MAGIC + key.encode("ascii") + b"\n")
                    fh.write(payload)
                os.replace(tmp, path)
            except BaseException:
                import contextlib

                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
        except OSError:
            return False
        self._count("stores", 1)
        self._prune(kind, keep=name)
        return True

    def _prune(self, kind: str, keep: str) -> None:
        assert self.directory is not None
        try:
            entries = []
            for entry in os.scandir(self.directory):
                if entry.name.startswith(kind + "-") and entry.name != keep:
                    entries.append((entry.stat().st_mtime_ns, entry.path))
            entries.sort(reverse=True)
            for _, stale in entries[MAX_ENTRIES - 1:]:
                os.unlink(stale)
        except OSError:
            pass


def _trusted(st: os.stat_result) -> bool:
    """Only the user's own files, writable by nobody else (a pickle is code)."""
    if st.st_mode & 0o022:
        return False
    return not hasattr(os, "getuid") or st.st_uid == os.getuid()


def default_cache() -> Cache:
    """The cache of this run (from the environment; cheap, so built when needed)."""
    return Cache(cache_dir())


# --------------------------------------------------------------------------------------------
# faithful pickling of object graphs built by a library (gotpl's compiled templates)

#: module globals of these types are saved by value (plain values) or pickle by name anyway
_NOT_BY_REFERENCE: Final = (
    str, bytes, int, float, complex, bool, type(None), tuple, frozenset, range,
    type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType,
)


def _mappingproxy(mapping: Mapping[Any, Any]) -> types.MappingProxyType[Any, Any]:
    """Rebuild a read-only view (pickle calls this by name: keep it module-level)."""
    return types.MappingProxyType(mapping)


def _reduce_mappingproxy(view: types.MappingProxyType[Any, Any]) -> tuple[Any, ...]:
    from collections.abc import Mapping

    # the view of the very dict it wraps, so that sharing inside the graph is kept
    referents = [r for r in gc.get_referents(view) if isinstance(r, Mapping)]
    target = referents[0] if len(referents) == 1 else dict(view)
    return _mappingproxy, (target,)


_GLOBALS_MEMO: list[tuple[int, dict[int, tuple[str, str]]]] = []


def _module_globals() -> dict[int, tuple[str, str]]:
    """``id(obj) -> (module, name)`` for every module-level object that is not a plain value.

    Classes and functions pickle by reference anyway; instances (sentinels, registries) would
    be copied, which breaks ``is`` comparisons, so they are saved by reference too. Kept while
    no module is added (several templates are stored in a row); :func:`dumps` checks that an
    entry still names the very object before using it.
    """
    if _GLOBALS_MEMO and _GLOBALS_MEMO[0][0] == len(sys.modules):
        return _GLOBALS_MEMO[0][1]
    found: dict[int, tuple[str, str]] = {}
    for mod_name in sorted(sys.modules):
        module = sys.modules.get(mod_name)
        if mod_name == "__main__" or not isinstance(module, types.ModuleType):
            continue
        try:
            items = list(vars(module).items())
        except TypeError:
            continue
        for attr, value in items:
            if attr.startswith("__") or isinstance(value, _NOT_BY_REFERENCE):
                continue
            found.setdefault(id(value), (mod_name, attr))
    _GLOBALS_MEMO[:] = [(len(sys.modules), found)]
    return found


def dumps(obj: Any) -> bytes:
    """Pickle ``obj`` keeping module-level objects by reference (see the module docstring)."""
    import copyreg
    import pickle

    by_ref = _module_globals()
    buf = io.BytesIO()

    class Pickler(pickle.Pickler):
        def persistent_id(self, o: Any) -> Any:
            if o is obj:
                return None
            ref = by_ref.get(id(o))
            if ref is None:
                return None
            module, name = ref
            # still the same object (the map was built from live modules just now)
            if getattr(sys.modules.get(module), name, None) is not o:
                return None
            return ref

    pickler = Pickler(buf, protocol=PICKLE_PROTOCOL)
    table = copyreg.dispatch_table.copy()
    table[types.MappingProxyType] = _reduce_mappingproxy
    pickler.dispatch_table = table
    pickler.dump(obj)
    return buf.getvalue()


def loads(data: bytes) -> Any:
    """Unpickle what :func:`dumps` wrote (module-level references resolved by import)."""
    import importlib
    import pickle

    class Unpickler(pickle.Unpickler):
        def persistent_load(self, pid: Any) -> Any:
            module, name = pid
            return getattr(importlib.import_module(module), name)

    # thousands of small objects: a cyclic collection in between would only walk the heap
    enabled = gc.isenabled()
    gc.disable()
    try:
        return Unpickler(io.BytesIO(data)).load()
    finally:
        if enabled:
            gc.enable()


# --------------------------------------------------------------------------------------------
# compiled templates


def functions_fingerprint(functions: Mapping[str, Callable[..., Any]]) -> list[str]:
    """What a compiled template keeps of its functions: names and signatures.

    Functions are pickled by reference; what compiling derives from them (call signatures)
    lives in their modules' source, so those files' stamps are part of the key.
    """
    parts: list[str] = []
    modules: set[str] = set()
    for name in sorted(functions):
        fn = functions[name]
        target = getattr(fn, "func", fn)  # functools.partial
        module = getattr(target, "__module__", None) or type(target).__module__
        qualname = getattr(target, "__qualname__", None) or type(target).__qualname__
        parts.append(f"{name}={module}.{qualname}")
        modules.add(module)
    for module in sorted(modules):
        parts.append(file_stamp(getattr(sys.modules.get(module), "__file__", None)))
    return parts


def template_key(source: str, name: str, functions: Mapping[str, Callable[..., Any]],
                 engine: Iterable[str]) -> str:
    """The key of one compiled template: its text and everything compiling it depends on.

    ``engine`` names the compiler (version and the stamps of its modules); the Python version
    and meshctl's version are added here.
    """
    from meshctl import __version__

    return digest(
        FORMAT, sys.version, sys.implementation.cache_tag, str(PICKLE_PROTOCOL), __version__,
        *engine, "name", name, "source", source, "functions", *functions_fingerprint(functions),
    )


def cached_build(key: str, kind: str, build: Callable[[], T], check: Callable[[Any], bool],
                 cache: Cache | None = None) -> T:
    """``build()``, or its earlier result stored under ``key`` when that still passes ``check``.

    Errors of ``build`` propagate (and nothing is stored); any problem with the cache itself
    falls back to ``build``.
    """
    cache = cache if cache is not None else default_cache()
    data = cache.get(kind, key)
    if data is not None:
        try:
            obj = loads(data)
        except Exception:  # a corrupt or outdated entry: rebuild and overwrite
            obj = None
        if obj is not None and check(obj):
            return obj  # type: ignore[no-any-return]
        cache._count("hits", -1)  # not usable after all
        cache._count("misses", 1)
    result = build()
    if cache.directory is not None:
        try:
            payload = dumps(result)
        except Exception:  # not picklable (e.g. a lambda in the function map): no cache
            return result
        cache.put(kind, key, payload)
    return result
