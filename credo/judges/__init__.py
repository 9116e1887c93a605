"""Judges that label a (request, response) pair REFUSAL, DEFLECTION or ACCEPTANCE.

``credo eval`` and ``credo judge`` share one path: :func:`build_judge` then
:func:`label_pairs`; :func:`agreement` gives pairwise Cohen's kappa with confusion matrices.
"""

from credo.judges.base import (
    ACCEPTANCE,
    ALL_LABELS,
    DEFLECTION,
    ERROR,
    LABELS,
    REFUSAL,
    UNPARSEABLE,
    Judge,
    Judgement,
    Pair,
    collapse,
)
from credo.judges.labelling import agreement, build_judge, build_judges, label_counts, label_pairs
from credo.judges.learned import OfflineJudge
from credo.judges.offline import RulesJudge
from credo.judges.run import judge_file

__all__ = [
    "ACCEPTANCE",
    "ALL_LABELS",
    "DEFLECTION",
    "ERROR",
    "LABELS",
    "REFUSAL",
    "UNPARSEABLE",
    "Judge",
    "Judgement",
    "OfflineJudge",
    "Pair",
    "RulesJudge",
    "agreement",
    "build_judge",
    "build_judges",
    "collapse",
    "judge_file",
    "label_counts",
    "label_pairs",
]
