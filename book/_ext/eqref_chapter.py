"""Sphinx extension: an equation reference that leaves its chapter says which chapter it points to.

The book's chapters are numbered (``numbered`` in _toc.yml), so Sphinx numbers equations per chapter: the third
equation of chapter 7 is "(7.3)", and ``{eq}`glo-objective``` renders "(7.1)" from any chapter. That number
already names its chapter, and the reference is left as it is. Where an equation's number does not carry its
document's number (a book built without chapter numbers, or an equation on an unnumbered page such as the
notation page), a reference from another document would read a bare "(63)"; this wraps the math domain's
resolver so that it reads "(chapter 7, eq. 63)" for chapter notebooks ``book/NN_*`` and
"(<document title>, eq. 63)" otherwise. References within a document keep the plain "(n)".
"""

from __future__ import annotations

import re

from docutils import nodes
from sphinx.domains.math import MathDomain

_CHAPTER = re.compile(r"(?:^|/)(\d\d)_[^/]+$")


def where(docname: str, env) -> str:
    """'chapter 7' for book/07_glo, else the document's title."""
    m = _CHAPTER.search(docname)
    if m:
        return f"chapter {int(m.group(1))}"
    title = env.titles.get(docname)
    return title.astext() if title is not None else docname


def names_its_document(number: str, docname: str, env) -> bool:
    """Whether an equation number such as '7.3' starts with the section number of its document (7)."""
    secnumber = getattr(env, "toc_secnumbers", {}).get(docname, {}).get("")
    if not secnumber:
        return False
    return number.startswith(".".join(map(str, secnumber)) + ".")


class ChapterMathDomain(MathDomain):
    """The math domain, with cross-chapter equation references that name their chapter."""

    def resolve_xref(self, env, fromdocname, builder, typ, target, node, contnode):
        ref = super().resolve_xref(env, fromdocname, builder, typ, target, node, contnode)
        found = self.equations.get(target)
        if ref is None or found is None or found[0] == fromdocname:
            return ref
        text = ref.astext()
        number = text[1:-1] if text.startswith("(") and text.endswith(")") else text
        if names_its_document(number, found[0], env):
            return ref
        for child in list(ref.children):
            ref.remove(child)
        ref += nodes.Text(f"({where(found[0], env)}, eq. {number})")
        return ref


def setup(app):
    app.add_domain(ChapterMathDomain, override=True)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
