from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException

from ..deps import BatcherDep, ModelDep, SettingsDep, classify_access
from ..schemas import ClassifyRequest, ClassifyResponse

router = APIRouter(tags=["classify"])


def too_many_texts(count: int, limit: int) -> str:
    return f"{count} texts in one request; the limit is {limit} (DISCOURSE_API_MAX_ITEMS)"


@router.post("/classify", response_model=ClassifyResponse, dependencies=[Depends(classify_access)])
async def classify(body: ClassifyRequest, settings: SettingsDep, batcher: BatcherDep,
                   model: ModelDep) -> ClassifyResponse:
    """Framing analysis of one text or a batch: same semantics and output rows as `discourse classify`. A text that
    cannot be classified (e.g. not Dutch) gets an `error` row; the others are still classified."""
    records = body.records()
    if len(records) > settings.max_items:
        raise HTTPException(413, too_many_texts(len(records), settings.max_items))
    for i, record in enumerate(records):
        if len(record["text"]) > settings.max_chars:
            raise HTTPException(413, f"text {i} has {len(record['text']):,} characters; the limit is "
                                     f"{settings.max_chars:,} (DISCOURSE_API_MAX_CHARS)")
    rows = await batcher.classify(records, body.level)
    return ClassifyResponse(items=rows, model=model.describe())
