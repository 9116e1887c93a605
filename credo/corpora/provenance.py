"""Moved to :mod:`credo.provenance` (a leaf, so the run skeleton can stamp every manifest)."""

from credo.provenance import TRACKED_PACKAGES, git_revision, package_versions, provenance

__all__ = ["TRACKED_PACKAGES", "git_revision", "package_versions", "provenance"]
