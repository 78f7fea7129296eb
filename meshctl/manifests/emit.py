"""Emit: turn a finished run into stdout text and files to write, per output mode.

The documents' new text is built by :mod:`meshctl.yamltext.edit` (which keeps the user's bytes);
this module only decides where it goes. Files are written atomically (temp file + rename in the
same directory), after the whole run succeeded, so an error never leaves a partial file and
``-o`` may name one of the inputs.
"""

from __future__ import annotations

import contextlib
import os

from meshctl.manifests import formats
from meshctl.manifests.results import RunResult
from meshctl.options import Mode, Options

FileWrite = tuple[str, str]


def joined_output(result: RunResult) -> str:
    """All sources as one stream: YAML joined with ``---``, JSON values one after another."""
    texts: list[str] = []
    for i, s in enumerate(result.sources):
        text = s.new_text
        if s.source.bom and i == 0:
            text = "\ufeff" + text
        if i > 0 and texts:
            prev = texts[-1]
            if prev and not prev.endswith("\n"):
                texts[-1] = prev + "\n"
            if not (
                s.source.is_json and result.sources[i - 1].source.is_json
            ) and not text.startswith("---"):
                texts.append("---\n")
        texts.append(text)
    return "".join(texts)


def emit(result: RunResult, opts: Options) -> tuple[str, list[FileWrite]]:
    """Return (text for stdout, files to write). Pure: nothing is written here."""
    if opts.mode is Mode.CHECK:
        return "", []
    if opts.mode is Mode.DIFF:
        return formats.render_diff(result), []
    if opts.mode is Mode.IN_PLACE:
        files: list[FileWrite] = []
        for s in result.sources:
            if s.changed and s.source.path is not None:
                prefix = "\ufeff" if s.source.bom else ""
                files.append((s.source.path, prefix + s.new_text))
        return "", files
    if opts.output_format == "json":
        text = formats.render_json(result)
    elif opts.output_format == "patch":
        text = formats.render_kustomize_patches(result)
    elif opts.output_format == "jsonpatch":
        text = formats.render_jsonpatch(result)
    else:
        text = joined_output(result)
    if opts.output is not None and opts.output != "-":
        return "", [(opts.output, text)]
    return text, []


def write_files(files: list[FileWrite]) -> None:
    """Write each file atomically; keep an existing file's permissions."""
    if not files:
        return
    import tempfile  # only when writing files (start-up cost)

    for path, text in files:
        directory = os.path.dirname(path) or "."
        mode = None
        with contextlib.suppress(FileNotFoundError):
            mode = os.stat(path).st_mode & 0o7777
        base = os.path.basename(path)
        fd, tmp = tempfile.mkstemp(prefix=f".{base}.", suffix=".meshctl", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            if mode is not None:
                os.chmod(tmp, mode)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
