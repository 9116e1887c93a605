"""Train the fidelity detector's learned layer on every labelled answer and write its weights.

    .venv/bin/python bench/fidelity_train.py

Reads ``credo/filters/data/fidelity_real_labels.jsonl`` (the study's text from
../shared/real-outputs, which must be present: training without it would silently drop four
sources) and the written set, fits the logistic regression on the answers the rules leave
open, and writes ``credo/filters/data/fidelity_model.json`` with its version and the sha256 of
the training rows. Deterministic: the same labels give the same weights.
"""

from __future__ import annotations

import json
import sys

from credo.filters.fidelity_eval import load_labelled
from credo.filters.fidelity_model import WEIGHTS
from credo.filters.fidelity_train import fit_cascade


def main() -> None:
    rows, skipped = load_labelled()
    if skipped:
        sys.exit(
            f"../shared/real-outputs is missing the text of {', '.join(skipped)}: not training"
        )
    model = fit_cascade(rows)
    WEIGHTS.write_text(json.dumps(model.to_json(), indent=1) + "\n", encoding="utf-8")
    print(
        f"wrote {WEIGHTS}: {model.training_rows} rows the rules leave open "
        f"(of {len(rows)}), sha256 {model.training_sha256[:12]}"
    )


if __name__ == "__main__":
    main()
