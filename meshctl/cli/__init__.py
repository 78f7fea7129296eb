"""argv -> options -> command -> exit code: the only code that prints or exits.

``main`` (start-up, the click-free fast paths, the one catch-all for bugs), ``spec`` (every
command and option declared once), ``app`` (the click application built from ``spec``), the
runners (``run`` for ``kube-inject``/``kube-uninject``, ``url``, ``create``, ``fn`` for the KRM
function), ``output`` (the one-line error), ``terminal`` (colour and progress, rich only on a
terminal), ``plugins`` (the kubectl and Helm plugin entry points), ``completion``, ``version``.
"""
