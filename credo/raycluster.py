"""Joining a Ray cluster, shared by the audit's and the leakage index's ``--engine ray``.

``ray.init`` retries an unreachable head for minutes; a plain TCP connect first answers in
seconds, so a wrong ``--address`` fails fast with the address in one line.
"""

from __future__ import annotations

from credo.errors import ConfigError


def connect(address: str | None) -> None:
    """Join the cluster at ``address`` (or start a local one); a failure names the address."""
    import ray

    if address and address != "auto":
        _probe(address)
    if ray.is_initialized():
        return
    try:
        ray.init(
            address=address,
            include_dashboard=False,
            log_to_driver=False,
            configure_logging=False,
            ignore_reinit_error=True,
        )
    except Exception as exc:  # ray raises ConnectionError, RuntimeError or ValueError here
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(
            f"--address {address}: cannot connect to a Ray cluster ({reason[:160]}) - "
            f"start one with 'ray start --head' and pass its address"
        ) from None


def _probe(address: str) -> None:
    # ray.init retries an unreachable head for minutes; a plain TCP connect answers in seconds.
    import socket

    host, _, port = address.split("://")[-1].rpartition(":")
    try:
        socket.create_connection((host or "127.0.0.1", int(port)), timeout=5).close()
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"--address {address}: no Ray cluster answers there ({exc}) - start one with "
            f"'ray start --head' and pass the address it prints (host:6379)"
        ) from None
