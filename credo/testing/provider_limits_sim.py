"""A provider's rate limiting simulated from the public docs, to judge the client's pacing.

Written apart from :mod:`credo.testing.fake_limits` (which the pacer was tuned against) so
that a pacer fitted to one simulation's quirks is caught by another. What the docs say, and
what is simulated:

- Limits are token buckets replenished continuously, not windows reset each minute; a
  per-minute limit may be enforced over shorter intervals (60 RPM as 1 request a second),
  so a bucket holds ``burst_seconds`` of its limit (default 1 s).
- OpenAI counts a request against TPM as its prompt plus ``max_tokens`` (``max_tokens`` is
  what the answer may use, known before it exists); nothing is given back afterwards.
- Anthropic has separate input (ITPM) and output (OTPM) limits; output is estimated from
  ``max_tokens`` when the request starts and adjusted to the real output when it ends.
- Headers: OpenAI ``x-ratelimit-{limit,remaining,reset}-{requests,tokens}``, the reset as
  a duration (``1s``, ``6m0s``, ``120ms``: time until the bucket is full again);
  Anthropic ``anthropic-ratelimit-{requests,input-tokens,output-tokens,tokens}-{limit,
  remaining,reset}``, the reset as an RFC 3339 time (whole seconds), token counts remaining
  rounded to the nearest thousand, ``tokens`` the most restrictive of input and output.
- Over a limit: 429 with ``retry-after`` in whole seconds.

The buckets are kept as a theoretical arrival time (GCRA): a bucket is full when that time
is not in the future, and every unit taken pushes it ``60 / limit`` seconds later. Tokens are
counted with a word-and-punctuation split (not the ``credo.testing`` word count), answers
are ``output_share`` of ``max_tokens`` long, and latency is ``latency`` seconds +- ``jitter``
(uniform, seeded). Serve one with ``python -m credo.testing.provider_limits_sim --rpm 300``.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from credo.testing._http import KeepAliveHandler

_TOKEN = re.compile(r"\w+|[^\w\s]")
TALLY = ("ok", "rate_limited", "prompt_tokens", "max_tokens", "output_tokens")
ROUTES = {"/v1/chat/completions": "openai", "/v1/messages": "anthropic"}


def count_tokens(text: str) -> int:
    return len(_TOKEN.findall(text))


@dataclass
class Allowance:
    """One limit as a generic-cell-rate bucket: ``full_at`` is when it is full again."""

    per_minute: float
    burst_seconds: float
    full_at: float = 0.0

    @property
    def capacity(self) -> float:
        return self.per_minute * self.burst_seconds / 60

    def debt(self, now: float) -> float:
        """Seconds until the bucket is full again (the reset)."""
        return max(0.0, self.full_at - now)

    def remaining(self, now: float) -> float:
        return max(0.0, self.capacity - self.debt(now) * self.per_minute / 60)

    def shortfall(self, units: float, now: float) -> float:
        """Seconds until ``units`` fit (0: they fit now). A cost above the capacity fits an
        empty-handed full bucket, as a single large request must be served some time."""
        after = self.debt(now) + units * 60 / self.per_minute
        return max(0.0, after - max(self.burst_seconds, units * 60 / self.per_minute))

    def take(self, units: float, now: float) -> None:
        self.full_at = now + self.debt(now) + units * 60 / self.per_minute

    def give_back(self, units: float, now: float) -> None:
        self.full_at = max(now, self.full_at - units * 60 / self.per_minute)


@dataclass
class ProviderLimits:
    """What one provider admits; pure accounting on an injected clock (tests pass a fake)."""

    provider: str  # "openai" or "anthropic"
    rpm: float
    tpm: float | None = None  # openai TPM; anthropic ITPM and OTPM (unless set apart)
    otpm: float | None = None  # anthropic output limit, when not ``tpm``
    burst_seconds: float = 1.0
    clock: Callable[[], float] = time.monotonic
    limits: dict[str, Allowance] = field(init=False)
    admitted: int = 0
    refused: int = 0

    def __post_init__(self) -> None:
        if self.provider not in ("openai", "anthropic"):
            raise ValueError(f"provider {self.provider!r}: use openai or anthropic")
        kinds: dict[str, float | None] = {"requests": self.rpm}
        if self.provider == "openai":
            kinds["tokens"] = self.tpm
        else:
            kinds["input-tokens"] = self.tpm
            kinds["output-tokens"] = self.otpm or self.tpm
        self.limits = {k: Allowance(v, self.burst_seconds) for k, v in kinds.items() if v}
        self._lock = threading.Lock()

    def charges(self, prompt_tokens: int, max_tokens: int) -> dict[str, float]:
        if self.provider == "openai":
            return {"requests": 1, "tokens": prompt_tokens + max_tokens}
        return {"requests": 1, "input-tokens": prompt_tokens, "output-tokens": max_tokens}

    def admit(self, prompt_tokens: int, max_tokens: int) -> float:
        """Take the request's charges and return 0, or return the seconds until it fits."""
        charges = self.charges(prompt_tokens, max_tokens)
        with self._lock:
            now = self.clock()
            wait = max(
                (a.shortfall(charges.get(kind, 0), now) for kind, a in self.limits.items()),
                default=0.0,
            )
            if wait > 0:
                self.refused += 1
                return wait
            for kind, allowance in self.limits.items():
                allowance.take(charges.get(kind, 0), now)
            self.admitted += 1
            return 0.0

    def settle(self, max_tokens: int, output_tokens: int) -> None:
        """The answer is done: Anthropic gives back the output it reserved but did not use."""
        unused = max_tokens - output_tokens
        output = self.limits.get("output-tokens")
        if output is not None and unused > 0:
            with self._lock:
                output.give_back(unused, self.clock())

    def headers(self, wall: float | None = None) -> dict[str, str]:
        """The rate-limit headers an answer carries now (``wall``: the Unix time, for resets)."""
        with self._lock:
            now = self.clock()
            state = {
                k: (a.per_minute, a.remaining(now), a.debt(now)) for k, a in self.limits.items()
            }
        if self.provider == "openai":
            return {
                f"x-ratelimit-{field}-{kind}": value
                for kind, (limit, left, debt) in state.items()
                for field, value in (
                    ("limit", str(int(limit))),
                    ("remaining", str(int(left))),
                    ("reset", go_duration(debt)),
                )
            }
        wall = time.time() if wall is None else wall
        tokens = [k for k in ("input-tokens", "output-tokens") if k in state]
        if tokens:  # "tokens": the most restrictive token limit in effect
            state["tokens"] = min((state[k] for k in tokens), key=lambda s: s[1])
        out = {}
        for kind, (limit, left, debt) in state.items():
            shown = int(left) if kind == "requests" else int(round(left, -3))
            reset = datetime.fromtimestamp(math.ceil(wall + debt), UTC)
            out[f"anthropic-ratelimit-{kind}-limit"] = str(int(limit))
            out[f"anthropic-ratelimit-{kind}-remaining"] = str(shown)
            out[f"anthropic-ratelimit-{kind}-reset"] = reset.strftime("%Y-%m-%dT%H:%M:%SZ")
        return out


def go_duration(seconds: float) -> str:
    """OpenAI's reset format: ``6m0s``, ``1s``, ``17.5s``, ``120ms``."""
    if seconds < 1:
        return f"{math.ceil(seconds * 1000)}ms"
    minutes, rest = divmod(seconds, 60)
    text = f"{rest:.3f}".rstrip("0").rstrip(".") + "s"
    return f"{int(minutes)}m{text}" if minutes else text


class ProviderSim:
    """An HTTP server on 127.0.0.1 speaking both providers' chat APIs under ``ProviderLimits``.

    One provider per server, the one ``limits`` are for; the real SDKs talk to it.
    ``tally`` counts what was answered (200s, 429s) and the tokens of the 200s.
    """

    def __init__(
        self,
        limits: ProviderLimits,
        *,
        latency: float = 0.5,
        jitter: float = 0.3,
        output_share: float = 0.5,
        seed: int = 0,
    ) -> None:
        self.limits = limits
        self.latency, self.jitter, self.output_share = latency, jitter, output_share
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self.tally = dict.fromkeys(TALLY, 0)
        # When each request was admitted and when the first answer left (the server's clock):
        # how full the window was kept once the client could know the limits.
        self.admitted_at: list[float] = []
        self.first_answer: float | None = None
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        self._httpd.request_queue_size = 512

    @property
    def provider(self) -> str:
        return self.limits.provider

    @property
    def base_url(self) -> str:
        """The SDK's base URL: openai's ends in ``/v1``, anthropic's does not."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}" + ("/v1" if self.provider == "openai" else "")

    def delay(self) -> float:
        with self._lock:
            spread = self._random.uniform(-self.jitter, self.jitter)
        return max(0.0, self.latency + spread)

    def answer(self, body: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
        """(status, JSON body, headers) for one request; sleeps its latency when admitted."""
        prompt = prompt_tokens(self.provider, body)
        max_tokens = int(body.get("max_completion_tokens") or body.get("max_tokens") or 16)
        wait = self.limits.admit(prompt, max_tokens)
        admitted = self.limits.clock()
        if wait:
            with self._lock:
                self.tally["rate_limited"] += 1
            headers = self.limits.headers()
            headers["retry-after"] = str(math.ceil(wait))
            return 429, rate_limit_error(self.provider), headers
        time.sleep(self.delay())
        output = max(1, round(max_tokens * self.output_share))
        self.limits.settle(max_tokens, output)
        with self._lock:
            for name, value in zip(TALLY, (1, 0, prompt, max_tokens, output), strict=True):
                self.tally[name] += value
            self.admitted_at.append(admitted)
            if self.first_answer is None:
                self.first_answer = self.limits.clock()
        return 200, completion(self.provider, body, prompt, output), self.limits.headers()

    def __enter__(self) -> ProviderSim:
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def prompt_tokens(provider: str, body: dict[str, Any]) -> int:
    texts = [str(body.get("system", ""))] if provider == "anthropic" else []
    for message in body.get("messages") or []:
        content = message.get("content", "")
        if isinstance(content, list):
            content = " ".join(str(part.get("text", "")) for part in content)
        texts.append(str(content))
    return sum(count_tokens(t) + 4 for t in texts)  # a few tokens of framing per message


def completion(provider: str, body: dict[str, Any], prompt: int, output: int) -> dict[str, Any]:
    text = " ".join(["word"] * output)  # one token a word under count_tokens
    if provider == "openai":
        return {
            "id": "chatcmpl-sim",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "sim"),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": prompt,
                "completion_tokens": output,
                "total_tokens": prompt + output,
            },
        }
    return {
        "id": "msg_sim",
        "type": "message",
        "role": "assistant",
        "model": body.get("model", "sim"),
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": prompt, "output_tokens": output},
    }


def rate_limit_error(provider: str) -> dict[str, Any]:
    message = "Rate limit reached: please retry after the time in retry-after."
    if provider == "openai":
        return {"error": {"message": message, "type": "requests", "code": "rate_limit_exceeded"}}
    return {"type": "error", "error": {"type": "rate_limit_error", "message": message}}


def _handler(sim: ProviderSim) -> type[BaseHTTPRequestHandler]:
    class Handler(KeepAliveHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("content-length") or 0))
            if ROUTES.get(self.path) != sim.provider:
                return self._send(404, {"error": {"message": f"no route {self.path}"}}, {})
            try:
                body = json.loads(raw)
            except ValueError:
                return self._send(400, {"error": {"message": "body is not JSON"}}, {})
            self._send(*sim.answer(body))

        def _send(self, status: int, payload: dict[str, Any], headers: dict[str, str]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

    return Handler


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve a provider's rate limits, simulated.")
    parser.add_argument("--provider", choices=("openai", "anthropic"), default="openai")
    parser.add_argument("--rpm", type=float, required=True)
    parser.add_argument("--tpm", type=float, default=None, help="TPM (anthropic: ITPM)")
    parser.add_argument("--otpm", type=float, default=None, help="anthropic output limit")
    parser.add_argument("--burst-seconds", type=float, default=1.0)
    parser.add_argument("--latency", type=float, default=0.5)
    parser.add_argument("--jitter", type=float, default=0.3)
    parser.add_argument("--output-share", type=float, default=0.5)
    args = parser.parse_args(argv)
    limits = ProviderLimits(
        args.provider, args.rpm, args.tpm, args.otpm, burst_seconds=args.burst_seconds
    )
    sim = ProviderSim(
        limits, latency=args.latency, jitter=args.jitter, output_share=args.output_share
    )
    stop = threading.Event()  # SIGINT or SIGTERM: print the tally and go
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    with sim:
        print(f"provider sim on {sim.base_url}", flush=True)
        while not stop.wait(0.5):
            pass
    start = min(sim.admitted_at, default=0.0)
    times = {
        "admitted_at": [round(t - start, 4) for t in sorted(sim.admitted_at)],
        "first_answer_at": None if sim.first_answer is None else sim.first_answer - start,
        "start_monotonic": start,  # the first admission on the machine's monotonic clock
    }
    print(json.dumps({**sim.tally, **times}), flush=True)


if __name__ == "__main__":
    main()
