"""Corpora: the Record type on disk, manifests, dataset cards and mixing."""

from credo.corpora.io import (
    CARD_FILE,
    MANIFEST_FILE,
    RECORDS_FILE,
    JsonlAppender,
    iter_jsonl,
    read_manifest,
    read_records,
    records_path,
    repair_tail,
    write_json,
    write_records,
    write_text,
)
from credo.types import Message, Record

__all__ = [
    "CARD_FILE",
    "MANIFEST_FILE",
    "RECORDS_FILE",
    "JsonlAppender",
    "Message",
    "Record",
    "iter_jsonl",
    "read_manifest",
    "read_records",
    "records_path",
    "repair_tail",
    "write_json",
    "write_records",
    "write_text",
]
