"""Formula extraction: every delimiter the blog uses, and honest failure."""

from __future__ import annotations

import pytest

from kexue_archive.records import Math
from kexue_archive.tex import scan


@pytest.mark.parametrize(
    ("text", "want"),
    [
        (r"设$x,y,z$是非负整数", [Math("x,y,z", False)]),
        (r"$$\int_0^1 f$$", [Math(r"\int_0^1 f", True)]),
        (r"\(a+b\) 与 \[c\]", [Math("a+b", False), Math("c", True)]),
        (r"\begin{equation}o = \frac{a}{b}\end{equation}", [Math(r"\begin{equation}o = \frac{a}{b}\end{equation}", True)]),
        (r"\begin{align*}a&=b\\c&=d\end{align*}", [Math(r"\begin{align*}a&=b\\c&=d\end{align*}", True)]),
        (r"价格\$5 和 \$6,还有$y$", [Math("y", False)]),
        (r"$\text{$x$}$", [Math(r"\text{", False), Math("}", False)]),  # MathJax would do the same
        ("\\begin{equation}\\text{Lion}:=\\left\\{\\begin{aligned}\n&u\\\\\n&m\n\\end{aligned}\\right.\\end{equation}",
         [Math("\\begin{equation}\\text{Lion}:=\\left\\{\\begin{aligned}\n&u\\\\\n&m\n\\end{aligned}\\right.\\end{equation}", True)]),
        (r"\begin{itemize}不是公式\end{itemize}", []),
    ],
)
def test_delimiters(text: str, want: list[Math]) -> None:
    assert list(scan(text).math) == want


def test_spans_cut_the_text_exactly() -> None:
    text = r"前$a$中$$b$$后\(c\)尾"
    found = scan(text)
    assert [text[s:e] for s, e in found.spans] == ["$a$", "$$b$$", r"\(c\)"]


def test_nested_environment_of_same_name() -> None:
    text = r"\begin{array}{c}\begin{array}{c}x\end{array}\end{array}后"
    assert scan(text).math == (Math(r"\begin{array}{c}\begin{array}{c}x\end{array}\end{array}", True),)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("售价 $5,非常便宜", "stray '$'"),
        ("$$x+y", "stray '$$'"),
        (r"\(x", r"'\(' is never closed"),
        (r"\begin{equation}x", r"'\begin{equation}' is never closed"),
        ("段落一 $x\n\n段落二$", "stray '$'"),
    ],
)
def test_unbalanced_is_reported_not_guessed(text: str, message: str) -> None:
    found = scan(text)
    assert found.unbalanced and message in found.unbalanced[0][1]
