"""txlint: a linter and CI gate for database-write integrity."""

__version__ = "0.1.0"
