"""What a template may learn of the world outside its data: the variables the user names, nothing
else.

Sprig's ``env`` and ``expandenv`` read the process environment and ``getHostByName`` the network
(DNS); an application's own functions may read the environment too (Istio's ``env``, meant for
istiod's). meshctl runs in CI next to tokens and keys, and renders templates that come with
manifests and configs it did not write: a template must not copy a secret of the environment into
a manifest, nor make a network request. So every such function reads :data:`ALLOWED` instead:
the variables of the environment the user named for this run (``--template-env NAME``), captured
once (:func:`allow`); any other name reads as unset. ``getHostByName`` always fails.

The functions are module-level (compiled templates in the persistent cache keep them by
reference) and read the one module-level mapping, which :func:`allow` refills for each run (a
forked worker inherits it).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it is start-up cost
    from collections.abc import Iterable, Mapping
    from typing import Any, Final

#: name -> value of the variables templates may read in this run (refilled, never rebound)
ALLOWED: Final[dict[str, str]] = {}

class TemplateFunctionError(Exception):
    """A function a template called refused to run (reported as the template's error)."""


def is_variable_name(name: str) -> bool:
    """Whether ``name`` can be an environment variable a template is allowed to read (a shell
    identifier: ASCII letters, digits and ``_``, not starting with a digit)."""
    return name.isascii() and name.isidentifier()


def capture(names: Iterable[str], environ: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """The named variables of ``environ`` that are set, as ``(name, value)`` pairs."""
    return tuple((name, environ[name]) for name in dict.fromkeys(names) if name in environ)


def allow(variables: Iterable[tuple[str, str]]) -> None:
    """Let templates read exactly ``variables`` (and nothing else) from now on."""
    ALLOWED.clear()
    ALLOWED.update(variables)


def getenv(name: Any) -> str:
    """A named variable's value, ``""`` for one the user did not name (or that is unset)."""
    return ALLOWED.get(str(name), "")


def sprig_env(name: str) -> str:
    """Sprig's ``env``: ``os.Getenv`` over the allowed variables."""
    return getenv(name)


def sprig_expandenv(text: str) -> str:
    """Sprig's ``expandenv`` (Go's ``os.ExpandEnv``) over the allowed variables: any other
    ``$NAME`` expands to ``""``."""
    from gotpl.funcs.sprig.environment import expand_env  # only templates that call it

    return str(expand_env(text, environ=ALLOWED))


def get_host_by_name(name: str) -> str:
    """Sprig's ``getHostByName``: templates do not reach the network."""
    raise TemplateFunctionError(
        f"getHostByName {str(name)!r}: templates cannot make network requests in meshctl")


#: Sprig's functions that reach outside, replaced (gotpl_adapter and the native runtime)
SPRIG_REPLACEMENTS: Final = {
    "env": sprig_env,
    "expandenv": sprig_expandenv,
    "getHostByName": get_host_by_name,
}
