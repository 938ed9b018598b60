"""The TeX rewrites that make the blog's MathJax-flavoured TeX acceptable to KaTeX (pure Python)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kexue_archive.texfix import MacroDef, brace_scripts, clean, decode_entities, drop_mathjax_only, extract_macros


@pytest.mark.parametrize(
    ("tex", "fixed"),
    [
        (r"W_\boldsymbol{B}", r"W_{\boldsymbol{B}}"),
        (r"x^\mathbb{R}", r"x^{\mathbb{R}}"),
        (r"x_ \boldsymbol B", r"x_ {\boldsymbol B}"),
        (r"w^\frac12 + w^\frac{1}{2}", r"w^{\frac12} + w^{\frac{1}{2}}"),
        (r"v_\sqrt[3]{2}", r"v_{\sqrt[3]{2}}"),
        (r"u_\operatorname*{arg\,max}", r"u_{\operatorname*{arg\,max}}"),
        (r"\sum_\text{a_\bm{b}}", r"\sum_{\text{a_{\bm{b}}}}"),
        (r"\theta_{t}^\top", r"\theta_{t}^\top"),  # a symbol needs nothing
        (r"a_\alpha b^\prime", r"a_\alpha b^\prime"),
        (r"\_\boldsymbol{x} \^\mathbb{R}", r"\_\boldsymbol{x} \^\mathbb{R}"),  # escaped: not scripts
        (r"x_\boldsymbol", r"x_\boldsymbol"),  # no argument: left for KaTeX to report
        (r"x_\boldsymbol{", r"x_\boldsymbol{"),
    ],
)
def test_commands_with_arguments_are_braced_as_scripts(tex: str, fixed: str) -> None:
    assert brace_scripts(tex) == fixed


def test_the_articles_own_macros_are_braced_with_their_arity() -> None:
    assert brace_scripts(r"x_\msign y_\kl{p}{q} z_\other", {r"\msign": 0, r"\kl": 2}) == r"x_{\msign} y_{\kl{p}{q}} z_\other"


_PIECES = st.sampled_from([*"_^\\{}[] xab", "\\boldsymbol", "\\frac", "\\sqrt", "\\mathbb", "\\alpha"])


@given(st.lists(_PIECES, max_size=40).map("".join))
def test_bracing_only_adds_braces_and_is_idempotent(tex: str) -> None:
    fixed = brace_scripts(tex)
    assert brace_scripts(fixed) == fixed
    assert fixed.replace("{", "").replace("}", "") == tex.replace("{", "").replace("}", "")
    assert fixed.count("{") - tex.count("{") == fixed.count("}") - tex.count("}") >= 0


@pytest.mark.parametrize(
    ("tex", "body", "defs"),
    [
        (
            r"\newcommand{msign}{\mathop{\text{msign}}}\msign(M)",
            r"\msign(M)",
            [MacroDef(r"\msign", 0, r"\def\msign{\mathop{\text{msign}}}")],
        ),
        (r"\newcommand\kl[2]{KL(#1\Vert #2)}", "", [MacroDef(r"\kl", 2, r"\def\kl#1#2{KL(#1\Vert #2)}")]),
        (r"\renewcommand{\R}{\mathbb{R}}x", "x", [MacroDef(r"\R", 0, r"\def\R{\mathbb{R}}")]),
        (r"\newcommand*{\a}[1]{#1}", "", [MacroDef(r"\a", 1, r"\def\a#1{#1}")]),
        (r"\providecommand{ \b }{b}", "", [MacroDef(r"\b", 0, r"\def\b{b}")]),
        (r"\DeclareMathOperator{\tr}{tr}", "", [MacroDef(r"\tr", 0, r"\def\tr{\operatorname{tr}}")]),
        (r"\DeclareMathOperator*{\argmax}{arg\,max}", "", [MacroDef(r"\argmax", 0, r"\def\argmax{\operatorname*{arg\,max}}")]),
        (r"\def\E#1{\mathbb{E}[#1]}\E{x}", r"\E{x}", [MacroDef(r"\E", 1, r"\def\E#1{\mathbb{E}[#1]}")]),
        (r"\def\p#1.{#1}", "", [MacroDef(r"\p", None, r"\def\p#1.{#1}")]),  # delimited: KaTeX reads it
        (r"\gdef\g{g}", "", [MacroDef(r"\g", 0, r"\def\g{g}")]),
        # not readable: left in place so that KaTeX reports it and the formula falls back visibly
        (r"\newcommand{\o}[1][x]{#1}", r"\newcommand{\o}[1][x]{#1}", []),
        (r"\newcommand{\o}[x]{#1}", r"\newcommand{\o}[x]{#1}", []),
        (r"\newcommand{a b}{c}", r"\newcommand{a b}{c}", []),
        (r"\newcommand{\o}", r"\newcommand{\o}", []),
    ],
)
def test_macro_definitions_are_cut_out(tex: str, body: str, defs: list[MacroDef]) -> None:
    assert extract_macros(tex) == (body, defs)


def test_several_definitions_come_out_in_order() -> None:
    body, defs = extract_macros(r"\newcommand{a}{1}x\newcommand{b}{2}{\def\c{3}}y")
    assert body == "x{}y"
    assert [d.name for d in defs] == [r"\a", r"\b", r"\c"]


@pytest.mark.parametrize(
    ("tex", "kept"),
    [
        (r"\require{cancel}\cancel{x}", r"\cancel{x}"),
        (r"\require{AMSmath}\require{AMSsymbols}x", "x"),
        (r"\style{color:red}{x+y}", "{x+y}"),
        (r"\class{my}{x}\cssId{id}{y}", "{x}{y}"),
        (r"\bbox[yellow,5px]{x}\bbox{y}", "{x}{y}"),
        (r"\style{a}{\class{b}{x}}", "{{x}}"),
        (r"\unicode{x2200}a\unicode{8704}\unicode[Arial]{#x41}", r'{\char"2200}a{\char"2200}{\char"41}'),
        (r"\unicode{xZZ}\unicode{x0}", r"\unicode{xZZ}\unicode{x0}"),
        (r"\style{x}", r"\style{x}"),
        (r"\requirement", r"\requirement"),
    ],
)
def test_mathjax_only_commands_are_dropped_keeping_their_content(tex: str, kept: str) -> None:
    assert drop_mathjax_only(tex) == kept


def test_control_characters_become_replacement_characters() -> None:
    assert clean("a\0b\x1b\x7fc\td\ne") == "a\ufffdb\ufffd\ufffdc\td\ne"


def test_entities_a_crawl_left_are_decoded_as_the_browser_did_for_mathjax() -> None:
    assert decode_entities(r"a &lt; b &gt; c &amp;&amp; \text{&quot;x&#39;&#x41;}&nbsp;") == "a < b > c && \\text{\"x'A}\xa0"
    assert decode_entities(r"a &= b & c \& d &para; &lt") == r"a &= b & c \& d &para; &lt"  # only complete, known ones
