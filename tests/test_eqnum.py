"""Equation numbers and references across an article's formulas, counted as LaTeX counts them."""

from __future__ import annotations

from kexue_archive.eqnum import ANCHOR, CLOSE, OPEN, PLACEHOLDER, number_equations, split_top, strip_sentinels


def ph(i: int) -> str:
    """The text placeholder eqnum leaves for reference ``i`` of a formula."""
    return rf"\text{{{OPEN}{i}{CLOSE}}}"


def test_one_number_per_equation_and_per_align_line() -> None:
    n = number_equations(
        [
            r"\begin{equation}a\label{one}\end{equation}",
            r"\begin{align}x&=1\label{two}\\y&=2\nonumber\\z&=3\label{three}\end{align}",
            r"\begin{equation*}q\end{equation*}",
            r"\begin{gather}p\\r\notag\\s\end{gather}",
        ],
        "abc",
    )
    assert n.texs == (
        r"\begin{equation*}a\tag{1}\end{equation*}",
        r"\begin{align*}x&=1\tag{2}\\y&=2\\z&=3\tag{3}\end{align*}",
        r"\begin{equation*}q\end{equation*}",
        r"\begin{gather*}p\tag{4}\\r\\s\tag{5}\end{gather*}",
    )
    assert n.anchors == (("eq-abc-1",), ("eq-abc-2", "eq-abc-3"), (), ("eq-abc-4", "eq-abc-5"))
    assert n.shown == (("(1)",), ("(2)", "(3)"), (), ("(4)", "(5)"))
    assert n.labels == {"one": ("1", "eq-abc-1"), "two": ("2", "eq-abc-2"), "three": ("3", "eq-abc-3")}


def test_references_resolve_forwards_and_backwards() -> None:
    n = number_equations([r"\eqref{b}", r"\begin{equation}x\label{b}\end{equation}", r"\eqref{ b } \ref{b}"], "id1")
    assert n.texs[0] == ph(0)
    assert n.texs[2] == f"{ph(0)} {ph(1)}"
    assert n.refs == ((("(1)", "eq-id1-1"),), (), (("(1)", "eq-id1-1"), ("1", "eq-id1-1")))


def test_unknown_and_unnumbered_labels_read_double_question_marks() -> None:
    n = number_equations([r"\begin{equation*}x\label{star}\end{equation*}", r"\eqref{star}\eqref{nope}\ref{nope}"], "z")
    assert n.texs[1] == r"\text{(??)}\text{(??)}\text{??}"
    assert n.anchors == ((), ())
    assert n.refs == ((), ())  # nothing to link


def test_tags_replace_numbers_and_can_be_referenced() -> None:
    n = number_equations(
        [
            r"\begin{align}a\tag{*}\label{s}\\b\end{align}",
            r"x\tag{A}\label{a}",
            r"\begin{align*}c\tag*{B}\label{b}\end{align*}",
            r"\eqref{s}\eqref{a}\ref{b}",
        ],
        "t",
    )
    assert n.texs[0] == r"\begin{align*}a\tag{*}\\b\tag{1}\end{align*}"
    assert n.anchors == (("eq-t-t1", "eq-t-1"), ("eq-t-t2",), ("eq-t-t3",), ())
    assert n.shown == (("(*)", "(1)"), (), ("B",), ())  # a top-level \tag is KaTeX's own to show
    assert n.texs[3] == ph(0) + ph(1) + ph(2)
    assert n.refs[3] == (("(*)", "eq-t-t1"), ("(A)", "eq-t-t2"), ("B", "eq-t-t3"))


def test_environments_katex_lacks_are_mapped() -> None:
    n = number_equations(
        [
            r"\begin{multline}a\\b\label{m}\end{multline}",
            r"\begin{eqnarray}a&=&b\\c&\le&d\nonumber\end{eqnarray}",
            r"\begin{flalign}x&=1&y&=2\end{flalign}",
            r"\begin{alignat}{2}x&=1&y&=2\end{alignat}",
        ],
        "m",
    )
    assert n.texs == (
        r"\begin{gather*}a\\b\tag{1}\end{gather*}",
        r"\begin{align*}a&= b\tag{2}\\c&\le d\end{align*}",
        r"\begin{align*}x&=1&y&=2\tag{3}\end{align*}",
        r"\begin{alignat*}{2}x&=1&y&=2\tag{4}\end{alignat*}",
    )


def test_nested_environments_and_a_trailing_line_break_do_not_count() -> None:
    n = number_equations(
        [r"\begin{equation}\begin{aligned}a&=b\\c&=d\end{aligned}\label{e}\end{equation}", r"\begin{align}x\\y\\\end{align}"],
        "n",
    )
    assert n.texs[0] == r"\begin{equation*}\begin{aligned}a&=b\\c&=d\end{aligned}\tag{1}\end{equation*}"
    assert n.texs[1] == r"\begin{align*}x\tag{2}\\y\tag{3}\\\end{align*}"


def test_a_spacing_after_the_last_line_break_is_no_line() -> None:
    n = number_equations([r"\begin{align}x\\[3pt]y\\[2pt]\end{align}"], "s")
    assert n.texs[0] == r"\begin{align*}x\tag{1}\\[3pt]y\tag{2}\\[2pt]\end{align*}"


def test_a_numbered_environment_inside_dollars_is_numbered_too() -> None:
    n = number_equations([r"\begin{equation}x\end{equation}", r"\begin{aligned}a\\b\end{aligned}"], "d")
    assert n.anchors == (("eq-d-1",), ())


def test_anchor_ids_are_safe_and_match_the_trusted_pattern() -> None:
    n = number_equations([r"\begin{equation}x\label{a}\end{equation}", r"x\tag{t}"], '"><script>../x')
    for ids in n.anchors:
        for anchor in ids:
            assert ANCHOR.fullmatch(anchor), anchor
    assert n.anchors[0] == ("eq-scriptx-1",)


def test_split_top_ignores_separators_inside_groups_and_environments() -> None:
    assert split_top(r"a\\{b\\c}\\\begin{cases}d\\e\end{cases}\\f", "\\\\") == ["a", r"{b\\c}", r"\begin{cases}d\\e\end{cases}", "f"]
    assert split_top(r"a&b\&c&{d&e}", "&") == ["a", r"b\&c", "{d&e}"]


def test_input_sentinels_are_stripped_so_only_eqnum_makes_placeholders() -> None:
    forged = f"x{OPEN}0{CLOSE}y{CLOSE}"
    assert strip_sentinels(forged) == "x0y"
    n = number_equations([forged + r"\eqref{e}", r"\begin{equation}z\label{e}\end{equation}"], "f")
    assert n.texs[0] == "x0y" + ph(0)
    assert [m.group(1) for m in PLACEHOLDER.finditer(n.texs[0])] == ["0"]
    assert n.refs[0] == (("(1)", "eq-f-1"),)


def test_sentinels_are_characters_katex_lexes() -> None:
    # KaTeX's lexer refuses U+E000-U+F8FF (the BMP private-use area); plane 15 passes.
    assert all(0xF0000 <= ord(c) <= 0xFFFFD for c in OPEN + CLOSE) and OPEN != CLOSE
