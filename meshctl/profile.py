"""The injection profile of a run: the built-in one (offline, no files) or the user's Istio config.

The built-in profile is meshctl's own sidecar template (``data/sidecar.tpl``, Go text/template,
rendered by the same engine as a user's Istio templates) with the default values and mesh config
of the Istio release named in ``data/values.yaml``. ``--hub``/``--tag``/``--proxy-image``/
``--proxy-init-image``/``--revision`` apply to either.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from meshctl.options import Options

if TYPE_CHECKING:
    from meshctl.istio.settings import Settings

DATA = Path(__file__).parent / "data"


def settings_for(opts: Options) -> Settings:
    from meshctl.istio.settings import load_settings

    if opts.uses_istio_config:
        inject_config = opts.inject_config_file
        values = opts.values_file
        mesh = opts.mesh_config_file
    else:
        inject_config = str(DATA / "injector.yaml")
        values = str(DATA / "values.yaml")
        mesh = str(DATA / "mesh.yaml")
    return load_settings(
        inject_config,
        values,
        mesh,
        opts.operator_file,
        revision=opts.revision,
        native_sidecars=opts.native_sidecars_enabled,
        compliance_policy=opts.compliance_policy,
        hub=opts.hub,
        tag=opts.tag,
        proxy_image=opts.proxy_image,
        proxy_init_image=opts.proxy_init_image,
    )
