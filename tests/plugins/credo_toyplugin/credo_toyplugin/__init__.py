"""A toy credo plugin (tests only): a check, a backend and an export format."""
