"""Errors and exit codes: the one place that says how a run ends.

Exit codes (black's ``Report.return_code`` keeps them in one place too) are listed in
:data:`EXIT_CODES`, which ``--help`` and docs/user-guide.md show (a test checks the docs).
Scripts may rely on them; they never change meaning. On any error nothing is written to stdout
or to any file, and stderr has one line (no traceback unless ``MESHCTL_DEBUG=1``).
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_WOULD_CHANGE = 1
EXIT_USAGE = 2
EXIT_INPUT = 3
EXIT_INTERNAL = 4
EXIT_KUBECTL = 5
EXIT_UNREACHABLE = 6
EXIT_FORBIDDEN = 7
EXIT_NOT_FOUND = 8
EXIT_NOT_READY = 9
EXIT_INTERRUPTED = 130

#: every exit code and what it means
EXIT_CODES: tuple[tuple[int, str], ...] = (
    (EXIT_OK, "success; with --check/--diff: nothing would change"),
    (EXIT_WOULD_CHANGE, "--check/--diff: something would change (nothing is written)"),
    (EXIT_USAGE, "usage error: unknown flag, bad value, flags that do not go together"),
    (EXIT_INPUT, "input or configuration error: unreadable file, invalid YAML, bad annotation, "
                 "bad injector config"),
    (EXIT_INTERNAL, "internal error (a bug; MESHCTL_DEBUG=1 shows the traceback)"),
    (EXIT_KUBECTL, "kubectl could not be run"),
    (EXIT_UNREACHABLE, "the cluster could not be reached (connection, timeout, kubeconfig, "
                       "context)"),
    (EXIT_FORBIDDEN, "the cluster refused the request (unauthorized, forbidden)"),
    (EXIT_NOT_FOUND, "not found (service, namespace, Gateway, ConfigMap)"),
    (EXIT_NOT_READY, "not ready (pending load-balancer address, no Ready pod, --wait timed out)"),
    (EXIT_INTERRUPTED, "interrupted (Ctrl-C)"),
)

#: A location inside a document: mapping keys and list indexes from its root.
DocPath = tuple[str | int, ...]


class MeshctlError(Exception):
    """An error the user can fix; rendered as one line ``meshctl: error: ...``.

    Its location is data, never parsed out of the message: ``source`` (file name, URL or
    ``<stdin>``), ``document`` (1-based in its source), ``line`` (1-based, in the file) and
    ``path`` (keys from the document's root to the offending node; the pipeline turns it into a
    line). The CLI renders them as ``FILE: document N (line L): message``.
    """

    exit_code = EXIT_INPUT

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        document: int | None = None,
        line: int | None = None,
        path: DocPath | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.source = source
        self.document = document
        self.line = line
        self.path = path

    def __reduce__(self) -> tuple[object, ...]:
        # keep the location when an error crosses a process boundary (parallel runs)
        fields = (self.message, self.source, self.document, self.line, self.path)
        return (_rebuild, (type(self), *fields))

    def located(
        self,
        *,
        source: str | None = None,
        document: int | None = None,
        line: int | None = None,
        path: DocPath | None = None,
    ) -> MeshctlError:
        """Fill in location fields that are still unknown (inner code knows less than outer).

        A ``path`` given here is the prefix of the one the error already has (an error inside
        the third item of a ``List`` gets ``("items", 2)`` in front)."""
        if self.source is None:
            self.source = source
        if self.document is None:
            self.document = document
        if self.line is None:
            self.line = line
        if path is not None and self.path is not None:
            self.path = (*path, *self.path)
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


class OutputError(MeshctlError):
    """A file, device or directory the output cannot be written to (named as the user did)."""


class ConfigError(MeshctlError):
    """Injector config, values, mesh config or flags that cannot be used."""


class UsageError(MeshctlError):
    """Arguments that cannot be used: a bad value, flags that do not go together."""

    exit_code = EXIT_USAGE


class KubectlError(MeshctlError):
    """kubectl could not be run at all."""

    exit_code = EXIT_KUBECTL


class UnreachableError(MeshctlError):
    """The cluster could not be reached."""

    exit_code = EXIT_UNREACHABLE


class ForbiddenError(MeshctlError):
    """The cluster refused the request (authentication or authorization)."""

    exit_code = EXIT_FORBIDDEN


class NotFoundError(MeshctlError):
    """An object the command needs does not exist."""

    exit_code = EXIT_NOT_FOUND


class NotReadyError(MeshctlError):
    """What the command needs exists but is not ready (no Ready pod, pending address)."""

    exit_code = EXIT_NOT_READY


def _rebuild(
    cls: type[MeshctlError],
    message: str,
    source: str | None,
    document: int | None,
    line: int | None,
    path: DocPath | None,
) -> MeshctlError:
    err = cls.__new__(cls)
    MeshctlError.__init__(err, message, source=source, document=document, line=line, path=path)
    return err
