"""Authoring new worldviews: scaffold (`credo new`), lint (`credo lint`), author (`credo author`)."""

from credo.authoring.scaffold import scaffold_worldview

__all__ = ["scaffold_worldview"]
