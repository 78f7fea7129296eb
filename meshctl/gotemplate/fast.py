"""Templates rendered by their compiled form, gotpl whenever that is not possible.

:class:`FastTemplate` wraps a compiled gotpl template: the native runtime is tried first (no
gotpl at render time, and the persistent cache then holds it for the next run, which loads it
without importing gotpl: :func:`meshctl.gotemplate.native.load_native`), gotpl's runtime pieces
when a function has no native implementation, gotpl itself when the compiled code raises.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

import gotpl

from meshctl.gotemplate.compiler import CompiledTemplate, Unsupported, compile_template
from meshctl.gotemplate.gotpl_runtime import HELPERS

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it is start-up cost
    from typing import Any

#: this package's files that shape the generated code and what it calls at run time
_OWN_FILES = tuple(os.path.join(os.path.dirname(__file__), f"{name}.py")
                   for name in ("compiler", "gotpl_runtime", "fast"))


def _cached_compile(template: gotpl.Template) -> CompiledTemplate:
    """:func:`compile_template` for gotpl's runtime, or its earlier result from the persistent
    cache.

    The cache holds the generated source, its code object (marshal: no re-compilation) and the
    constants it refers to, keyed by everything the generated code depends on: the template,
    its functions, gotpl's and this module's files, Python's version. A missing, corrupt or
    unpicklable entry just means compiling again (~35 ms).
    """
    import marshal

    from meshctl import cache as diskcache
    from meshctl.gotemplate.gotpl_adapter import engine_fingerprint

    key = diskcache.template_key(
        template.source, template.name, template.functions,
        [*engine_fingerprint(), "compiler", *map(diskcache.file_stamp, _OWN_FILES)],
    )  # fmt: skip

    def build() -> tuple[str, bytes, dict[str, Any], str]:
        compiled = compile_template(template)
        return (compiled.code, marshal.dumps(compiled.bytecode), compiled.constants, compiled.entry)

    def fits(obj: object) -> bool:
        return isinstance(obj, tuple) and len(obj) == 4 and isinstance(obj[1], bytes)

    code, bytecode, constants, entry = diskcache.cached_build(key, "py", build, fits)
    namespace: dict[str, Any] = {**HELPERS, **constants}
    exec(marshal.loads(bytecode), namespace)  # noqa: S102 - our own generated code
    return CompiledTemplate(template.name, code, namespace[entry], bytecode=None,
                            constants=constants, entry=entry)


def _native_compile(template: gotpl.Template, functions: Mapping[str, Callable[..., Any]], *,
                    cache: bool) -> CompiledTemplate:
    """:func:`compile_template` for the native runtime, stored where
    :func:`meshctl.gotemplate.native.load_native` finds it (without importing gotpl)."""
    from meshctl.gotemplate import native

    compiled = compile_template(template, native=functions)
    if cache:
        native.store_native(template.source, template.name, functions, compiled.bytecode,
                            compiled.constants, compiled.entry)
    return compiled


class FastTemplate:
    """A gotpl template rendered by its compiled form, gotpl whenever that is not possible.

    The native runtime is tried first (no gotpl at render time, and the next run loads it
    without importing gotpl at all), gotpl's runtime pieces when a function has no native
    implementation.
    """

    __slots__ = ("template", "compiled", "reason")

    def __init__(self, template: gotpl.Template, native: Mapping[str, Callable[..., Any]], *,
                 cache: bool = True) -> None:
        self.template = template
        self.compiled: CompiledTemplate | None = None
        self.reason = ""
        try:
            self.compiled = _native_compile(template, native, cache=cache)
            return
        except Unsupported as exc:
            self.reason = str(exc)
        try:
            self.compiled = _cached_compile(template) if cache else compile_template(template)
        except Unsupported as exc:
            self.reason = str(exc)

    def render(self, data: Any) -> str:
        compiled = self.compiled
        if compiled is not None:
            try:
                return compiled.render(data)
            except Exception:  # noqa: BLE001 - gotpl renders it again and reports its error
                pass
        return self.template.render(data)
