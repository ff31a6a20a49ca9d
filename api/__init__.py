"""The HTTP service: a thin FastAPI face over `discourse` (see api/README.md)."""
