"""Property-based tests (Hypothesis): the parsers and writers every command relies on never
raise anything but a CredoError, and what they write reads back."""

from __future__ import annotations

import json
import math
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credo.corpora.io import dumps, iter_jsonl, loads, read_records, record_from_line, write_records
from credo.errors import CredoError
from credo.generators.cache import GenerationCache, completion_from_row
from credo.markers import find_markers, neutralise
from credo.schema import load_yaml
from credo.types import Completion, Message, Record, Usage

SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
# Any text Python can hold, lone surrogates included (they reach credo from model output).
ANY_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=80)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | ANY_TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ANY_TEXT, inner, max_size=4),
    max_leaves=20,
)
ROLE_TEXT = st.text(min_size=1, max_size=60).filter(str.strip)


@SETTINGS
@given(value=JSON)
def test_any_json_line_is_a_record_or_one_credo_error(value: object, tmp_path: Path) -> None:
    path = tmp_path / "records.jsonl"
    path.write_text(dumps(value) + "\n", encoding="utf-8")
    try:
        for number, data in iter_jsonl(path):
            record_from_line(data, path, number)
    except CredoError as exc:
        assert "\n" not in str(exc) and str(path) in str(exc)


@SETTINGS
@given(raw=st.binary(max_size=200))
def test_any_bytes_read_as_records_or_one_credo_error(raw: bytes, tmp_path: Path) -> None:
    path = tmp_path / "records.jsonl"
    path.write_bytes(raw)
    try:
        list(read_records(path))
    except CredoError as exc:
        assert str(path) in str(exc)


@st.composite
def records(draw: st.DrawFn) -> list[Record]:
    out = []
    for index in range(draw(st.integers(1, 4))):
        turns = draw(st.integers(1, 2))
        messages = []
        for _ in range(turns):
            messages += [Message("user", draw(ROLE_TEXT)), Message("assistant", draw(ROLE_TEXT))]
        meta = draw(st.dictionaries(st.text(max_size=8), JSON, max_size=3))
        out.append(Record(f"r{index}", messages, meta))
    return out


@SETTINGS
@given(written=records())
def test_the_jsonl_writer_round_trips(written: list[Record], tmp_path: Path) -> None:
    path = tmp_path / "records.jsonl"
    assert write_records(written, path) == len(written)
    for line in path.read_text(encoding="utf-8").split("\n")[:-1]:  # not splitlines: U+0085
        loads(line)  # strict JSON: no NaN, no Infinity, no lone surrogate
    read = list(read_records(path))
    assert [r.id for r in read] == [r.id for r in written]
    for before, after in zip(written, read):
        assert [m.role for m in after.messages] == [m.role for m in before.messages]
        assert after.messages == before.messages or after.meta.get("text_repaired")
        assert after.meta == json.loads(dumps(before.meta)) or after.meta.get("text_repaired")


@SETTINGS
@given(text=ANY_TEXT | st.just("{}") | JSON.map(dumps))
def test_any_cache_row_is_a_completion_or_a_miss(text: str) -> None:
    found = completion_from_row(text)
    assert found is None or isinstance(found, Completion)


@SETTINGS
@given(
    text=st.text(max_size=200),
    tokens=st.tuples(st.integers(0, 10**9), st.integers(0, 10**9)),
    stop=st.sampled_from(["stop", "length"]),
)
def test_the_cache_returns_what_it_stored(
    text: str, tokens: tuple[int, int], stop: str, tmp_path: Path
) -> None:
    cache = GenerationCache(tmp_path / "cache.sqlite")
    completion = Completion(text, stop, Usage(*tokens), model="m")  # type: ignore[arg-type]
    cache.put("k", completion)
    assert cache.get("k") == completion
    cache.close()


@SETTINGS
@given(raw=st.binary(max_size=300))
def test_a_damaged_cache_file_is_a_miss_never_an_error(raw: bytes, tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    path.write_bytes(raw)
    cache = GenerationCache(path)
    assert cache.get("k") is None
    cache.put("k", Completion("x"))
    cache.close()


@SETTINGS
@given(text=ANY_TEXT | JSON.map(lambda v: json.dumps(v, default=str)))
def test_any_yaml_text_loads_or_is_one_config_error(text: str) -> None:
    try:
        load_yaml(text, "c.yaml")
    except CredoError as exc:
        assert str(exc).startswith("c.yaml: ") and "\n" not in str(exc)


@SETTINGS
@given(text=ANY_TEXT)
def test_neutralised_text_holds_no_marker(text: str) -> None:
    assert find_markers(neutralise(text)) == []


MARKERS = st.sampled_from(
    ["<|im_start|>", "<|eot_id|>", "[INST]", "<start_of_turn>", "\n\nHuman:", "\nUser:",
     "### Instruction:", "</s>USER:", "<\uff5cUser\uff5c>", "<USER_STATEMENT>", "|", "<", "\n"]
)  # fmt: skip


@SETTINGS
@given(parts=st.lists(MARKERS | st.text(max_size=5), max_size=12))
def test_neutralised_marker_soup_holds_no_marker(parts: list[str]) -> None:
    assert find_markers(neutralise("".join(parts))) == []


@SETTINGS
@given(query=ANY_TEXT)
def test_any_search_text_is_a_valid_fts_query(query: str) -> None:
    from credo.reports.view_index import fts_query

    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE search USING fts5(body, content='', detail=none)")
    db.execute("INSERT INTO search(rowid, body) VALUES (1, 'pebbles at dusk')")
    match = fts_query(query, lambda start: ["pebbles"])
    if match is not None:
        db.execute("SELECT rowid FROM search WHERE search MATCH ?", (match,)).fetchall()


def test_floats_survive_the_writer_as_finite_or_null(tmp_path: Path) -> None:
    record = Record("r", [Message("user", "q"), Message("assistant", "a")], {"x": math.inf})
    write_records([record], tmp_path / "records.jsonl")
    assert next(read_records(tmp_path / "records.jsonl")).meta == {"x": None}


def test_a_missing_chunk_ids_file_says_how_to_recover(tmp_path: Path) -> None:
    from credo.errors import CorpusError
    from credo.generators.batch_state import BatchState

    state = BatchState(tmp_path, "openai", "gpt-x")
    chunk = state.new_chunk(["a", "b"], 10)
    assert state.ids(chunk) == ["a", "b"]
    state.ids_path(chunk).unlink()
    with pytest.raises(CorpusError, match=r"chunk-0001\.ids: missing .*credo batches .* --cancel"):
        state.ids(chunk)
    assert BatchState.load(tmp_path, "openai", "gpt-x").chunks[0].name == "chunk-0001"
