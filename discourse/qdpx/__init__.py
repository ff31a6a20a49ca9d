"""REFI-QDA project exchange (.qdpx): the store's interviews, speakers, codebook and coded sentences out to QDA tools
(NVivo, ATLAS.ti, MAXQDA, QualCoder...), and their projects back in as interview documents and annotations.

  model.py     a project as plain dataclasses (sources, cases, variables, codes, selections, codings, notes, users)
  schema.py    Project.xsd and QdpxError
  write.py     project -> project.qde (validated) + the .qdpx zip with sources/*.txt
  read.py      .qdpx -> project, the zip and the schema checked before anything is used
  codes.py     the codebook as a code tree, and code names mapped back to it
  store_io.py  store <-> project: export_qdpx, import_qdpx

SOURCE: Project.xsd is the QDA-XML 1.0 schema (release 18 March 2019) of the Rotterdam Exchange Format Initiative
(REFI, www.qdasoftware.org), MIT licence (its copyright notice is kept at the top of the file); copied unchanged
from ../shared/standards/refi-qda/Project.xsd, where the REFI-QDA 1.5 specification lies beside it.
"""

from .schema import QdpxError
from .store_io import ImportReport, export_project, export_qdpx, import_qdpx

__all__ = ["ImportReport", "QdpxError", "export_project", "export_qdpx", "import_qdpx"]
