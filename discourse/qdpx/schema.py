"""The REFI-QDA schema (Project.xsd, shipped beside this module) and the error every check here raises."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from lxml import etree

NS = "urn:QDA-XML:project:1.0"
XSD_PATH = Path(__file__).with_name("Project.xsd")

#: Schema errors named in a QdpxError message; the rest are counted.
_ERRORS_SHOWN = 5


class QdpxError(ValueError):
    """A .qdpx that cannot be imported, and why. `kind`: "corrupt" (not a zip, no project.qde, XML that does not
    parse, a source text that is not UTF-8), "too_large" (past the unpacking limits), "schema" (project.qde fails
    Project.xsd), "content" (valid XML the store cannot take: a selection past the end of its source, an unknown
    coder, a document id stored with another text)."""

    def __init__(self, message: str, kind: str = "content"):
        super().__init__(message)
        self.kind = kind


@lru_cache(maxsize=1)
def schema() -> etree.XMLSchema:
    # The schema is our own file: parsed without network access, like every document here.
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return etree.XMLSchema(etree.parse(str(XSD_PATH), parser))


def parse_xml(data: bytes) -> etree._ElementTree:
    """`data` parsed safely: no entities resolved, no network, no DTD loaded; a parse error is a QdpxError."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                             remove_blank_text=False)
    try:
        return etree.ElementTree(etree.fromstring(data, parser))
    except etree.XMLSyntaxError as exc:
        raise QdpxError(f"project.qde is not well-formed XML: {exc}", "corrupt") from None


def validate(data: bytes | etree._ElementTree) -> etree._ElementTree:
    """The parsed document, if it is valid against Project.xsd; else a QdpxError naming the first errors."""
    tree = parse_xml(data) if isinstance(data, bytes) else data
    checker = schema()
    if not checker.validate(tree):
        errors = list(checker.error_log)
        shown = "; ".join(f"line {e.line}: {e.message}" for e in errors[:_ERRORS_SHOWN])
        more = f" (and {len(errors) - _ERRORS_SHOWN} more)" if len(errors) > _ERRORS_SHOWN else ""
        raise QdpxError(f"project.qde does not follow the REFI-QDA schema (Project.xsd): {shown}{more}", "schema")
    return tree
