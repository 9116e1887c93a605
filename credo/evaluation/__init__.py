"""Evaluation: sample a (trained) model on eval requests, judge the answers, summarise with
intervals, and compare runs in a report. ``stats`` is a leaf: it imports nothing of credo."""
