"""Start-up guards that count work instead of timing it (so they cannot flake).

* ``meshctl version`` / ``--version`` print without importing click, YAML, templates or Istio;
  ``--help`` does the same once its text is in the start-up cache, and prints exactly what
  click prints (also for another terminal width, and after a corrupt cache entry).
* Compiled templates are stored once and then loaded, not compiled (``diskcache.STATS``, and a
  second ``kube-inject`` leaves the entries untouched: every template of the built-in profile is
  stored natively, so that run imports no gotpl); a corrupt or foreign entry is ignored and
  rewritten; ``MESHCTL_NO_CACHE=1`` writes nothing; the key follows every input.
* A loaded template renders exactly as a fresh one: every Istio golden input is injected with
  freshly compiled and with cache-loaded templates (built-in profile and Istio's config), and
  the results must be equal.
"""

from __future__ import annotations

import os
import subprocess
import sys
import types
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from meshctl import cache as diskcache
from meshctl.cli.app import cli
from meshctl.gotemplate.gotpl_adapter import compile_template, template_loader
from meshctl.gotemplate.native import native_key
from meshctl.options import Mode, Operation, Options
from meshctl.sidecar.config import BUILTIN_TEMPLATES
from meshctl.sidecar.config.profile import builtin_inject_config, settings_for
from meshctl.sidecar.funcs import NATIVE_FUNCTIONS, gotpl_functions
from meshctl.sidecar.inject import Injector
from tests.conftest import SHARED

TEMPLATE_FUNCTIONS = gotpl_functions()

ROOT = Path(__file__).resolve().parents[2]
ONE_DEPLOYMENT = """\
# a comment that must survive
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        - name: web
          image: nginx
          ports:
            - containerPort: 8080
"""
#: modules the fast commands must not load
HEAVY = ("click", "gotpl", "ruamel", "yaml", "jsonpatch", "rich", "meshctl.commands",
         "meshctl.cli.app", "meshctl.sidecar.inject", "meshctl.sidecar.render",
         "meshctl.gotemplate", "meshctl.yamltext", "meshctl.manifests")


# --------------------------------------------------------------------------------------------
# helpers


def _env(cache_home: Path | None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("MESHCTL_NO_CACHE", "XDG_CACHE_HOME", "COLUMNS", "LINES",
                        "_MESHCTL_COMPLETE")}
    if cache_home is None:
        env["MESHCTL_NO_CACHE"] = "1"
    else:
        env["XDG_CACHE_HOME"] = str(cache_home)
    env["COLUMNS"] = "100"
    env.update(extra)
    return env


def _meshctl(args: list[str], cache_home: Path | None, *, stdin: str | None = None,
             **extra: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run ``python -X importtime -m meshctl ARGS``: the result and the modules it imported."""
    res = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "meshctl", *args],
        capture_output=True, text=True, env=_env(cache_home, **extra), cwd=ROOT, input=stdin,
        timeout=120,
    )
    modules = {line.rsplit("|", 1)[1].strip() for line in res.stderr.splitlines()
               if line.startswith("import time:") and "|" in line}
    return res, modules


def _heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in HEAVY or m.startswith(HEAVY))


def _stderr(res: subprocess.CompletedProcess[str]) -> str:
    return "\n".join(line for line in res.stderr.splitlines()
                     if not line.startswith("import time:"))


def _entries(cache_home: Path, kind: str) -> list[Path]:
    directory = cache_home / "meshctl"
    return sorted(directory.glob(f"{kind}-*")) if directory.is_dir() else []


class Stats:
    """``diskcache.STATS`` counted from the moment this object was made."""

    def __init__(self) -> None:
        self.before = dict(diskcache.STATS)

    def __getitem__(self, key: str) -> int:
        return diskcache.STATS[key] - self.before[key]


@pytest.fixture
def stats() -> Stats:
    return Stats()


# --------------------------------------------------------------------------------------------
# version and help


@pytest.mark.parametrize("args", [["version"], ["version", "--short"], ["version", "-s"],
                                  ["--version"]])
def test_version_imports_nothing_and_matches_click(args: list[str], tmp_path: Path) -> None:
    res, modules = _meshctl(args, tmp_path)
    assert res.returncode == 0, _stderr(res)
    assert "meshctl.cli.main" in modules  # the listing works
    assert _heavy(modules) == []
    expected = CliRunner().invoke(cli, args, prog_name="meshctl")
    assert expected.exit_code == 0
    assert res.stdout == expected.output
    assert not _entries(tmp_path, "help")  # nothing to cache


@pytest.mark.parametrize("args", [["--help"], ["-h"], ["kube-inject", "--help"],
                                  ["kube-uninject", "-h"], ["version", "--help"]])
def test_help_is_clicks_text_and_cached(args: list[str], tmp_path: Path) -> None:
    reference, _ = _meshctl(args, None)  # the cache off: click prints it
    assert reference.returncode == 0 and "Usage: meshctl" in reference.stdout

    first, first_modules = _meshctl(args, tmp_path)
    assert first.returncode == 0
    assert first.stdout == reference.stdout
    assert "click" in first_modules  # a miss renders with click...
    assert len(_entries(tmp_path, "help")) == 1  # ...and stores the text

    second, modules = _meshctl(args, tmp_path)
    assert second.returncode == 0
    assert second.stdout == reference.stdout
    assert _heavy(modules) == []  # a hit loads no click


def test_help_cache_follows_the_terminal_width(tmp_path: Path) -> None:
    narrow, _ = _meshctl(["kube-inject", "--help"], tmp_path, COLUMNS="60")
    wide, _ = _meshctl(["kube-inject", "--help"], tmp_path, COLUMNS="120")
    reference, _ = _meshctl(["kube-inject", "--help"], None, COLUMNS="120")
    assert narrow.stdout != wide.stdout  # the width matters, so the key must hold it
    assert wide.stdout == reference.stdout
    assert len(_entries(tmp_path, "help")) == 2


@pytest.mark.parametrize("damage", [b"", b"garbage", b"meshctl-cache 1\n0000\nstale"])
def test_corrupt_help_entry_is_ignored_and_rewritten(tmp_path: Path, damage: bytes) -> None:
    reference, _ = _meshctl(["--help"], None)
    _meshctl(["--help"], tmp_path)
    (entry,) = _entries(tmp_path, "help")
    entry.write_bytes(damage)
    res, _ = _meshctl(["--help"], tmp_path)
    assert res.returncode == 0
    assert res.stdout == reference.stdout
    assert entry.read_bytes().startswith(diskcache.MAGIC)  # rewritten
    again, modules = _meshctl(["--help"], tmp_path)
    assert again.stdout == reference.stdout and _heavy(modules) == []


def test_other_commands_still_go_through_click(tmp_path: Path) -> None:
    res, _ = _meshctl(["version", "--bogus"], tmp_path)
    assert res.returncode == 2 and "No such option" in _stderr(res)
    res, _ = _meshctl(["nonsense", "--help"], tmp_path)
    assert res.returncode == 2 and "No such command" in _stderr(res)
    assert not _entries(tmp_path, "help")  # errors are not cached


def test_plain_kube_inject_runs_without_click(tmp_path: Path) -> None:
    """The usual command lines are parsed by meshctl.cli.spec; the output is click's."""
    manifest = tmp_path / "app.yaml"
    manifest.write_text(ONE_DEPLOYMENT, encoding="utf-8")
    _meshctl(["kube-inject", "-f", str(manifest)], tmp_path)  # compiles the template once
    fast, modules = _meshctl(["kube-inject", "-f", str(manifest), "--report", "json"], tmp_path)
    assert fast.returncode == 0, _stderr(fast)
    assert not [m for m in modules if m == "click" or m.startswith("click.")]
    # nor dataclasses (with inspect: ~10 ms): the start-up path uses plain classes
    assert "dataclasses" not in modules and "inspect" not in modules
    # the same run through click (combined short flags are left to click)
    slow, modules = _meshctl(["kube-inject", "-qR", "-f", str(manifest), "--report", "json"],
                             tmp_path)
    assert "click" in modules and slow.returncode == 0
    assert slow.stdout == fast.stdout and "istio-proxy" in fast.stdout
    # usage errors are one line, whichever parser found them
    bad, _ = _meshctl(["kube-inject", "-f", str(manifest), "--check", "--diff"], tmp_path)
    assert bad.returncode == 2 and bad.stdout == ""
    assert _stderr(bad) == "meshctl: error: choose one of --in-place, --check, --diff"
    unknown, _ = _meshctl(["kube-inject", "-f", str(manifest), "--nope"], tmp_path)
    assert unknown.returncode == 2 and unknown.stdout == ""
    assert _stderr(unknown).startswith("meshctl: error: No such option '--nope'")
    assert "\n" not in _stderr(unknown)
    missing, _ = _meshctl(["kube-inject", "-f", str(tmp_path / "nope.yaml")], tmp_path)
    assert missing.returncode == 3 and missing.stdout == ""
    assert _stderr(missing).startswith("meshctl: error: ")


# --------------------------------------------------------------------------------------------
# compiled templates


SOURCE = """{{- $x := .a | default "none" -}}
{{ $x | quote }} {{ index .m "k" }} {{ printf "%v|%v" nil .missing }} {{ len .l }}
{{- range $i, $v := .l }} {{ $i }}={{ $v }}{{ end }} {{ toJson .m }} {{ eq .missing nil }}"""
DATA: Mapping[str, Any] = {"a": 'say "hi"', "m": {"k": "v"}, "l": [3, 1, 2]}


def test_template_is_stored_once_then_loaded(tmp_path: Path, stats: Stats) -> None:
    fresh = compile_template(SOURCE, "t", TEMPLATE_FUNCTIONS)
    first = template_loader(SOURCE, "t", TEMPLATE_FUNCTIONS, diskcache.Cache(str(tmp_path)))()
    assert (stats["stores"], stats["hits"]) == (1, 0)
    cache = diskcache.Cache(str(tmp_path))
    loaded = template_loader(SOURCE, "t", TEMPLATE_FUNCTIONS, cache)()
    assert (cache.hits, cache.misses, cache.stores) == (1, 0, 0)
    assert loaded is not first
    assert loaded.render(DATA) == first.render(DATA) == fresh.render(DATA)


def test_cached_template_is_loaded_only_when_used(tmp_path: Path) -> None:
    template_loader(SOURCE, "t", TEMPLATE_FUNCTIONS, diskcache.Cache(str(tmp_path)))
    cache = diskcache.Cache(str(tmp_path))
    load = template_loader(SOURCE, "t", TEMPLATE_FUNCTIONS, cache)
    assert (cache.hits, cache.misses) == (0, 0)  # a syntax check is not needed: it compiled
    load()
    load()
    assert (cache.hits, cache.misses) == (1, 0)


def test_a_syntax_error_is_reported_at_once_and_not_cached(tmp_path: Path) -> None:
    import gotpl

    cache = diskcache.Cache(str(tmp_path))
    with pytest.raises(gotpl.TemplateError):
        template_loader("{{ if }}", "bad", TEMPLATE_FUNCTIONS, cache)
    assert cache.stores == 0 and not list(tmp_path.iterdir())


@pytest.mark.parametrize("damage", ["empty", "garbage", "header_only", "bad_payload",
                                    "other_object", "world_writable"])
def test_corrupt_template_entry_is_ignored_and_rewritten(tmp_path: Path, damage: str) -> None:
    template_loader(SOURCE, "t", TEMPLATE_FUNCTIONS, diskcache.Cache(str(tmp_path)))
    (entry,) = tmp_path.iterdir()
    header = entry.read_bytes()[: entry.read_bytes().index(b"\n", len(diskcache.MAGIC)) + 1]
    if damage == "world_writable":
        entry.chmod(0o666)
    else:
        entry.write_bytes({
            "empty": b"",
            "garbage": b"\x80\x05garbage",
            "header_only": header,
            "bad_payload": header + b"\x80\x05K",
            "other_object": header + diskcache.dumps({"not": "a template"}),
        }[damage])
    cache = diskcache.Cache(str(tmp_path))
    template = template_loader(SOURCE, "t", TEMPLATE_FUNCTIONS, cache)()
    assert template.render(DATA) == compile_template(SOURCE, "t", TEMPLATE_FUNCTIONS).render(DATA)
    assert cache.stores == 1  # rewritten...
    again = diskcache.Cache(str(tmp_path))
    template_loader(SOURCE, "t", TEMPLATE_FUNCTIONS, again)()
    assert (again.hits, again.stores) == (1, 0)  # ...and usable


def test_the_key_follows_every_input() -> None:
    def key(source: str = SOURCE, name: str = "t", functions: Mapping[str, Any] | None = None,
            engine: tuple[str, ...] = ("gotpl 1",)) -> str:
        return diskcache.template_key(source, name, functions or TEMPLATE_FUNCTIONS, engine)

    def extra(*args: Any) -> str:
        return "x"

    keys = {key(), key(source=SOURCE + " "), key(name="u"), key(engine=("gotpl 2",)),
            key(functions={**TEMPLATE_FUNCTIONS, "extra": extra})}
    assert len(keys) == 5
    assert key() == key()


def test_no_cache_and_unwritable_cache_fall_back(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MESHCTL_NO_CACHE", "1")
    assert diskcache.cache_dir() is None
    monkeypatch.delenv("MESHCTL_NO_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert diskcache.cache_dir() == str(tmp_path / "xdg" / "meshctl")
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/dir")  # ignored, as the XDG spec says
    assert diskcache.cache_dir() == os.path.join(os.path.expanduser("~"), ".cache", "meshctl")

    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    cache = diskcache.Cache(str(blocker / "meshctl"))
    template = template_loader(SOURCE, "t", TEMPLATE_FUNCTIONS, cache)()
    assert template.render(DATA) == compile_template(SOURCE, "t", TEMPLATE_FUNCTIONS).render(DATA)
    assert cache.stores == 0


def test_module_level_objects_come_back_as_themselves() -> None:
    from gotpl.runtime.values import INVALID, UNTYPED_NIL

    shared: dict[str, Any] = {"k": 1}
    graph = {"invalid": INVALID, "nil": UNTYPED_NIL, "view": types.MappingProxyType(shared),
             "dict": shared, "functions": TEMPLATE_FUNCTIONS}
    back = diskcache.loads(diskcache.dumps(graph))
    assert back["invalid"] is INVALID and back["nil"] is UNTYPED_NIL
    assert back["functions"] is TEMPLATE_FUNCTIONS  # a module global: by reference
    assert back["dict"] is not shared and back["view"]["k"] == 1
    back["dict"]["k"] = 2
    assert back["view"]["k"] == 2  # still a view of the same dict


# --------------------------------------------------------------------------------------------
# the render path


_VALUES = st.one_of(
    st.text(), st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E)),
    st.integers(), st.booleans(), st.none(), st.floats(allow_nan=False),
)


@given(st.lists(_VALUES, max_size=4))
def test_fast_quote_is_sprigs_quote(values: list[Any]) -> None:
    from gotpl.funcs.sprig import text_func_map

    from meshctl.gotemplate.gotpl_adapter import FAST_SPRIG

    assert FAST_SPRIG["quote"](*values) == text_func_map()["quote"](*values)


def test_templates_use_the_fast_quote() -> None:
    from meshctl.gotemplate.gotpl_adapter import FAST_SPRIG

    assert TEMPLATE_FUNCTIONS["quote"] is FAST_SPRIG["quote"]


# --------------------------------------------------------------------------------------------
# whole runs


def test_second_kube_inject_loads_the_compiled_template(tmp_path: Path) -> None:
    manifest = tmp_path / "app.yaml"
    manifest.write_text(ONE_DEPLOYMENT, encoding="utf-8")
    cache_home = tmp_path / "cache"
    reference, _ = _meshctl(["kube-inject", "-f", str(manifest)], None)
    assert reference.returncode == 0, _stderr(reference)
    assert "istio-proxy" in reference.stdout and "# a comment" in reference.stdout

    first, first_modules = _meshctl(["kube-inject", "-f", str(manifest)], cache_home)
    assert "gotpl" in first_modules  # compiled the templates (with gotpl's parser)
    # every template of the built-in profile, used or not, is stored in its native form
    entries = _entries(cache_home, "native")
    assert len(entries) == len(BUILTIN_TEMPLATES)
    stamps = [(e.stat().st_ino, e.stat().st_mtime_ns) for e in entries]
    second, modules = _meshctl(["kube-inject", "-f", str(manifest)], cache_home)
    assert first.stdout == second.stdout == reference.stdout
    assert (first.returncode, second.returncode) == (0, 0)
    # loaded, not rewritten
    assert [(e.stat().st_ino, e.stat().st_mtime_ns) for e in entries] == stamps
    assert "meshctl.cache" in modules
    # the native runtime rendered the pod and the other templates were found in the cache:
    # gotpl (~100 ms to import) was not even loaded
    assert not [m for m in modules if m == "gotpl" or m.startswith("gotpl.")]

    sidecar = builtin_inject_config()["templates"]["sidecar"]
    key = native_key(sidecar, "sidecar", NATIVE_FUNCTIONS)
    (entry,) = [e for e in entries if e.name == f"native-{key[:40]}"]
    entry.write_bytes(b"corrupt")
    third, _ = _meshctl(["kube-inject", "-f", str(manifest)], cache_home)
    assert third.stdout == reference.stdout and third.returncode == 0
    assert entry.read_bytes().startswith(diskcache.MAGIC)


def test_no_cache_writes_nothing(tmp_path: Path) -> None:
    manifest = tmp_path / "app.yaml"
    manifest.write_text(ONE_DEPLOYMENT, encoding="utf-8")
    res, _ = _meshctl(["kube-inject", "-f", str(manifest)], tmp_path / "cache",
                      MESHCTL_NO_CACHE="1")
    assert res.returncode == 0
    assert not (tmp_path / "cache").exists()


# --------------------------------------------------------------------------------------------
# loaded templates render exactly as fresh ones, on every Istio golden input


def _injector(settings: Any, cache_home: Path | None, monkeypatch: pytest.MonkeyPatch,
              ) -> Injector:
    if cache_home is None:
        monkeypatch.setenv("MESHCTL_NO_CACHE", "1")
    else:
        monkeypatch.delenv("MESHCTL_NO_CACHE", raising=False)
        monkeypatch.setenv("XDG_CACHE_HOME", str(cache_home))
    injector = Injector(settings)
    for name in injector.renderer.names:  # load (or compile) every template now
        injector.renderer.template(name)
    return injector


def _outcome(injector: Injector, docs: list[Any]) -> list[Any]:
    from meshctl.manifests.find import pod_template_path
    from meshctl.sidecar.inject import InjectionError

    out: list[Any] = []
    for doc in docs:
        items = doc.get("items") if isinstance(doc, dict) and doc.get("kind") == "List" else None
        for obj in items if isinstance(items, list) else [doc]:
            path = pod_template_path(obj) if isinstance(obj, dict) else None
            if path is None:
                continue
            try:
                result = injector.inject(obj, path)
                out.append((result.obj, result.action, result.reason, result.warnings))
            except InjectionError as exc:
                out.append(("error", str(exc)))
    return out


def test_loaded_templates_render_like_fresh_ones(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 stats: Stats) -> None:
    if not (SHARED / "istio-golden" / "cases.yaml").is_file():  # pragma: no cover
        pytest.skip("../shared/istio-golden is missing")
    from tests.conformance import test_engine_goldens as golden

    cases = golden.CASES
    builtin = settings_for(Options(filenames=("-",), recursive=False, output=None,
                                   mode=Mode.WRITE, operation=Operation.INJECT))
    settings_of: dict[str, Any] = {"builtin": builtin}
    for case in cases:
        settings_of.setdefault(golden._settings_key(case), golden.injector_for(case).settings)

    cache_home = tmp_path / "cache"
    pairs: dict[str, tuple[Injector, Injector]] = {}
    for key, settings in settings_of.items():
        fresh = _injector(settings, None, monkeypatch)
        _injector(settings, cache_home, monkeypatch)  # stores (or finds) every template
        pairs[key] = (fresh, _injector(settings, cache_home, monkeypatch))
    assert stats["hits"] >= 9  # the built-in template and Istio's eight came from the cache

    compared = 0
    for case in cases:
        docs = golden._documents(golden.GOLDEN / "inject" / case["input"])
        for key in ("builtin", golden._settings_key(case)):
            fresh, loaded = pairs[key]
            want = _outcome(fresh, docs)
            assert _outcome(loaded, docs) == want, f"{golden.case_id(case)} with {key}"
            compared += len(want)
    assert compared > 200
