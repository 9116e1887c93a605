"""The blind review sheet of round 9: what it shows, what it keeps apart, what it samples."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import judge_blind

from credo.judges.base import ACCEPTANCE, DEFLECTION, REFUSAL


def _rows(n: int) -> list[dict[str, str]]:
    return [
        {
            "id": f"RUN-SECRET-{i % 3}/{i:03d}",
            "run": f"RUN-SECRET-{i % 3}",
            "request": f"request number {i}",
            "response": f"answer number {i}",
            "study_label": ACCEPTANCE if i % 2 else REFUSAL,
        }
        for i in range(n)
    ]


def _said(rows: list[dict[str, str]], disputed: set[int]) -> dict[str, dict[str, str]]:
    """Every judge agrees with the study, except lr-2 on the ``disputed`` rows."""
    said = {}
    for i, r in enumerate(rows):
        lr2 = DEFLECTION if i in disputed else r["study_label"]
        said[r["id"]] = {"lr2": lr2, "rules": r["study_label"], "strmatch": r["study_label"]}
    return said


def test_sheet_shows_number_request_and_response_only() -> None:
    rows = _rows(60)
    review, disputed, agreeing = judge_blind.review_set(rows, _said(rows, {1, 2, 3}), set())
    sheet = judge_blind.render(review, rows)
    assert (disputed, agreeing) == (3, 57)
    for word in ("SECRET", REFUSAL, ACCEPTANCE, DEFLECTION, "control", "lr2"):
        assert word not in sheet
    # every number on the sheet is in the key, with the pair it shows
    for e in review:
        i = int(e["id"].rsplit("/", 1)[1])
        assert f"## {e['n']}\n\nREQUEST: request number {i}\n" in sheet


def test_all_disputed_pairs_and_a_seeded_share_of_the_rest() -> None:
    rows = _rows(200)
    said = _said(rows, {5, 6, 7, 8})
    review, _, agreeing = judge_blind.review_set(rows, said, old={rows[5]["id"]})
    ids = [e["id"] for e in review]
    # the disputed pairs, less the one adjudicated before, are all there
    assert {rows[i]["id"] for i in (6, 7, 8)} <= set(ids) and rows[5]["id"] not in ids
    control = [e for e in review if e.get("control")]
    assert len(control) == round(judge_blind.CONTROL_SHARE * agreeing)
    assert all(not e["disagree"] for e in control)
    # the same seed draws the same sheet; the order is shuffled, not the file's
    again, _, _ = judge_blind.review_set(rows, said, old={rows[5]["id"]})
    assert [e["id"] for e in again] == ids and ids != sorted(ids)


def test_redo_old_puts_only_the_earlier_adjudications_on_the_sheet() -> None:
    rows = _rows(40)
    old = {rows[i]["id"] for i in (2, 9, 30)}
    review, _, _ = judge_blind.review_set(rows, _said(rows, {2, 4}), old, redo_old=True)
    assert {e["id"] for e in review} == old
    assert sorted(e["n"] for e in review) == [1, 2, 3]


def test_string_match_is_read_two_way() -> None:
    # it never says DEFLECTION, so calling a deflection ACCEPTANCE is no dispute
    assert not judge_blind.disagrees("strmatch", ACCEPTANCE, DEFLECTION)
    assert judge_blind.disagrees("strmatch", ACCEPTANCE, REFUSAL)
    assert judge_blind.disagrees("lr2", ACCEPTANCE, DEFLECTION)
