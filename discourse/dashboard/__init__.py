"""The dashboard's read side (issue E): aggregations over a scored store, for the API and the web page.

    params.py   the questions' parameters (pydantic; unknown or bad values are refused with the field named),
                the filter part of them built into the filter model's conditions
    facts.py    the scored sentences as numpy columns in memory, refreshed incrementally from the store
    filtering.py  the filter model (discourse.store.filters) evaluated with numpy over those columns
    queries.py  summary, time series, groups, matrix, document list: numpy over the columns
    service.py  DashboardService: refresh, per-query cache keyed by the snapshot's generation, one document
    export.py   answers as CSV
"""

from .params import QueryError
from .service import DashboardService

__all__ = ["DashboardService", "QueryError"]
