"""How the CLI reports an error: one line on stderr (``meshctl: error: ...``), whatever a
library put in its message, and the exit code. Tiny on purpose: every runner imports it."""

from __future__ import annotations

import sys


def fail(message: str, code: int) -> int:
    """Report an error in ONE line; its exit code."""
    message = " ".join(part.strip() for part in message.splitlines() if part.strip())
    sys.stdout.flush()
    sys.stderr.write(f"meshctl: error: {message}\n")
    sys.stderr.flush()
    return code
