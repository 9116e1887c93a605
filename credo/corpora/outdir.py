"""Output folders: the checks and the lock now live in the run skeleton, :mod:`credo.runs`."""

from credo.runs import (
    LOCK_FILE,
    WORK_FILES,
    check_output,
    claim_output,
    lock_holder,
    output_lock,
)

__all__ = ["LOCK_FILE", "WORK_FILES", "check_output", "claim_output", "lock_holder", "output_lock"]
