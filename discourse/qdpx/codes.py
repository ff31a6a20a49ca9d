"""The codebook as a REFI-QDA code tree, and a QDA tool's code names mapped back onto it.

Export: three parent codes that are not codable themselves, "relevance" (relevant, irrelevant), "stance" (the
codebook's stance ids) and "frames" (its frame ids), each code described by the codebook's Dutch and English
definitions; a free code of a coder ("emoties/schuld") is a code of its own, nested at its slashes.

Import: a code maps to the codebook when its name is a stance or frame id or the short Dutch or English label of one
("Druk zettend", "Structural support"), ignoring case, spaces, hyphens and underscores; "relevant" and
"irrelevant" ("niet relevant", "not relevant") map to relevance. Anything else is a free code, named by its path in
the tree ("Emoties/Schuld").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from discourse.codebook import Codebook

from .model import Code, Project, guid

RELEVANCE = {"relevant": True, "irrelevant": False}
_RELEVANCE_NAMES = {"relevant": True, "irrelevant": False, "notrelevant": False, "nietrelevant": False}
_SEPARATOR = re.compile(r"[\s_\-]+")


@dataclass(frozen=True)
class Mapped:
    """What a code means in the store: dimension "relevance" (value True/False), "stance", "frame" (a codebook
    id), or "free" (value: the code's path)."""

    dimension: str
    value: object


def _key(name: str) -> str:
    return _SEPARATOR.sub("", name).casefold()


def _definition(codebook: Codebook, label: str) -> str | None:
    definition = codebook.definitions.get(label)
    if isinstance(definition, dict):
        return "\n".join(f"{lang}: {text}" for lang, text in definition.items())
    return definition


def code_guid(path: str) -> str:
    return guid("code", path)


def codebook_codes(codebook: Codebook, free_codes: list[str] = ()) -> list[Code]:
    """The code tree of an export: relevance, stance and frames from the codebook, then the free codes."""
    def leaf(parent: str, name: str, description: str | None) -> Code:
        return Code(code_guid(f"{parent}/{name}"), name, True, description)

    tree = [
        Code(code_guid("relevance"), "relevance", False, "Is the sentence about early parenthood?",
             [leaf("relevance", name, None) for name in RELEVANCE]),
        Code(code_guid("stance"), "stance", False, f"Stance (codebook {codebook.version})",
             [leaf("stance", s, _definition(codebook, s)) for s in codebook.stances]),
        Code(code_guid("frames"), "frames", False, f"Sub-frames (codebook {codebook.version})",
             [leaf("frames", f, _definition(codebook, f)) for f in codebook.frames]),
    ]
    return tree + _free_tree(sorted(set(free_codes)))


def _free_tree(paths: list[str]) -> list[Code]:
    """Free codes nested at their slashes; a parent that is no code of its own is not codable."""
    top: list[Code] = []
    found: dict[str, Code] = {}
    for path in paths:
        parts = [part for part in path.split("/") if part] or [path]
        for depth in range(1, len(parts) + 1):
            prefix = "/".join(parts[:depth])
            if prefix not in found:
                found[prefix] = Code(guid("free-code", prefix), parts[depth - 1], prefix in paths)
                (found["/".join(parts[:depth - 1])].children if depth > 1 else top).append(found[prefix])
            elif prefix == path:
                found[prefix].codable = True
    return top


def free_code_guid(path: str) -> str:
    parts = [part for part in path.split("/") if part] or [path]
    return guid("free-code", "/".join(parts))


def map_codes(project: Project, codebook: Codebook) -> dict[str, Mapped]:
    """Code GUID -> its meaning in the store, for every code of the project."""
    names: dict[str, Mapped] = {}
    for stance in codebook.stances:
        names.update(_names(codebook, stance, Mapped("stance", stance)))
    for frame in codebook.frames:
        names.update(_names(codebook, frame, Mapped("frame", frame)))
    names.update({key: Mapped("relevance", value) for key, value in _RELEVANCE_NAMES.items()})
    mapped: dict[str, Mapped] = {}
    paths: dict[str, str] = {}
    for code, parent in project.all_codes():
        paths[code.guid] = f"{paths[parent.guid]}/{code.name}" if parent is not None else code.name
        mapped[code.guid] = names.get(_key(code.name), Mapped("free", paths[code.guid]))
    return mapped


def _names(codebook: Codebook, label: str, meaning: Mapped) -> dict[str, Mapped]:
    """The id and the short labels (before the dash) of a codebook label."""
    keys = {_key(label)}
    definition = codebook.definitions.get(label)
    if isinstance(definition, dict):
        keys.update(_key(text.split(" — ")[0]) for text in definition.values())
    return {key: meaning for key in keys}
