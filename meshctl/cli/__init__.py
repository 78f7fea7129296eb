"""argv -> options -> command -> exit code: the only code that prints or exits.

``main`` (start-up, the click-free fast paths), ``spec`` (options declared once), ``run``
(running a manifest command and printing its result), ``app`` (the click application),
``version``.
"""
