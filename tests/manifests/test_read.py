"""The reader: splitting keeps every byte; syntax errors name the document and line; URLs."""

from __future__ import annotations

import http.server
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from meshctl.errors import InputError
from meshctl.manifests.read import is_manifest_file, parse_source, split_yaml
from tests.clirunner import run_cli


@pytest.mark.parametrize(
    "text, n_docs",
    [
        ("a: 1\n", 1),
        ("---\na: 1\n", 1),
        ("# lead\n---\na: 1\n---\nb: 2\n", 2),
        ("a: 1\n---\nb: 2\n---\n", 3),  # a trailing --- opens an empty document
        ("a: 1\n...\n---\nb: 2\n...\n", 2),
        ("# only a comment\n", 1),
        ("", 0),
        ("---\n---\n---\n", 3),
        ("a: |\n  ---not a marker\n  text\n", 1),
        ("a: 1\r\n---\r\nb: 2\r\n", 2),
    ],
)
def test_split_counts_and_roundtrip(text: str, n_docs: int) -> None:
    src = parse_source("x.yaml", text)
    assert "".join(c.text for c in src.chunks) == text
    assert len([c for c in src.chunks if c.text.strip()]) <= max(n_docs, 1)
    assert [c.index for c in src.chunks] == list(range(1, len(src.chunks) + 1))


def test_document_numbers_and_lines() -> None:
    text = "# header\n---\na: 1\n---\nb: 2\nc: 3\n"
    chunks = split_yaml(text, "x")
    assert [(c.index, c.start_line) for c in chunks] == [(1, 1), (2, 4)]


def test_syntax_error_names_document_and_line() -> None:
    """Reading only splits; every document is checked by the pipeline, which locates errors
    in the stream (this one is in a document passed through untouched)."""
    text = "a: 1\n---\nb: 2\n---\nc: [1, 2\nd: 4\n"
    assert len(parse_source("bad.yaml", text).chunks) == 3
    res = run_cli(["kube-inject", "-f", "-"], stdin=text)
    assert (res.rc, res.stdout) == (3, "")
    assert res.stderr.startswith("meshctl: error: <stdin>: document 3 (line 6): invalid YAML:")


def test_json_stream() -> None:
    text = '{"kind": "A"}\n{"kind": "B"}\n'
    src = parse_source("x.json", text)
    assert src.is_json
    assert len(src.chunks) == 2
    assert "".join(c.text for c in src.chunks) == text


def test_kind_hint() -> None:
    src = parse_source("x", "apiVersion: v1\nkind: Service  # svc\nmetadata: {name: a}\n")
    assert src.chunks[0].kind_hint() == "Service"
    src = parse_source("x", "kind: 'ConfigMap'\ndata:\n  x: |\n    kind: Deployment\n")
    assert src.chunks[0].kind_hint() == "ConfigMap"


_line = st.sampled_from(
    ["a: 1", "# c", "", "---", "...", "b:", "  - x", "  c: 'y'", "--- # doc", "k: v  # t"]
)


@given(st.lists(_line, max_size=30), st.sampled_from(["\n", "\r\n"]))
def test_split_never_loses_bytes(lines: list[str], nl: str) -> None:
    text = nl.join(lines)
    try:
        src = parse_source("x", text)
    except InputError:
        return
    assert "".join(c.text for c in src.chunks) == text


# --- URLs ------------------------------------------------------------------------------------

POD_YAML = "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers:\n" \
    "  - {name: web, image: 'web:1'}\n"
PAGES = {
    "/pod.yaml": ("application/yaml", POD_YAML),
    "/login": ("text/html; charset=utf-8", "<!DOCTYPE html><html><body>Sign in</body></html>"),
    "/login-as-text": ("text/plain", "<!DOCTYPE html>\n<html><body>Sign in</body></html>\n"),
    "/readme": ("text/plain", "Deploy with kubectl apply.\n"),
}


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            page = PAGES.get(self.path)
            if page is None:
                self.send_error(404)
                return
            body = page[1].encode()
            self.send_response(200)
            self.send_header("Content-Type", page[0])
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.parametrize(("path", "message"), [
    ("/login", "the URL returned an HTML page (text/html), not YAML or JSON"),
    ("/login-as-text", "the URL returned an HTML or XML page, not YAML or JSON"),
    ("/readme", "document 1 (line 1): a document must be a Kubernetes object (a mapping), "
                "not a string"),
    ("/missing.yaml", "cannot fetch: Not Found"),
])
def test_urls_that_do_not_give_manifests(server: str, path: str, message: str) -> None:
    res = run_cli(["kube-inject", "-f", server + path])
    assert (res.rc, res.stdout) == (3, "")
    assert res.stderr == f"meshctl: error: {server}{path}: {message}\n"


def test_a_url_that_cannot_be_reached() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    res = run_cli(["kube-inject", "-f", f"http://127.0.0.1:{port}/app.yaml"])
    assert (res.rc, res.stdout) == (3, "")
    assert res.stderr.startswith(f"meshctl: error: http://127.0.0.1:{port}/app.yaml: cannot "
                                 "fetch: ")
    assert res.stderr.count("\n") == 1


def test_a_url_with_manifests(server: str) -> None:
    res = run_cli(["kube-inject", "-q", "-f", server + "/pod.yaml"])
    assert res.rc == 0, res.stderr
    assert "istio-proxy" in res.stdout


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_an_unreadable_file(tmp_path: Path) -> None:
    secret = tmp_path / "secret.yaml"
    secret.write_text(POD_YAML)
    secret.chmod(0)
    res = run_cli(["kube-inject", "-f", str(secret)])
    assert (res.rc, res.stdout) == (3, "")
    assert res.stderr == f"meshctl: error: {secret}: Permission denied\n"


@pytest.mark.parametrize(
    "text, manifests",
    [
        (POD_YAML, True),
        ("apiVersion: v1\nkind: List\nitems: []\n---\n# the end\n", True),
        ('{"apiVersion": "v1", "kind": "ConfigMap"}\n', True),
        ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x\n", True),  # broken: an error
        ("- hosts: all\n  tasks: []\n", False),  # an Ansible playbook
        ('{\n  // tsconfig allows comments\n  "compilerOptions": {}\n}\n', False),
        ("on: [push]\njobs: {}\n", False),  # a CI workflow
        ("apiVersion: v1\nkind: Pod\n---\nname: values\n", False),  # one document is not
    ],
)
def test_what_is_a_manifest_file(text: str, manifests: bool) -> None:
    assert is_manifest_file(parse_source("f.yaml", text, "f.yaml")) is manifests


def test_only_manifests_skips_other_files_with_a_warning(tmp_path: Path) -> None:
    (tmp_path / "pod.yaml").write_text(POD_YAML)
    (tmp_path / "play.yaml").write_text("- hosts: all\n  tasks: []\n")
    (tmp_path / "broken.yaml").write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: x\n")
    play, pod, broken = (str(tmp_path / n) for n in ("play.yaml", "pod.yaml", "broken.yaml"))
    res = run_cli(["kube-inject", "-f", play, "-f", pod])
    assert (res.rc, res.stdout) == (3, "")
    assert "play.yaml: document 1 (line 1): a document must be a Kubernetes object" in res.stderr
    res = run_cli(["kube-inject", "--only-manifests", "-f", play, "-f", pod])
    assert res.rc == 0, res.stderr
    assert f"warning: {play}: not Kubernetes manifests; skipped" in res.stderr
    assert "istio-proxy" in res.stdout and "hosts" not in res.stdout
    res = run_cli(["kube-inject", "--only-manifests", "--check", "-f", play])
    assert res.rc == 0, res.stderr
    # a manifest with a syntax error is still an error, not skipped
    res = run_cli(["kube-inject", "--only-manifests", "--check", "-f", broken, "-f", play])
    assert (res.rc, res.stdout) == (3, "")
    assert f"meshctl: error: {broken}: document 1 (line 4): invalid YAML" in res.stderr
