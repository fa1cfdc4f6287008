"""_ext/equation_links.py: docstring citations of the book's equations become links, also those inside formulas."""

from __future__ import annotations

from .bookcheck import ROOT, load_module

ext = load_module("scoresde_equation_links", ROOT / "_ext" / "equation_links.py")


def test_text_citations_become_links():
    assert ext.link_equations("Euler (book: eq-em).") == "Euler (book :eq:`eq-em`)."
    assert ext.link_equations("(book: eq-sde, eq-ito-integral-form)") == "(book :eq:`eq-sde`, :eq:`eq-ito-integral-form`)"


def test_tags_inside_formulas_move_below_them():
    doc = [".. math::  a = b", "           \\qquad\\text{(book: eq-ema)}", "", "after"]
    out = ext.link_docstring(doc)
    assert not any("book:" in line for line in out)                     # no raw tag left in the formula
    assert "(book :eq:`eq-ema`)" in out and out.index("(book :eq:`eq-ema`)") < out.index("after")
    assert out[0] == ".. math::  a = b" and out[1] == ""                 # the formula keeps its lines, no gap
    aligned = ["   .. math::", "      a && \\text{(book: eq-esm)}\\\\", "      b && \\text{(book: eq-ism)}"]
    out = ext.link_docstring(aligned)
    assert out[1] == "      a &&\\\\" and "   (book :eq:`eq-esm`, :eq:`eq-ism`)" in out
