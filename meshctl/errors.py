"""Errors and exit codes: the one place that says how a run ends.

Exit codes (black's ``Report.return_code`` keeps them in one place too):

===  ======================================================================================
 0   success; with ``--check``: nothing would change
 1   ``--check`` only: at least one document would change (nothing is written)
 2   usage error (unknown flag, bad flag value): click's own code
 3   input or configuration error: unreadable file, YAML/JSON syntax error, invalid
     annotation, bad injector config. Nothing is written to stdout or to any file.
 4   internal error (a bug in meshctl): one line on stderr, no traceback unless
     ``MESHCTL_DEBUG=1``
===  ======================================================================================
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_WOULD_CHANGE = 1
EXIT_USAGE = 2
EXIT_INPUT = 3
EXIT_INTERNAL = 4


class MeshctlError(Exception):
    """An error the user can fix; rendered as one line ``meshctl: error: ...``.

    ``source``, ``document`` (1-based) and ``line`` (1-based, in the file) locate the problem;
    the CLI renders them as ``FILE: document N (line L): message``.
    """

    exit_code = EXIT_INPUT

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        document: int | None = None,
        line: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.source = source
        self.document = document
        self.line = line

    def __reduce__(self) -> tuple[object, ...]:
        # keep the location when an error crosses a process boundary (parallel runs)
        return (_rebuild, (type(self), self.message, self.source, self.document, self.line))

    def located(
        self, *, source: str | None = None, document: int | None = None, line: int | None = None
    ) -> MeshctlError:
        """Fill in location fields that are still unknown (inner code knows less than outer)."""
        if self.source is None:
            self.source = source
        if self.document is None:
            self.document = document
        if self.line is None:
            self.line = line
        return self

    def __str__(self) -> str:
        where = []
        if self.source is not None:
            where.append(f"{self.source}:")
        if self.document is not None:
            doc = f"document {self.document}"
            if self.line is not None:
                doc += f" (line {self.line})"
            where.append(doc + ":")
        elif self.line is not None:
            where.append(f"line {self.line}:")
        where.append(self.message)
        return " ".join(where)


class InputError(MeshctlError):
    """A file, URL or document that cannot be read or parsed."""


class ConfigError(MeshctlError):
    """Injector config, values, mesh config or flags that cannot be used."""


def _rebuild(
    cls: type[MeshctlError],
    message: str,
    source: str | None,
    document: int | None,
    line: int | None,
) -> MeshctlError:
    err = cls.__new__(cls)
    MeshctlError.__init__(err, message, source=source, document=document, line=line)
    return err
