"""The injection profile of a run: the built-in one (offline, no files) or the user's Istio config.

The built-in profile is meshctl's own injection templates (``data/<name>.tpl``, Go text/template,
rendered by the same engine as a user's Istio templates: ``sidecar`` by default, ``gateway``,
``grpc-agent`` and ``grpc-simple`` on request with ``inject.istio.io/templates``) with Istio's
default injector values and mesh config (``data/values.yaml``, ``data/mesh.yaml``; images pinned
to one Istio release).

Each piece can be replaced on its own: ``--injectConfigFile`` replaces the template (and policy,
selectors...), ``--valuesFile`` the values, ``--meshConfigFile`` the mesh config,
``--operatorFileName`` overrides values and mesh config; ``--hub``/``--tag``/``--proxy-image``/
``--proxy-init-image`` override the image values last.
"""

from __future__ import annotations

import os

from meshctl.options import Options
from meshctl.sidecar.config import BUILTIN_TEMPLATES

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from meshctl.sidecar.config.settings import Settings

DATA = os.path.join(os.path.dirname(__file__), "data")


def _data(name: str) -> str:
    with open(os.path.join(DATA, name), encoding="utf-8") as fh:
        return fh.read()


def builtin_inject_config() -> dict[str, Any]:
    """The injector config of the built-in profile (what ConfigMap istio-sidecar-injector holds)."""
    return {
        "policy": "enabled",
        "defaultTemplates": ["sidecar"],
        "alwaysInjectSelector": [],
        "neverInjectSelector": [],
        "injectedAnnotations": {},
        "templates": {name: _data(f"{name}.tpl") for name in BUILTIN_TEMPLATES},
    }


def settings_for(opts: Options, *, inject_config: Any = None, values: Any = None,
                 mesh: Any = None) -> Settings:
    """The settings of a run: the files of ``opts``, else the sources given here (the
    cluster's ConfigMaps, for ``--from-cluster``), else the built-in profile's."""
    from meshctl.gotemplate.environ import capture
    from meshctl.sidecar.config.settings import load_settings

    values_source = opts.values_file or values or os.path.join(DATA, "values.yaml")
    mesh_source = opts.mesh_config_file or mesh or os.path.join(DATA, "mesh.yaml")
    return load_settings(
        opts.inject_config_file or inject_config or builtin_inject_config(),
        values_source,
        mesh_source,
        opts.operator_file,
        revision=opts.revision,
        native_sidecars=opts.native_sidecars_enabled,
        compliance_policy=opts.compliance_policy,
        hub=opts.hub,
        tag=opts.tag,
        proxy_image=opts.proxy_image,
        proxy_init_image=opts.proxy_init_image,
        template_env=capture(opts.template_env, os.environ),
        # the built-in profile's own files are checked by its tests, not on every run
        trusted=frozenset(p for p, given in ((values_source, opts.values_file or values),
                                             (mesh_source, opts.mesh_config_file or mesh))
                          if not given),
    )
