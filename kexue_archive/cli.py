"""``kexue-archive``: validate arguments, call the library, format the answer.

User errors are :class:`UserError`, printed as one line plus a hint, exit 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import UserError

if TYPE_CHECKING:  # imported where used: `search` must start fast (no YAML, no readers)
    from .build import BuildResult
    from .index import Hit
    from .progress import Progress, T
    from .records import Article


def _paths(p: argparse.ArgumentParser, *, seeds: bool = False) -> None:
    if seeds:
        p.add_argument("--seeds", type=Path, default=Path("seeds"), help="folder of crawled dumps (default: seeds)")
    p.add_argument("--archive", type=Path, default=Path("archive"), help="archive folder (default: archive)")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="kexue-archive", description="An offline archive of 科学空间 (kexue.fm) built from crawled dumps."
    )
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("build", help="read new dumps, merge, and write the archive")
    _paths(p, seeds=True)
    p.add_argument("--full", action="store_true", help="re-read every dump, ignoring what is already archived")
    p.add_argument("--strict", action="store_true", help="exit 1 when the archive has warnings or errors")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    p.add_argument("-v", "--verbose", action="store_true", help="print every problem, not only new ones")
    p.add_argument("--site", type=Path, default=Path("site"), help="where the static site is rendered (default: site)")
    p.set_defaults(run=cmd_build)

    p = sub.add_parser("list", help="list archived articles")
    _paths(p)
    p.add_argument("--json", action="store_true", help="print every record with all its keys, as JSON")
    p.add_argument("--year", type=int, help="only articles of this year")
    p.add_argument("--sort", choices=("date", "readers", "title"), default="date", help="order (default: date, newest first)")
    p.set_defaults(run=cmd_list)

    p = sub.add_parser("show", help="show one article")
    _paths(p)
    p.add_argument("id", help="article id (or an old alias, or a unique prefix of 4+ characters)")
    p.add_argument("--json", action="store_true", help="print the record as JSON")
    p.set_defaults(run=cmd_show)

    p = sub.add_parser("add", help="copy new dumps into seeds/ (skipping known and unreadable ones), then build")
    _paths(p, seeds=True)
    p.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="dump files, or folders holding them")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    p.set_defaults(run=cmd_add, full=False, strict=False, verbose=False, site=Path("site"))

    p = sub.add_parser("search", help="search the archive (Chinese, English, TeX)", epilog=SEARCH_HELP,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    _paths(p)
    p.add_argument("query", nargs="+", metavar="QUERY", help="what to search for (several words: all of them)")
    p.add_argument("--limit", type=_positive, default=10, help="show at most N hits (default: 10)")
    p.add_argument("--sort", choices=("relevance", "date", "readers"), default="relevance",
                   help="order: relevance (title matches first), date (newest first), readers (most first)")
    p.add_argument("--year", type=int, help="only articles of this year")
    p.add_argument("--since", metavar="DATE", help="only articles on or after DATE (YYYY, YYYY-MM or YYYY-MM-DD)")
    p.add_argument("--until", metavar="DATE", help="only articles on or before DATE")
    p.add_argument("--author", help="only articles whose author contains AUTHOR")
    p.add_argument("--field", choices=("title", "excerpt", "math"), help="search only this field")
    p.add_argument("--json", action="store_true", help="print the hits as a JSON list")
    p.set_defaults(run=cmd_search)

    p = sub.add_parser("serve", help="serve the site at http://127.0.0.1:PORT (this machine only)")
    p.add_argument("--site", type=Path, default=Path("site"), help="site folder (default: site)")
    p.add_argument("--port", type=int, default=8000, help="port (default: 8000; 0 picks a free one)")
    p.set_defaults(run=cmd_serve)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        return run(args)
    except UserError as exc:
        print(f"kexue-archive: error: {exc}", file=sys.stderr)
        if exc.hint:
            print(f"hint: {exc.hint}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader of our output went away (`| head`): stop quietly, as Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the exit flush cannot fail again
        return 141  # 128 + SIGPIPE, what a shell reports for a tool killed by the signal


# -- build --------------------------------------------------------------------

def cmd_build(args: argparse.Namespace) -> int:
    from .build import build

    if not args.seeds.is_dir():
        raise UserError(f"no seeds folder at {args.seeds}", "put crawled dumps in seeds/ or pass --seeds DIR")
    result = build(args.seeds, args.archive, full=args.full, progress=_progress(args.quiet), site=args.site)
    shown = result.problems if args.verbose else result.new_problems
    for problem in shown:
        if not args.quiet or problem.severity == "error":
            print(problem, file=sys.stderr)
    if not args.quiet:
        print(summary(result, args.archive))
    serious = [p for p in result.problems if p.severity != "info"]
    return 1 if args.strict and serious else 0


def summary(r: BuildResult, root: Path) -> str:
    return (
        f"{r.records} records from {r.dumps} dumps ({r.new_dumps} new, {r.sightings} sightings, "
        f"{r.merged} merged); {r.records_written} records new or changed, {r.removed} gone; {r.written} files written; "
        f"{len(r.problems)} problems (see {root / 'report.txt'}); "
        + (f"site: {r.site.rendered}/{r.site.pages} pages drawn, {r.site.math_errors} formulas shown as TeX; " if r.site else "")
        + f"{r.seconds:.2f}s"
    )


def cmd_serve(args: argparse.Namespace) -> int:
    from .site_serve import serve

    return serve(args.site, args.port)


def _progress(quiet: bool) -> Progress | None:
    """Progress bars on a terminal (for stages with enough work to show), else none."""
    if quiet or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    def bar(items: Iterable[T], label: str, total: int) -> Iterable[T]:
        return tqdm(items, desc=label, total=total, leave=False, disable=total < 50, file=sys.stderr)

    return bar


def cmd_add(args: argparse.Namespace) -> int:
    from .intake import add
    from .state import STATE_PATH, known_hashes

    with known_hashes(args.archive / STATE_PATH) as known:
        intake = add(args.paths, args.seeds, known)
    for path in intake.duplicates:
        print(f"{path}: already in {args.seeds} (same content); skipped", file=sys.stderr)
    for problem in intake.rejected:
        print(f"{problem} (not added)", file=sys.stderr)
    if not args.quiet:
        print(f"added {len(intake.copied)} dump(s) to {args.seeds}: {', '.join(intake.copied) or 'none'}")
    return cmd_build(args)


# -- list / show ---------------------------------------------------------------

def _articles(root: Path) -> list[Article]:
    from . import archive as store
    if not (root / "manifest.yaml").exists():
        raise UserError(f"no archive at {root}", "run `kexue-archive build` (or `python build_site.py`) first")
    return store.load_articles(root)


def _date_key(a: Article) -> tuple[int, str]:
    """Newest first; day/month-only dates after dated ones; unknown last."""
    if a.date is None:
        return (2, "")
    rank = 1 if a.date.startswith("--") else 0
    return (rank, "".join(chr(0x10FFFF - ord(c)) for c in a.date))


SORTS: dict[str, Callable[[Article], object]] = {
    "date": lambda a: (_date_key(a), a.id),
    "readers": lambda a: (a.readers is None, -(a.readers or 0), a.id),
    "title": lambda a: (a.title is None, a.title or "", a.id),
}


def cmd_list(args: argparse.Namespace) -> int:
    from . import archive as store
    articles = _articles(args.archive)
    if args.year is not None:
        articles = [a for a in articles if a.year == args.year]
    articles.sort(key=SORTS[args.sort])  # type: ignore[arg-type]  # keys are tuples, comparable
    if args.json:
        print(json.dumps([store.article_dict(a) for a in articles], ensure_ascii=False, indent=2))
        return 0
    for a in articles:
        readers = "" if a.readers is None else str(a.readers)
        print(f"{a.date or '?':<10}  {readers:>7}  {a.id}  {a.title or '(untitled)'}")
    return 0


def find(articles: list[Article], wanted: str) -> Article:
    """The article with this id, alias, or unique id prefix."""
    for a in articles:
        if a.id == wanted or wanted in a.aliases:
            return a
    matches = [a for a in articles if len(wanted) >= 4 and a.id.startswith(wanted)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise UserError(f"{wanted!r} matches {len(matches)} articles", "type more characters of the id")
    raise UserError(f"no article with id {wanted!r}", "`kexue-archive list` shows every id")


def cmd_show(args: argparse.Namespace) -> int:
    from . import archive as store
    a = find(_articles(args.archive), args.id)
    if args.json:
        print(json.dumps(store.article_dict(a), ensure_ascii=False, indent=2))
        return 0
    print(a.title or "(untitled)")
    print(f"id: {a.id}" + (f" (also known as {', '.join(a.aliases)})" if a.aliases else ""))
    print(f"author: {a.author or '?'}   date: {a.date or '?'}   readers: {a.readers if a.readers is not None else '?'}")
    if a.url:
        print(f"url: {a.url}")
    if a.flags:
        print(f"flags: {', '.join(a.flags)}")
    print("sources: " + ", ".join(f"{s.file}:{s.line}" for s in a.sources))
    print(f"math: {len(a.math)} formulas")
    print()
    print(a.excerpt)
    return 0


# -- search --------------------------------------------------------------------

SEARCH_HELP = """query syntax:
  扩散模型 外推        articles containing both (any substring of Chinese; whole Latin words)
  LoRA OR 低秩         either;   -熵 or NOT 熵: without (write `--` before a query starting with -)
  "生成 函数"          the exact string, spaces and punctuation included
  title:外推           only in titles (also excerpt:, math:, author:); (a OR b) groups
Case, full-width forms and traditional characters do not matter (ＬｏＲＡ = lora, 擴散 = 扩散)."""


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return int(text)


def cmd_search(args: argparse.Namespace) -> int:
    from . import index

    results = index.search(
        args.archive, " ".join(args.query), limit=args.limit, sort=args.sort, year=args.year,
        since=args.since, until=args.until, author=args.author, field=args.field,
    )
    if args.json:
        print(json.dumps([_hit_dict(h) for h in results.hits], ensure_ascii=False, indent=2))
    elif results.hits:
        marks = ("\x1b[1;33m", "\x1b[0m") if sys.stdout.isatty() and "NO_COLOR" not in os.environ else ("[", "]")
        print(f"{results.total} articles match; showing {len(results.hits)} by {args.sort}")
        for n, hit in enumerate(results.hits, 1):
            print(_format_hit(n, hit, marks))
    else:
        print(f"no article matches {' '.join(args.query)!r}", file=sys.stderr)
    return 0 if results.hits else 1


def _hit_dict(h: Hit) -> dict[str, object]:
    return {
        "id": h.id, "title": h.title, "author": h.author, "date": h.date, "readers": h.readers, "score": h.score,
        "path": h.path, "snippet": h.snippet, "highlights": [list(s) for s in h.highlights],
        "title_highlights": [list(s) for s in h.title_highlights],
    }


def _mark(text: str, spans: Sequence[tuple[int, int]], marks: tuple[str, str]) -> str:
    out, at = [], 0
    for start, end in spans:
        out += [text[at:start], marks[0], text[start:end], marks[1]]
        at = end
    return "".join([*out, text[at:]])


def _format_hit(n: int, h: Hit, marks: tuple[str, str]) -> str:
    title = _mark(h.title, h.title_highlights, marks) if h.title else "(untitled)"
    readers = "? readers" if h.readers is None else f"{h.readers} readers"
    return (f"\n{n}. {title}\n   {h.date or '?'} · {readers} · {h.id} · {h.path}\n"
            f"   {_mark(h.snippet, h.highlights, marks)}")
