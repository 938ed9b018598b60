"""Render the archive's math at build time with KaTeX: HTML for the eye, MathML for screen readers.

API (all the site renderer needs)::

    rendered = render_articles(articles, cache_dir=archive / ".cache" / "math")
    rendered[article.id][i]             # RenderedMath(tex, display, html, ok, error) for article.math[i]
                                        # (article.math == tex.scan(article.excerpt).math)
    sum(not r.ok for rs in rendered.values() for r in rs)   # the build summary's math-error count
    math_problems(articles, rendered)   # one Problem per failed formula, for the data-quality page
    prune_cache(cache_dir, all_articles)  # after a full build: drop entries no article uses any more

(KaTeX's Node process, and where KaTeX is installed, are :mod:`kexue_archive.katex_node`'s.)

``RenderedMath.html`` is ready to insert as is: the KaTeX markup (``<span class="katex">``, or
``<span class="katex-display">`` for display math) preceded by an empty ``<span class="eq-anchor"
id="eq-<article>-<n>">`` per numbered line, or, when KaTeX still refuses the formula,
``<code class="math-error">`` holding the escaped TeX. ``\\eqref`` links point at those ids:
KaTeX runs with ``trust: false`` (it makes no link at all), eqnum leaves a placeholder per
reference, and ``_link`` turns it into ``<a href="#eq-…" tabindex="-1">(n)</a>`` here, plain ``(n)`` in the MathML.

How: each article's formulas are prepared together (texfix: MathJax-isms, macro
definitions shared with later formulas, unbraced scripts; eqnum: equation numbers and
references), then every formula of the build goes through ONE Node process running
``js/render_math.cjs`` (``katex_node``). A formula that hangs KaTeX past ``timeout`` seconds
is failed and a fresh process takes over the rest. With ``cache_dir``, each article's output is kept under
a key of (KaTeX version, this code, article id, its formulas): unchanged articles are never
re-rendered, and concurrent builds are safe (atomic writes of deterministic content).
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from . import eqnum, texfix
from .archive import atomic_write
from .katex_node import JS, Answer, KatexProcess, Request, Started, command, find_project, katex_version
from .records import Article, Problem, Source

if TYPE_CHECKING:
    from .progress import Progress

#: Longer formulas are not sent to KaTeX at all (the blog's longest are a few thousand characters).
MAX_TEX_CHARS = 50_000
_CACHE_FORMAT = "1"
_ANNOTATION_OPEN = '<annotation encoding="application/x-tex">'
_ANNOTATION = re.compile(re.escape(_ANNOTATION_OPEN) + "[^<]*</annotation>")
#: Splits markup into text (even pieces) and tags (odd): KaTeX escapes < and > inside attributes.
_TAG = re.compile(r"(<[^>]*>)")


@dataclass(frozen=True)
class RenderedMath:
    """One formula as it goes into a page.

    tex:   the formula as written in the article (``article.math[i].tex``).
    html:  ready-to-insert markup (see the module docstring); escaped TeX when not ok.
    ok:    False when KaTeX refused it; error then says why.
    """

    tex: str
    display: bool
    html: str
    ok: bool
    error: str = ""


@dataclass(frozen=True)
class _Prepared:
    """One article ready for KaTeX: a request (or the reason not to send one) per formula."""

    requests: list[Request | None]
    refusals: list[str]
    anchors: tuple[tuple[str, ...], ...]
    refs: tuple[tuple[tuple[str, str], ...], ...]


def _fingerprint(version: str) -> str:
    """Changes whenever KaTeX or any code shaping the output changes: the cache's first key."""
    h = hashlib.sha256(f"{_CACHE_FORMAT}\0{version}".encode())
    for source in (JS, Path(texfix.__file__), Path(eqnum.__file__), Path(__file__)):
        h.update(source.read_bytes())
    return h.hexdigest()


def _refusal(tex: str) -> str:
    """Why a formula is not even sent to KaTeX ("" when it is)."""
    return f"formula too long ({len(tex)} characters, the limit is {MAX_TEX_CHARS})" if len(tex) > MAX_TEX_CHARS else ""


def _adapt(tex: str) -> tuple[str, list[texfix.MacroDef], str]:
    """The formula's own fixes: its body, the macros it defines, and a refusal ("" for none)."""
    if refusal := _refusal(tex):
        return "", [], refusal
    try:
        body, found = texfix.extract_macros(texfix.drop_mathjax_only(texfix.clean(_plain(tex))))
    except RecursionError:  # hostile nesting; KaTeX would give up on it too
        return "", [], "formula nested too deeply"
    return body, found, ""


def _prepare(article: Article) -> _Prepared:
    """Turn an article's formulas into KaTeX requests: fixes, shared macros, numbering."""
    adapted = [_adapt(m.tex) for m in article.math]
    numbered = eqnum.number_equations([body for body, _, _ in adapted], article.id)
    # Start from each name's first definition: an excerpt may use a macro before it shows its definition.
    macros: dict[str, texfix.MacroDef] = {}
    for _, found, _ in adapted:
        for d in found:
            macros.setdefault(d.name, d)
    requests: list[Request | None] = []
    refusals: list[str] = []
    for m, tex, (_, found, refusal), tags in zip(article.math, numbered.texs, adapted, numbered.shown, strict=True):
        macros.update((d.name, d) for d in found)
        arity = {name: d.nargs for name, d in macros.items()}
        try:
            tex = texfix.brace_scripts(tex, arity)
        except RecursionError:
            refusal = refusal or "formula nested too deeply"
        refusals.append(refusal)
        display = m.display or bool(eqnum.DISPLAY_ONLY.search(tex))  # MathJax shows $\begin{equation}…$ too
        macro_tex = "".join(d.tex for d in macros.values())
        requests.append(None if refusal else Request(tex, display, macro_tex, tags))
    return _Prepared(requests, refusals, numbered.anchors, numbered.refs)


def _plain(tex: str) -> str:
    """The author's TeX, entities decoded, without eqnum's sentinels: a reference placeholder is never input."""
    return eqnum.strip_sentinels(texfix.decode_entities(tex))


def _annotate(markup: str, source: str) -> str:
    """KaTeX markup whose MathML annotation (used by copy-paste, some readers) is the TeX as the author wrote it."""
    replacement = f"{_ANNOTATION_OPEN}{source}</annotation>"
    return _ANNOTATION.sub(lambda _: replacement, markup, count=1)


def _link(markup: str, refs: Sequence[tuple[str, str]]) -> str:
    """KaTeX markup with eqnum's placeholders filled: a link in the HTML, the plain text in the MathML.

    Only text between tags is touched. A placeholder links only when eqnum made it (a known index,
    met exactly once in each part: an author's ``\\char"F0000`` duplicates or misses) and its anchor
    has the shape of eqnum's ids; otherwise it reads as plain text. Stray sentinels are dropped.
    """
    if eqnum.OPEN not in markup:
        return markup
    cut = markup.find("</math>")
    parts = [_TAG.split(markup[: max(cut, 0)]), _TAG.split(markup[max(cut, 0) :])]
    counts = [Counter(i for piece in part[::2] for i in eqnum.PLACEHOLDER.findall(piece)) for part in parts]
    linked = {str(i) for i, (_, anchor) in enumerate(refs) if eqnum.ANCHOR.fullmatch(anchor)}
    linked = {i for i in linked if counts[0][i] == counts[1][i] == 1}

    def fill(match: re.Match[str], as_link: bool) -> str:
        i = match.group(1)
        if len(i) > 6 or int(i) >= len(refs):  # a forged one: int() refuses over 4300 digits
            return i
        shown, anchor = html.escape(refs[int(i)][0]), refs[int(i)][1]
        # KaTeX's HTML is aria-hidden (screen readers get the MathML, which says "(n)"), and a
        # focusable link inside aria-hidden content is an accessibility fault: keep it out of the tab order.
        return f'<a href="#{anchor}" tabindex="-1">{shown}</a>' if as_link and i in linked else shown

    out = []
    for k, part in enumerate(parts):
        for j, piece in enumerate(part):
            out.append(eqnum.PLACEHOLDER.sub(lambda m, link=k == 1: fill(m, link), piece) if j % 2 == 0 else piece)
    return eqnum.strip_sentinels("".join(out))


def _assemble(
    article: Article, anchors: Sequence[Sequence[str]], refs: Sequence[Sequence[tuple[str, str]]], outputs: Sequence[Answer]
) -> list[Answer]:
    """Final HTML per formula: anchors, then KaTeX's markup (references linked) or the escaped TeX; errors keep their reason."""
    out = []
    for m, ids, links, got in zip(article.math, anchors, refs, outputs, strict=True):
        source = html.escape(texfix.clean(eqnum.strip_sentinels(m.tex)))
        body = _link(_annotate(got.html, source), links) if got.ok else f'<code class="math-error">{source}</code>'
        spans = "".join(f'<span class="eq-anchor" id="{a}"></span>' for a in ids)
        out.append(Answer(got.ok, spans + body, got.why, got.transient))
    return out


def _cache_path(cache_dir: Path, fingerprint: str, article: Article) -> Path:
    key = json.dumps([fingerprint, article.id, [[m.tex, m.display] for m in article.math]], ensure_ascii=False)
    digest = hashlib.sha256(key.encode()).hexdigest()
    return cache_dir / digest[:2] / f"{digest}.json"


def _cache_read(path: Path, count: int) -> list[Answer] | None:
    try:
        outputs = [Answer(bool(ok), str(markup), str(why)) for ok, markup, why in json.loads(path.read_bytes())]
    except (OSError, ValueError, TypeError):
        return None  # missing or damaged: render again
    return outputs if len(outputs) == count else None


def render_articles(
    articles: Sequence[Article], *, cache_dir: Path | None = None, project: Path | None = None, timeout: float = 10.0,
    started: Started | None = None, reuse: bool = True, progress: Progress | None = None,
) -> dict[str, list[RenderedMath]]:
    """Render every formula of ``articles`` with one Node process (``started``, if it was
    started ahead: ``katex_node.prestarted``); see the module docstring. ``reuse=False``
    renders everything again (a full build), still keeping the results in ``cache_dir``."""
    project = project or find_project()
    fingerprint = _fingerprint(katex_version(project)) if cache_dir else ""
    done: dict[str, list[Answer]] = {}
    pending: list[tuple[Article, _Prepared, Path | None]] = []
    for article in articles:
        if not article.math:
            done[article.id] = []  # nothing to render, nothing worth a cache file
            continue
        path = _cache_path(cache_dir, fingerprint, article) if cache_dir else None
        hit = _cache_read(path, len(article.math)) if path and reuse else None
        if hit is not None:
            done[article.id] = hit
        else:
            pending.append((article, _prepare(article), path))
    requests = [r for _, p, _ in pending for r in p.requests if r is not None]
    answers = iter(KatexProcess(command(project), timeout, started).render(requests, progress) if requests else [])
    for article, prepared, path in pending:
        refused = prepared.refusals
        raw = [next(answers) if r else Answer(False, "", why) for r, why in zip(prepared.requests, refused, strict=True)]
        done[article.id] = _assemble(article, prepared.anchors, prepared.refs, raw)
        if path is not None and not any(o.transient for o in raw):
            atomic_write(path, json.dumps([[o.ok, o.html, o.why] for o in done[article.id]], ensure_ascii=False).encode())
    return _result(articles, done)


def prune_cache(cache_dir: Path, articles: Sequence[Article], project: Path | None = None) -> int:
    """Delete the cache entries no article of ``articles`` (the whole archive) would read; how many went.

    Separate from render_articles, which may be given only the articles whose pages changed.
    """
    if not cache_dir.is_dir():
        return 0
    fingerprint = _fingerprint(katex_version(project))
    keep = {_cache_path(cache_dir, fingerprint, a) for a in articles if a.math}
    gone = 0
    for path in cache_dir.glob("*/*.json"):
        if path not in keep:
            path.unlink(missing_ok=True)
            gone += 1
    return gone


def _result(articles: Sequence[Article], done: dict[str, list[Answer]]) -> dict[str, list[RenderedMath]]:
    return {
        a.id: [RenderedMath(m.tex, m.display, o.html, o.ok, o.why) for m, o in zip(a.math, done[a.id], strict=True)]
        for a in articles
    }


def math_problems(articles: Sequence[Article], rendered: Mapping[str, Sequence[RenderedMath]]) -> list[Problem]:
    """One Problem per formula that fell back to escaped TeX, cited at the article's first dump line."""
    out = []
    for a in articles:
        where = a.sources[0] if a.sources else Source(f"records/{a.id}.yaml", 0, None)
        for i, r in enumerate(rendered.get(a.id, ())):
            if not r.ok:
                tex = r.tex if len(r.tex) <= 80 else r.tex[:77] + "…"
                message = f"formula {i + 1} of {a.id} shown as TeX ({r.error}): {tex}"
                out.append(Problem(where.file, where.line, "warning", message))
    return out
