"""Kubernetes resource quantities in canonical form (``2000m`` -> ``2``, ``1024Mi`` -> ``1Gi``).

Go's ``resource.Quantity`` prints the canonical form whenever a typed object is written, so the
JSON Istio stores in annotations (``proxy.istio.io/overrides``) carries it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

TYPE_CHECKING = False
if TYPE_CHECKING:
    from fractions import Fraction
    from typing import Any, Final

_BINARY: Final = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_DECIMAL: Final = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15,
                   "E": 18}
_DEC_SUFFIX: Final = {v: k for k, v in _DECIMAL.items()}
_BIN_SUFFIX: Final = {v: k for k, v in _BINARY.items()}
_RE: Final = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+))(?:(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)|"
                        r"[eE]([+-]?\d+))?$")


def parse_quantity(text: str) -> tuple[Fraction, str] | None:
    """The value and format (``binary``, ``decimal``, ``exponent``) of a quantity, or None."""
    m = _RE.match(text.strip())
    if not m:
        return None
    from fractions import Fraction  # only for resource annotations (start-up cost)

    number, suffix, exponent = m.group(1), m.group(2), m.group(3)
    value = Fraction(number)
    if exponent is not None:
        return value * Fraction(10) ** int(exponent), "exponent"
    if suffix in _BINARY:
        return value * 1024 ** _BINARY[suffix], "binary"
    return value * Fraction(10) ** _DECIMAL[suffix or ""], "decimal"


def canonical_quantity(value: Any) -> Any:
    """The canonical text of a quantity; anything that is not one is returned unchanged."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        value = str(value)
    if not isinstance(value, str):
        return value
    parsed = parse_quantity(value)
    if parsed is None:
        return value
    from fractions import Fraction

    amount, fmt = parsed
    # Kubernetes keeps nano precision, rounding up.
    nanos = amount * 10**9
    if nanos.denominator != 1:
        amount = Fraction(-((-nanos.numerator) // nanos.denominator), 10**9)
    if fmt == "binary" and amount.denominator == 1:
        n = amount.numerator
        if n != 0 and abs(n) >= 1024:
            power = 0
            while power < 6 and n % 1024 == 0 and abs(n) >= 1024:
                n //= 1024
                power += 1
            return f"{n}{_BIN_SUFFIX.get(power, '')}"
        if n == 0 or abs(n) < 1024:
            return str(n)
    sign = "-" if amount < 0 else ""
    amount = abs(amount)
    if amount == 0:
        return "0"
    exp = 0
    while amount.denominator != 1:
        amount *= 10
        exp -= 1
    mantissa = amount.numerator
    while mantissa % 10 == 0 and mantissa:
        mantissa //= 10
        exp += 1
    if fmt == "exponent":
        while exp % 3:
            mantissa *= 10
            exp -= 1
        return f"{sign}{mantissa}" + (f"e{exp}" if exp else "")
    while exp % 3 or exp > 18:
        mantissa *= 10
        exp -= 1
    return f"{sign}{mantissa}{_DEC_SUFFIX.get(exp, '')}"


def respelt_resources(resources: Any, spelt: Any) -> Any:
    """A container's ``resources`` with each quantity written as ``spelt`` (the same container's
    resources elsewhere) writes it, where both hold the same amount.

    Why: ``proxy.istio.io/overrides`` records the user's containers as Go writes them, in
    canonical form (``2000m`` is ``"2"`` there, ``1024Mi`` is ``"1Gi"``), while the pod keeps
    the user's own text; restoring from the annotation must not rewrite that text.
    """
    if not isinstance(resources, Mapping) or not isinstance(spelt, Mapping):
        return resources
    out = dict(resources)
    for kind, amounts in resources.items():
        mine = spelt.get(kind)
        if isinstance(amounts, Mapping) and isinstance(mine, Mapping):
            out[kind] = {
                q: mine[q] if q in mine and canonical_quantity(mine[q]) == canonical_quantity(v)
                else v
                for q, v in amounts.items()
            }
    return out
