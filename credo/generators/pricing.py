"""Token prices per model, in US dollars per million tokens, and the cost of a run.

The table is a starting point dated below; prices change, so a YAML or JSON file
(``--prices FILE`` or ``CREDO_PRICES``) maps ``provider/model`` (or a prefix ending in ``*``)
to ``{input: $, output: $}`` and wins over the built-in rows. An unknown model has an
unknown cost (None), never a made-up one.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

import yaml

from credo.errors import ConfigError
from credo.schema import YAML_MAX_BYTES, YamlRefused, parse_yaml, read_limited
from credo.types import Usage

PRICES_AS_OF = "2025-06"
# Each backend declares its own rows (``BackendSpec.prices``); longest matching prefix wins.


def price_rows(table: str) -> dict[str, tuple[float, float]]:
    """A backend's price rows from a text table: one ``model-or-prefix* input output`` a line
    (US dollars per million tokens)."""
    rows = {}
    for line in table.strip().splitlines():
        model, input_price, output_price = line.split()
        rows[model] = (float(input_price), float(output_price))
    return rows


@dataclass(frozen=True)
class Price:
    input: float
    output: float

    def cost(self, usage: Usage) -> float:
        return (usage.input_tokens * self.input + usage.output_tokens * self.output) / 1e6


class PriceTable:
    """Look up ``provider/model`` by exact name, then by the longest ``prefix*`` row."""

    def __init__(self, rows: dict[str, tuple[float, float]]) -> None:
        self.rows = dict(rows)

    def price(self, model_id: str) -> Price | None:
        if model_id in self.rows:
            return Price(*self.rows[model_id])
        matches = [k for k in self.rows if k.endswith("*") and model_id.startswith(k[:-1])]
        if not matches:
            return None
        return Price(*self.rows[max(matches, key=len)])

    def cost(self, model_id: str, usage: Usage) -> float | None:
        price = self.price(model_id)
        return None if price is None else round(price.cost(usage), 6)


def load_price_table(path: str | Path | None = None) -> PriceTable:
    """The built-in table, overridden by ``path`` or ``$CREDO_PRICES`` when given."""
    from credo.generators.registry import declared_prices

    rows = declared_prices()
    source = path or os.environ.get("CREDO_PRICES")
    if source:
        rows.update(_read_overrides(Path(source)))
    return PriceTable(rows)


def _read_overrides(path: Path) -> dict[str, tuple[float, float]]:
    try:
        text = read_limited(path, YAML_MAX_BYTES)
        if text is None:
            raise ConfigError(f"{path}: over {YAML_MAX_BYTES:,} bytes - a price table is small")
        data = json.loads(text) if path.suffix == ".json" else parse_yaml(text)
    except (OSError, ValueError, yaml.YAMLError, YamlRefused) as exc:
        said = " ".join(str(exc).split())[:200]  # a YAML error spans lines; the error is one
        raise ConfigError(f"{path}: cannot read the price table ({said})") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a price table maps 'provider/model' to {{input, output}}")
    rows = {}
    for model_id, entry in data.items():
        try:
            rows[str(model_id)] = (float(entry["input"]), float(entry["output"]))
        except (TypeError, KeyError, ValueError, OverflowError) as exc:  # 10**400 overflows
            raise ConfigError(
                f"{path}: field '{model_id}' needs numeric 'input' and 'output' "
                f"(USD per million tokens), e.g. {{input: 0.15, output: 0.6}}"
            ) from exc
        if not all(math.isfinite(v) and 0 <= v <= 1e6 for v in rows[str(model_id)]):
            raise ConfigError(
                f"{path}: field '{model_id}': prices must be finite, >= 0 and at most 1e6 "
                "USD per million tokens"
            )
    return rows
