"""``kubectl port-forward`` to a service on a free local port, reported when it is up.

Today's Istio addons are ClusterIP services: ``meshctl url --port-forward`` reaches them through
this, as ``istioctl dashboard`` does, but returns the URL instead of blocking. kubectl's errors
become meshctl's as for any read (:func:`meshctl.kube.kubectl.classify`); threading details stay
inside this module.
"""

from __future__ import annotations

import re
import subprocess

from meshctl.errors import KubectlError, MeshctlError, NotFoundError, UnreachableError
from meshctl.kube.kubectl import Kubectl, classify, error_line, kubectl_start_error, not_found

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it is start-up cost
    from typing import Any

_FORWARDING = re.compile(r"Forwarding from (\S+):(\d+) -> (\d+)")
#: kubectl exits with this when the local port was taken between our check and its bind
_PORT_TAKEN = "unable to listen on"


def free_local_port(preferred: int | None = None, host: str = "127.0.0.1") -> int:
    """``preferred`` when it is free (and needs no privilege), else a port the OS picks."""
    import socket

    for port in (preferred, 0):
        if port is None or 0 < port < 1024:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((host, port))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise UnreachableError("no free local port for kubectl port-forward")  # pragma: no cover


class PortForward:
    """``kubectl port-forward -n NS svc/NAME LOCAL:REMOTE``, kept running until stopped.

    :meth:`start` returns once kubectl says ``Forwarding from``; if kubectl exits first, its
    error is raised as the matching meshctl error. :meth:`wait` blocks until kubectl exits
    (Ctrl-C reaches it with the rest of the terminal's process group); :meth:`stop` ends it.
    Used as a context manager, leaving the block stops it. kubectl's later chatter ("Handling
    connection for ...") is read and dropped so its pipes never fill.
    """

    def __init__(
        self,
        kubectl: Kubectl,
        namespace: str,
        service: str,
        remote_port: int,
        local_port: int | None = None,
    ) -> None:
        self.kubectl = kubectl
        self.namespace = namespace
        self.service = service
        self.remote_port = remote_port
        self.requested_port = local_port
        self.local_port: int | None = None
        #: where kubectl listens first (``127.0.0.1``, or ``::1`` when only IPv6 worked)
        self.local_host = "127.0.0.1"
        self.process: subprocess.Popen[str] | None = None
        self._stderr: list[str] = []
        self._threads: list[Any] = []
        self._stopped = False

    def command(self, local_port: int) -> list[str]:
        return self.kubectl.command(
            "port-forward", "-n", self.namespace, f"svc/{self.service}",
            f"{local_port}:{self.remote_port}")

    def start(self, timeout: float = 30.0) -> int:
        """Start kubectl; the local port once the forward is up."""
        attempts = 1 if self.requested_port else 3
        for attempt in range(attempts):
            port = self.requested_port or free_local_port(
                self.remote_port if attempt == 0 else None)
            try:
                return self._start(port, timeout)
            except KubectlError as err:
                if _PORT_TAKEN not in err.message or attempt == attempts - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _start(self, port: int, timeout: float) -> int:
        import queue
        import threading

        cmd = self.command(port)
        try:
            process = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                encoding="utf-8",
                errors="replace",
                bufsize=1,
                env=self.kubectl.env,
            )
        except OSError as exc:
            raise kubectl_start_error(self.kubectl.access.kubectl, exc) from None
        self.process = process
        self._stderr = []
        lines: queue.Queue[str | None] = queue.Queue()

        def read_stdout() -> None:
            assert process.stdout is not None
            for line in process.stdout:
                lines.put(line)
            lines.put(None)

        def read_stderr() -> None:
            assert process.stderr is not None
            for line in process.stderr:
                if len(self._stderr) < 200:
                    self._stderr.append(line)

        self._threads = [
            threading.Thread(target=read_stdout, daemon=True, name="port-forward-out"),
            threading.Thread(target=read_stderr, daemon=True, name="port-forward-err"),
        ]
        for thread in self._threads:
            thread.start()
        import time

        deadline = time.monotonic() + timeout
        try:
            while True:
                remaining = deadline - time.monotonic()
                try:
                    line = lines.get(timeout=max(remaining, 0.001))
                except queue.Empty:
                    raise UnreachableError(
                        f"kubectl port-forward to service {self.service!r} was not ready "
                        f"after {timeout:g} s") from None
                if line is None:  # kubectl exited before forwarding
                    raise self._exit_error(process.wait())
                found = _FORWARDING.search(line)
                if found:
                    self.local_host = found.group(1).strip("[]")
                    self.local_port = int(found.group(2))
                    return self.local_port
        except BaseException:  # not ready in time, or Ctrl-C meanwhile: kubectl must not linger
            self.stop()
            raise

    def _exit_error(self, returncode: int) -> MeshctlError:
        for thread in self._threads:
            thread.join(5)
        stderr = "".join(self._stderr)
        if returncode == 0 and not error_line(stderr):
            return KubectlError("kubectl port-forward exited before forwarding")
        if not_found(stderr):
            return NotFoundError(
                f'service "{self.service}" not found in namespace "{self.namespace}"')
        return classify(stderr, returncode)

    def wait(self) -> int:
        """Block until kubectl exits; raise its error unless :meth:`stop` ended it."""
        if self.process is None:
            raise RuntimeError("port-forward was not started")
        returncode = self.process.wait()
        if returncode != 0 and not self._stopped:
            raise self._exit_error(returncode)
        return returncode

    def stop(self) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        self._stopped = True
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        for thread in self._threads:
            thread.join(1)

    def __enter__(self) -> PortForward:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
