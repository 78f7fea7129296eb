"""The one place where gotpl is made to behave like Go's text/template for Istio's templates.

gotpl is a faithful Go template engine with a few differences that matter to Istio's templates.
They are fixed here, once, and tested in ``tests/gotemplate/test_gotpl_adapter.py``:

``eq``/``ne`` with a missing value
    Go compares a nil (missing map key, nil interface) with anything as "not equal" and does not
    fail; gotpl raises "incompatible types". ``eq (.Values.pilot.env).X true`` must be false when
    ``X`` is unset.
``index`` of a missing key
    Go returns the map's zero value (``""`` for a ``map[string]string``); gotpl returns "no
    value" except for its own ``TypedMap``. :class:`~meshctl.gotemplate.types.GoMap` carries its
    zero value and ``index`` uses it.
an empty map is truthy
    gotpl treats any mapping that is not a ``dict`` as true. The data model only hands templates
    ``dict`` subclasses (:class:`~meshctl.gotemplate.types.GoMap`), so
    ``if .ProxyConfig.ProxyMetadata`` is false when there is no metadata.
a method passed to ``and``/``or`` is not called
    gotpl evaluates ``and``/``or`` operands without calling a trailing method, so
    ``or .ProxyConfig.HoldApplicationUntilProxyStarts.GetValue ...`` would see a bound method
    (always true). The data model has no methods: Go getters and methods (``GetValue``,
    ``String``, ``GetTracing``) are resolved as fields when looked up, so the built-in
    short-circuiting ``and``/``or`` see plain values.
``fmt.Sprint``
    :func:`~meshctl.gotemplate.values.go_sprint` formats values as Go's ``fmt.Sprint`` does
    (``true``, ``<nil>``, ``1e+06``, enum names), for ``annotation`` and friends.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping

import gotpl
from gotpl.errors import TemplateError
from gotpl.funcs.sprig import text_func_map
from gotpl.runtime.values import INVALID, UNTYPED_NIL

from meshctl import cache as diskcache
from meshctl.gotemplate import environ, guards, native
from meshctl.gotemplate.values import go_eq, go_ne, index_or, register_missing

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it is start-up cost
    from typing import Any, Final

__all__ = [
    "INVALID",
    "TemplateError",
    "cached_compile",
    "compile_template",
    "template_loader",
]


register_missing(INVALID, UNTYPED_NIL)


def go_index(value: Any, *keys: Any) -> Any:
    """Go's ``index``: a missing map key gives the map's zero value (gotpl's "no value" for a
    plain map)."""
    return index_or(INVALID, value, keys)


#: Sprig's own text functions (built once: the map is rebuilt on every call), except those that
#: read the environment or the network: meshctl.gotemplate.environ's instead.
#: Functions whose result can be far bigger than their arguments check the size first
#: (meshctl.gotemplate.guards), Go's ``printf`` included.
_SPRIG: Final[Mapping[str, Callable[..., Any]]] = {**text_func_map(),
                                                   **environ.SPRIG_REPLACEMENTS,
                                                   **guards.GUARDED}
_SPRIG_QUOTE: Final = _SPRIG["quote"]


def quote(*values: object) -> str:
    """Sprig's ``quote``, without its per-character escaping for the common case.

    A sidecar template quotes thirty-odd values per pod, nearly all plain ASCII strings; the
    native runtime's ``quote`` does those exactly, Sprig's own anything else.
    """
    try:
        return native.quote(*values)
    except native.Fallback:
        return str(_SPRIG_QUOTE(*values))


#: Sprig functions replaced by faster equivalents (same results; tests/cli/test_startup.py).
FAST_SPRIG: Final[Mapping[str, Callable[..., Any]]] = {"quote": quote}

#: Built-ins replaced for Go fidelity (see the module docstring).
COMPAT_BUILTINS: Final[Mapping[str, Callable[..., Any]]] = {
    "eq": go_eq,
    "ne": go_ne,
    "index": go_index,
}


def function_map(extra: Mapping[str, Callable[..., Any]]) -> dict[str, Callable[..., Any]]:
    """Sprig's text functions, then ``extra`` (Istio's), then the compat built-ins: the same
    layering as Istio's ``template.New().Funcs(sprig.TxtFuncMap()).Funcs(InjectionFuncmap)``."""
    functions: dict[str, Callable[..., Any]] = dict(_SPRIG)
    functions.update(FAST_SPRIG)
    functions.update(extra)
    functions.update(COMPAT_BUILTINS)
    return functions


def compile_template(source: str, name: str,
                     functions: Mapping[str, Callable[..., Any]]) -> gotpl.Template:
    """Parse and compile once; raises ``gotpl.TemplateError`` on a syntax error. Every render
    runs within meshctl's execution budget (:mod:`meshctl.gotemplate.limits`)."""
    return gotpl.Template(source, name=name, functions=functions, budget=guards.gotpl_budget())


#: gotpl's modules whose code shapes a compiled template (parser, compiler, linker, function
#: preparation): their stamps are part of the cache key, with gotpl's version.
_ENGINE_MODULES: Final = (
    "gotpl.template",
    "gotpl.parse.lexer",
    "gotpl.parse.parser",
    "gotpl.parse.nodes",
    "gotpl.compile.compiler",
    "gotpl.compile.instructions",
    "gotpl.runtime.callables",
    "gotpl.runtime.linked",
    "gotpl.runtime.sync_vm",
)


def engine_fingerprint() -> list[str]:
    """gotpl's version and the stamps of its compiling modules (see :mod:`meshctl.cache`)."""
    return [
        f"gotpl {gotpl.__version__}",
        *(diskcache.file_stamp(getattr(sys.modules.get(m), "__file__", None))
          for m in _ENGINE_MODULES),
    ]


def template_loader(source: str, name: str, functions: Mapping[str, Callable[..., Any]],
                    cache: diskcache.Cache | None = None) -> Callable[[], gotpl.Template]:
    """A function returning the compiled template, from the persistent cache when it has it.

    A template the cache does not hold is compiled now (a syntax error raises
    ``gotpl.TemplateError`` here, as :func:`compile_template` does) and stored. One the cache
    holds compiled without error before, from the same inputs, so it is only loaded when first
    asked for: a run that never renders it (an Istio config has eight templates, a pod uses
    one or two) does not pay for it. The loaded template is the object graph gotpl built, so it
    renders exactly as a fresh compilation; see :mod:`meshctl.cache`.
    """
    cache = cache if cache is not None else diskcache.default_cache()
    key = diskcache.template_key(source, name, functions, engine_fingerprint())

    def build() -> gotpl.Template:
        return compile_template(source, name, functions)

    def fits(obj: object) -> bool:
        return (isinstance(obj, gotpl.Template) and obj.source == source and obj.name == name
                and obj.budget == guards.gotpl_budget())

    if not cache.has("tpl", key):
        template = diskcache.cached_build(key, "tpl", build, fits, cache)
        return lambda: template
    loaded: list[gotpl.Template] = []

    def load() -> gotpl.Template:
        if not loaded:
            loaded.append(diskcache.cached_build(key, "tpl", build, fits, cache))
        return loaded[0]

    return load


def cached_compile(source: str, name: str, functions: Mapping[str, Callable[..., Any]],
                   cache: diskcache.Cache | None = None) -> gotpl.Template:
    """:func:`compile_template`, reusing an earlier compilation from the persistent cache."""
    return template_loader(source, name, functions, cache)()
