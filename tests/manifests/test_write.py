"""Writing files as users expect from a Unix tool (meshctl.manifests.emit.write_files), and
reading directories without surprises (meshctl.manifests.read.expand_paths).

Every case is done for real: FIFOs with a reader thread, devices, symbolic links, owners and
modes, umask, /dev/stdout in a child process. The suite usually runs as root, for whom
permissions do not stop a write: an unwritable directory is then tested in a child process that
drops to the ``nobody`` user, and a failure half-way through the second of two files with a file
size limit (RLIMIT_FSIZE binds root too).
"""

from __future__ import annotations

import os
import resource
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from meshctl.errors import OutputError
from meshctl.manifests.emit import write_files
from tests.clirunner import run_cli
from tests.conftest import SHARED

HELLO = (SHARED / "istio-golden/inject/hello.yaml").read_text()
SERVICE = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n"
ROOT_USER = hasattr(os, "geteuid") and os.geteuid() == 0
NOBODY = 65534


def _meshctl(args: list[str], *, preexec: Callable[[], None] | None = None,
             **kw: object) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "MESHCTL_NO_CACHE": "1"}
    return subprocess.run([sys.executable, "-m", "meshctl", *args], env=env,  # type: ignore[call-overload]
                          preexec_fn=preexec, timeout=60, check=False, **kw)


#: meshctl run as the ``nobody`` user by a root process: the interpreter itself may not be
#: readable by nobody (it lives under /root here), so the child loads every module a run needs
#: first (one warm-up run), then drops its privileges and runs the command line
_AS_NOBODY = f"""
import os, sys
from meshctl.cli.main import main
import meshctl.manifests.report
main(["kube-inject", "-q", "-f", {str(SHARED / "istio-golden/inject/hello.yaml")!r},
      "-o", os.devnull])
os.setgroups([])
os.setgid({NOBODY})
os.setuid({NOBODY})
sys.exit(main(sys.argv[1:]))
"""


def _meshctl_unprivileged(args: list[str]) -> subprocess.CompletedProcess[bytes]:
    """meshctl as a user whom permissions bind: ``nobody`` when the tests run as root."""
    if not ROOT_USER:
        return _meshctl(args, capture_output=True)
    env = {**os.environ, "MESHCTL_NO_CACHE": "1"}
    return subprocess.run([sys.executable, "-c", _AS_NOBODY, *args], env=env,
                          capture_output=True, timeout=60, check=False)


def _injected(text: str) -> bool:
    return "istio-proxy" in text and "sidecar.istio.io/status" in text


def _no_temp_files(directory: Path) -> None:
    assert not [p.name for p in directory.iterdir() if p.name.endswith(".meshctl")]


# --- through devices, FIFOs and descriptors ------------------------------------------------


def _canary(tmp_path: Path, device: str) -> None:
    """Before a test writes to a system path, the same write through a symbolic link of our own
    to it: a meshctl that replaces what it writes to replaces our link, not the system's path
    (a failing test must not break the machine's /dev/null or /dev/stdout)."""
    f = tmp_path / "canary-input.yaml"
    f.write_text(SERVICE)
    link = tmp_path / "canary"
    link.symlink_to(device)
    res = _meshctl(["kube-inject", "-f", str(f), "-o", str(link)], capture_output=True)
    assert res.returncode == 0, res.stderr
    assert link.is_symlink(), f"-o replaced a symbolic link to {device} instead of writing it"


def test_output_to_dev_null_writes_through_it(tmp_path: Path) -> None:
    _canary(tmp_path, "/dev/null")
    f = tmp_path / "app.yaml"
    f.write_text(HELLO)
    before = os.stat("/dev/null")
    res = run_cli(["kube-inject", "-f", str(f), "-o", "/dev/null"])
    assert (res.rc, res.stdout) == (0, ""), res.stderr
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev
    assert after.st_ino == before.st_ino


def _reader(path: Path) -> tuple[threading.Thread, list[bytes]]:
    got: list[bytes] = []

    def read() -> None:
        with open(path, "rb") as fh:  # blocks until meshctl opens the FIFO for writing
            got.append(fh.read())

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread, got


def test_output_to_a_fifo_writes_through_it(tmp_path: Path) -> None:
    f = tmp_path / "app.yaml"
    f.write_text(HELLO)
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    thread, got = _reader(fifo)
    res = run_cli(["kube-inject", "-f", str(f), "-o", str(fifo)])
    thread.join(10)
    assert res.rc == 0, res.stderr
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode), "the FIFO was replaced"
    assert got and _injected(got[0].decode())
    _no_temp_files(tmp_path)


def test_output_to_dev_stdout_is_stdout(tmp_path: Path) -> None:
    """In a real process: a pipe, a file opened for appending (its content kept: nothing
    replaces or truncates it), and /dev/fd/N."""
    _canary(tmp_path, "/proc/self/fd/1")
    f = tmp_path / "app.yaml"
    f.write_text(HELLO)
    piped = _meshctl(["kube-inject", "-f", str(f), "-o", "/dev/stdout"], capture_output=True)
    assert piped.returncode == 0, piped.stderr
    assert _injected(piped.stdout.decode())

    log = tmp_path / "log.txt"
    log.write_text("earlier line\n")
    with open(log, "ab") as out:
        res = _meshctl(["kube-inject", "-f", str(f), "-o", "/dev/stdout", "-q"], stdout=out)
    assert res.returncode == 0
    text = log.read_text()
    assert text.startswith("earlier line\n") and _injected(text)

    extra = tmp_path / "fd.txt"
    with open(extra, "wb") as fh:
        fd = fh.fileno()
        res = _meshctl(["kube-inject", "-f", str(f), "-o", f"/dev/fd/{fd}", "-q"],
                       pass_fds=(fd,), capture_output=True)
    assert (res.returncode, res.stdout) == (0, b""), res.stderr
    assert _injected(extra.read_text())
    assert stat.S_ISREG(os.lstat(extra).st_mode)
    _no_temp_files(tmp_path)


def test_in_place_refuses_what_is_not_a_regular_file(tmp_path: Path) -> None:
    """A FIFO given as input (what ``-f <(helm template ...)`` is) cannot be rewritten."""
    fifo = tmp_path / "in.yaml"
    os.mkfifo(fifo)

    def feed() -> None:
        with open(fifo, "w") as fh:
            fh.write(HELLO)

    thread = threading.Thread(target=feed, daemon=True)
    thread.start()
    res = run_cli(["kube-inject", "-i", "-f", str(fifo)])
    thread.join(10)
    assert res.rc == 3
    assert res.stderr == (f"meshctl: error: {fifo}: not a regular file: --in-place only "
                          "rewrites files\n")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


# --- symbolic links, owner, group, mode, umask ---------------------------------------------


def test_in_place_and_output_follow_symlinks(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (real / "app.yaml").write_text(HELLO)
    link = tmp_path / "app.yaml"
    link.symlink_to("real/app.yaml")
    chain = tmp_path / "chain.yaml"
    chain.symlink_to("app.yaml")  # a link to a link

    res = run_cli(["kube-inject", "-i", "-f", str(chain)])
    assert res.rc == 0, res.stderr
    assert os.readlink(chain) == "app.yaml" and os.readlink(link) == "real/app.yaml"
    assert _injected((real / "app.yaml").read_text())
    _no_temp_files(tmp_path)
    _no_temp_files(real)

    (real / "app.yaml").write_text(HELLO)
    res = run_cli(["kube-inject", "-f", str(link), "-o", str(link)])  # -o names the input
    assert res.rc == 0, res.stderr
    assert link.is_symlink() and _injected((real / "app.yaml").read_text())

    dangling = tmp_path / "new.yaml"
    dangling.symlink_to("real/created.yaml")
    res = run_cli(["kube-inject", "-f", str(link), "-o", str(dangling)])
    assert res.rc == 0, res.stderr
    assert dangling.is_symlink() and _injected((real / "created.yaml").read_text())


@pytest.mark.skipif(not ROOT_USER, reason="giving a file to another owner needs root")
def test_in_place_keeps_owner_group_and_mode(tmp_path: Path) -> None:
    f = tmp_path / "app.yaml"
    f.write_text(HELLO)
    os.chown(f, 1234, 5678)
    os.chmod(f, 0o640)
    res = run_cli(["kube-inject", "-i", "-f", str(f)])
    assert res.rc == 0, res.stderr
    st = os.stat(f)
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (1234, 5678, 0o640)
    assert _injected(f.read_text())


def test_mode_is_kept_and_new_files_follow_the_umask(tmp_path: Path) -> None:
    f = tmp_path / "app.yaml"
    f.write_text(HELLO)
    os.chmod(f, 0o604)
    old = os.umask(0o027)
    try:
        res = run_cli(["kube-inject", "-i", "-f", str(f)])
        assert res.rc == 0, res.stderr
        assert stat.S_IMODE(os.stat(f).st_mode) == 0o604
        res = run_cli(["kube-inject", "-f", str(f), "-o", str(tmp_path / "new.yaml")])
        assert res.rc == 0, res.stderr
        assert stat.S_IMODE(os.stat(tmp_path / "new.yaml").st_mode) == 0o640
        os.umask(0o002)
        res = run_cli(["kube-inject", "-f", str(f), "-o", str(tmp_path / "shared.yaml")])
        assert stat.S_IMODE(os.stat(tmp_path / "shared.yaml").st_mode) == 0o664
    finally:
        os.umask(old)


def test_a_regular_file_is_replaced_not_rewritten(tmp_path: Path) -> None:
    """Atomic replacement: a reader that opened the old file reads all of the old content,
    the path gives all of the new; no temp file stays behind."""
    f = tmp_path / "app.yaml"
    f.write_text(HELLO)
    with open(f) as old:
        res = run_cli(["kube-inject", "-i", "-f", str(f)])
        assert res.rc == 0, res.stderr
        assert old.read() == HELLO
    assert _injected(f.read_text())
    _no_temp_files(tmp_path)


def test_a_hard_linked_file_is_replaced_under_its_name_with_a_warning(tmp_path: Path) -> None:
    f = tmp_path / "app.yaml"
    f.write_text(HELLO)
    other = tmp_path / "other-name.yaml"
    os.link(f, other)
    res = run_cli(["kube-inject", "-i", "-f", str(f)])
    assert res.rc == 0, res.stderr
    assert res.stderr.startswith(f"warning: {f}: had 2 hard links; the other names keep the "
                                 "old content\n")
    assert _injected(f.read_text()) and other.read_text() == HELLO


def test_a_file_named_twice_is_written_once(tmp_path: Path) -> None:
    f = tmp_path / "app.yaml"
    f.write_text(HELLO)
    link = tmp_path / "link.yaml"
    link.symlink_to("app.yaml")
    res = run_cli(["kube-inject", "-i", "-f", str(f), "-f", str(link), "-f", str(f)])
    assert res.rc == 0, res.stderr
    assert link.is_symlink() and _injected(f.read_text())
    _no_temp_files(tmp_path)


def test_a_long_file_name_still_gets_its_temp_file(tmp_path: Path) -> None:
    f = tmp_path / ("a" * 245 + ".yaml")
    f.write_text(HELLO)
    res = run_cli(["kube-inject", "-i", "-f", str(f)])
    assert res.rc == 0, res.stderr
    assert _injected(f.read_text())


# --- several files: all prepared before the first rename -------------------------------------


def test_a_failure_on_the_second_file_writes_nothing(tmp_path: Path) -> None:
    """The unit: the second file's directory does not exist as one (its parent is a file)."""
    first = tmp_path / "first.yaml"
    first.write_text("old\n")
    (tmp_path / "file").write_text("")
    second = tmp_path / "file" / "second.yaml"
    with pytest.raises(OutputError) as err:
        write_files([(str(first), "new\n"), (str(second), "new\n")], in_place=True)
    assert str(err.value) == f"{second}: cannot write: not a directory"
    assert first.read_text() == "old\n"
    _no_temp_files(tmp_path)


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A temporary directory that another user can reach (pytest's tmp_path is private)."""
    path = Path(tempfile.mkdtemp(prefix="meshctl-write-"))
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path)


def _two_inputs(base: Path, second_dir_mode: int) -> tuple[Path, Path]:
    (base / "a").mkdir()
    (base / "b").mkdir()
    first, second = base / "a" / "app.yaml", base / "b" / "app.yaml"
    first.write_text(HELLO)
    second.write_text(HELLO)
    os.chmod(base / "a", 0o777)
    os.chmod(base / "b", second_dir_mode)
    for p in (first, second):
        os.chmod(p, 0o666)
    return first, second


def test_unwritable_directory_of_the_second_file_writes_nothing(shared_tmp: Path) -> None:
    """The CLI: ``-i`` on two files, the second in a directory the user cannot write."""
    first, second = _two_inputs(shared_tmp, 0o555)
    res = _meshctl_unprivileged(["kube-inject", "-i", "-f", str(first), "-f", str(second)])
    assert (res.returncode, res.stdout) == (3, b"")
    assert res.stderr.decode() == (f"meshctl: error: {second}: cannot create a file in "
                                   f"{second.parent}: permission denied\n")
    assert first.read_text() == HELLO and second.read_text() == HELLO
    _no_temp_files(first.parent)


def test_a_read_only_file_is_not_replaced(shared_tmp: Path) -> None:
    """Like a shell's ``>``: a file the user may not write is not replaced, even though its
    directory would allow the rename."""
    first, second = _two_inputs(shared_tmp, 0o777)
    os.chmod(second, 0o444)
    res = _meshctl_unprivileged(["kube-inject", "-i", "-f", str(first), "-f", str(second)])
    assert res.returncode == 3
    assert res.stderr.decode() == f"meshctl: error: {second}: cannot write: permission denied\n"
    assert first.read_text() == HELLO and second.read_text() == HELLO


@pytest.mark.skipif(not ROOT_USER, reason="needs a file owned by someone else")
def test_an_owner_that_cannot_be_kept_is_reported(shared_tmp: Path) -> None:
    first, _ = _two_inputs(shared_tmp, 0o777)  # owned by root, writable by all
    res = _meshctl_unprivileged(["kube-inject", "-i", "-f", str(first)])
    assert res.returncode == 0, res.stderr
    assert (f"warning: {first}: could not keep its owner 0 (now {NOBODY}) and group 0 (now "
            f"{NOBODY}): not permitted\n") in res.stderr.decode()
    assert stat.S_IMODE(os.stat(first).st_mode) == 0o666
    assert _injected(first.read_text())


def test_a_full_disk_on_the_second_file_writes_nothing(shared_tmp: Path) -> None:
    """The second file's new text is bigger than the file size limit: writing its temp file
    fails half-way (EFBIG), after the first temp file was complete."""
    first, second = _two_inputs(shared_tmp, 0o777)
    second.write_text(HELLO + "---\n" + "# padding\n" * 3000)
    injected = run_cli(["kube-inject", "-f", str(first)]).stdout
    limit = len(injected) + 1000  # the first injected file fits, the second does not

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    res = _meshctl(["kube-inject", "-i", "-f", str(first), "-f", str(second)],
                   preexec=small_files, capture_output=True)
    assert res.returncode == 3, res.stderr
    assert res.stderr.decode() == f"meshctl: error: {second}: cannot write: file too large\n"
    assert first.read_text() == HELLO
    assert second.read_text().startswith(HELLO + "---\n")
    _no_temp_files(first.parent)
    _no_temp_files(second.parent)


# --- directories: what is read -----------------------------------------------------------


@pytest.fixture
def odd_dir(tmp_path: Path) -> Iterator[Path]:
    """A directory of manifests with a FIFO, a socket and a device among them."""
    d = tmp_path / "k8s"
    (d / "sub").mkdir(parents=True)
    (d / "app.yaml").write_text(HELLO)
    (d / "svc.yaml").symlink_to("app.yaml")  # a link to a regular file is read
    os.mkfifo(d / "pipe.yaml")
    os.mkfifo(d / "sub" / "pipe.yml")
    (d / "null.json").symlink_to("/dev/null")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(d / "sock.yaml"))
    (d / "notes.fifo").touch()  # not named like a manifest: never looked at
    yield d
    sock.close()


@pytest.mark.parametrize("recursive", [False, True], ids=["flat", "recursive"])
def test_non_regular_files_in_a_directory_are_skipped_with_a_warning(
        odd_dir: Path, recursive: bool) -> None:
    args = ["kube-inject", "-f", str(odd_dir), *(["-R"] if recursive else [])]
    res = _meshctl(args, capture_output=True)  # a child process: a hang fails, not blocks
    assert res.returncode == 0, res.stderr
    warnings = [ln for ln in res.stderr.decode().splitlines() if ln.startswith("warning:")]
    expected = [f"warning: {odd_dir}/null.json: not a regular file (a character device); "
                "skipped",
                f"warning: {odd_dir}/pipe.yaml: not a regular file (a FIFO); skipped",
                f"warning: {odd_dir}/sock.yaml: not a regular file (a socket); skipped"]
    if recursive:
        expected.append(f"warning: {odd_dir}/sub/pipe.yml: not a regular file (a FIFO); "
                        "skipped")
    assert warnings == expected
    assert res.stdout.decode().count("kind: Deployment") == 2  # app.yaml and its link


@pytest.mark.parametrize("recursive", [False, True], ids=["flat", "recursive"])
def test_a_dangling_symlink_in_a_directory_is_an_error(tmp_path: Path, recursive: bool) -> None:
    (tmp_path / "app.yaml").write_text(HELLO)
    (tmp_path / "gone.yaml").symlink_to("deleted.yaml")
    res = run_cli(["kube-inject", "-f", str(tmp_path), *(["-R"] if recursive else [])])
    assert (res.rc, res.stdout) == (3, "")
    assert res.stderr == (f"meshctl: error: {tmp_path}/gone.yaml: dangling symbolic link "
                          "(to deleted.yaml)\n")
