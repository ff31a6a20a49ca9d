"""`discourse export-qdpx` and `discourse import-qdpx`: the store's interviews and codes to and from QDA tools
(REFI-QDA .qdpx: NVivo, ATLAS.ti, MAXQDA, QualCoder...)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from ._app import app, fail, store_session

DB_HELP = "Database URL (default: the embedded SQLite store)."


@app.command("export-qdpx")
def export_qdpx_command(
    out: Path = typer.Argument(..., help="The .qdpx file to write."),
    filter: Optional[str] = typer.Option(None, "--filter", help="Export the documents of the sentences this filter "
                                         "selects (e.g. 'genre=interview,parent=mother'); default: every interview."),
    model_version: Optional[str] = typer.Option(None, "--model-version", help="Whose sentence labels to export "
                                                "(default: the latest model version)."),
    model: bool = typer.Option(True, "--model/--no-model", help="Code the sentences with the model's labels."),
    coders: bool = typer.Option(True, "--coders/--no-coders", help="Code the sentences with the coders' codes."),
    db: Optional[str] = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Export interviews (or any filtered documents) as a REFI-QDA project: sources, speakers as cases with their
    attributes, the codebook as codes, and coded sentences from the model and the coders."""
    from ..qdpx import QdpxError, export_qdpx

    try:
        with store_session(db) as session:
            counts = export_qdpx(session, out, filter=filter, model_version=model_version, include_model=model,
                                 include_coders=coders)
    except (QdpxError, ValueError, OSError) as exc:
        fail(str(exc))
    typer.echo(f"{out}: " + ", ".join(f"{n} {what}" for what, n in counts.items()))


@app.command("import-qdpx")
def import_qdpx_command(
    file: Path = typer.Argument(..., help="The .qdpx file a QDA tool exported."),
    source: str = typer.Option(..., "--source", help="Source name of the imported interview documents."),
    coder_map: Optional[str] = typer.Option(None, "--coder-map", help="JSON object: QDA user name -> coder name; "
                                            "a user not in it makes the import fail."),
    db: Optional[str] = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Import a REFI-QDA project: its text sources become interview documents, its cases their speakers, its coded
    selections annotations (mapped to the codebook where the code names match, free codes otherwise). All or
    nothing: a bad file changes nothing. The documents are not scored."""
    from ..qdpx import QdpxError, import_qdpx

    try:
        mapping = json.loads(coder_map) if coder_map else None
        names = isinstance(mapping, dict) and all(isinstance(v, str) for v in mapping.values())
        if mapping is not None and not names:
            raise ValueError("--coder-map must be a JSON object of names, e.g. '{\"Anna\": \"anna\"}'")
        with store_session(db) as session:
            report = import_qdpx(session, file, source_name=source, coder_map=mapping)
    except (QdpxError, ValueError, OSError) as exc:
        fail(f"{file}: {exc}")
    typer.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
