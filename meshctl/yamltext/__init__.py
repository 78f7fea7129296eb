"""Format-preserving YAML: parse with positions (``source``), RFC 6902 patches on data
(``patch``), text for new content (``emitter``), and the editor that applies a patch to a
document's source text keeping every other byte (``tree``, ``layout``, ``edit``)."""
