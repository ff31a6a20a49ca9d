"""`python -m discourse.cli`, the same as the `discourse` console script."""

from . import app

app()
