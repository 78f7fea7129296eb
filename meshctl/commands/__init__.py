"""Use cases: one per module, returning data; the CLI prints.

``inject`` and ``uninject`` run the document pipeline (``pipeline``) with their workload step;
``create_ingress`` builds the mesh's front door, ``url`` finds addresses in a cluster. A new
command gets a module here: options record in, result record out, errors raised.
"""
