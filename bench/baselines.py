"""The baselines, on the same articles: Hugo for the site, SQLite FTS5 for search.

Both are set up on their fast paths, because a slow baseline only flatters us:

* Hugo: one Markdown file per article (JSON front matter), a minimal theme
  written here (single page, home and section lists paginated over
  ``.Site.RegularPages`` / ``.Pages`` with no ``where`` filter inside
  ``.Paginate``), taxonomies, RSS, sitemap and robots.txt switched off, no
  minification, ugly URLs (files, like our site, so it works from file://).
  Hugo has no incremental CLI build: "rebuild after adding 20" is a build of
  the grown site into the existing output folder.
* FTS5: an external-content FTS5 table with the trigram tokenizer over title
  and excerpt; terms shorter than 3 characters (which trigram cannot match)
  fall back to LIKE on the plain table, as the issue asks.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from bench.corpus import GenArticle
from bench.measure import Run, run
from kexue_archive.records import Article

HUGO_CONFIG = """baseURL = "file:///"
languageCode = "zh-cn"
title = "科学空间 (bench)"
disableKinds = ["taxonomy", "term", "RSS", "sitemap", "robotsTXT", "404"]
paginate = 20
uglyURLs = true
relativeURLs = true
enableRobotsTXT = false
[markup.goldmark.renderer]
unsafe = false
"""
HUGO_LAYOUTS = {
    "_default/single.html": """<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{{ .Title }} - {{ .Site.Title }}</title></head>
<body><nav><a href="{{ "index.html" | relURL }}">首页</a></nav>
<article><h1>{{ .Title }}</h1>
<p class="byline">By {{ .Params.author }} | {{ .Date.Format "2006-01-02" }} | {{ .Params.readers }}位读者</p>
{{ .Content }}</article>
<nav>{{ with .PrevInSection }}<a href="{{ .RelPermalink }}">{{ .Title }}</a>{{ end }}
{{ with .NextInSection }}<a href="{{ .RelPermalink }}">{{ .Title }}</a>{{ end }}</nav>
</body></html>
""",
    "_default/list.html": """<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{{ .Title }} - {{ .Site.Title }}</title></head>
<body>{{ $pager := .Paginate .Pages }}{{ partial "entries.html" $pager }}</body></html>
""",
    "index.html": """<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{{ .Site.Title }}</title></head>
<body>{{ $pager := .Paginate .Site.RegularPages }}{{ partial "entries.html" $pager }}</body></html>
""",
    "partials/entries.html": """{{ range .Pages }}<div class="Post"><h2><a href="{{ .RelPermalink }}">{{ .Title }}</a></h2>
<p>{{ .Date.Format "2006-01-02" }} | {{ .Params.readers }}位读者</p>{{ .Summary }}</div>
{{ end }}<nav>{{ if .HasPrev }}<a href="{{ .Prev.URL }}">上一页</a>{{ end }} {{ .PageNumber }}/{{ .TotalPages }}
{{ if .HasNext }}<a href="{{ .Next.URL }}">下一页</a>{{ end }}</nav>
""",
}


def hugo_version() -> str | None:
    exe = shutil.which("hugo")
    if exe is None:
        return None
    out = subprocess.run([exe, "version"], capture_output=True, text=True, check=False).stdout.strip()
    return out.split(" BuildDate")[0] or "hugo"


def write_hugo_site(folder: Path, articles: Iterable[GenArticle]) -> None:
    """A Hugo project with our minimal theme and one Markdown page per article."""
    (folder / "config.toml").parent.mkdir(parents=True, exist_ok=True)
    (folder / "config.toml").write_text(HUGO_CONFIG, encoding="utf-8")
    for rel, text in HUGO_LAYOUTS.items():
        path = folder / "layouts" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    add_hugo_articles(folder, articles)


def add_hugo_articles(folder: Path, articles: Iterable[GenArticle]) -> None:
    posts = folder / "content" / "posts"
    posts.mkdir(parents=True, exist_ok=True)
    for a in articles:
        front = {"title": a.title, "date": a.date, "author": "苏剑林", "readers": a.readers}
        body = "\n\n".join(p.text for p in a.paras)
        (posts / f"{a.index:06d}.md").write_text(json.dumps(front, ensure_ascii=False) + "\n\n" + body + "\n", encoding="utf-8")


def hugo_build(folder: Path, *, fresh: bool) -> Run:
    """One ``hugo`` build; ``fresh`` removes the output and resource folders first."""
    if fresh:
        for name in ("public", "resources", ".hugo_build.lock"):
            path = folder / name
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
    exe = shutil.which("hugo") or "hugo"
    result = run([exe, "--quiet", "--source", str(folder), "--destination", str(folder / "public")])
    if result.code != 0:
        raise RuntimeError(f"hugo exited {result.code}: {result.stderr[-2000:]}")
    return result


# -- SQLite FTS5 --------------------------------------------------------------

SCHEMA = """
CREATE TABLE docs(rowid INTEGER PRIMARY KEY, id TEXT, title TEXT, excerpt TEXT, date TEXT, readers INTEGER);
CREATE VIRTUAL TABLE fts USING fts5(title, excerpt, content='docs', content_rowid='rowid', tokenize='trigram');
"""


def fts5_index(db: Path, articles: Sequence[Article]) -> float:
    """Create the database and index every article; returns the seconds it took."""
    if db.exists():
        db.unlink()
    started = time.perf_counter()
    con = sqlite3.connect(db)
    con.executescript(SCHEMA)
    rows = [(k, a.id, a.title or "", a.excerpt, a.date or "", a.readers or 0) for k, a in enumerate(articles, 1)]
    with con:
        con.executemany("INSERT INTO docs VALUES (?, ?, ?, ?, ?, ?)", rows)
        con.execute("INSERT INTO fts(fts) VALUES ('rebuild')")
    con.close()
    return time.perf_counter() - started


def _term_sql(term: str) -> tuple[str, list[str]]:
    """One term as a condition on ``docs``: FTS5 for 3+ characters, LIKE below that."""
    column = None
    if ":" in term and term.split(":", 1)[0] in ("title", "excerpt"):
        column, term = term.split(":", 1)
    term = term.strip('"')
    if len(term) >= 3:
        phrase = '"' + term.replace('"', '""') + '"'
        return "docs.rowid IN (SELECT rowid FROM fts WHERE fts MATCH ?)", [f"{column}: {phrase}" if column else phrase]
    like = "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    columns = [column] if column else ["title", "excerpt"]
    return "(" + " OR ".join(f"docs.{c} LIKE ? ESCAPE '\\'" for c in columns) + ")", [like] * len(columns)


def fts5_sql(query: str, limit: int = 10) -> tuple[str, list[str]]:
    """Our query language, roughly: space = AND, ``OR``, ``-term`` = NOT, ``field:term``."""
    clauses: list[str] = []
    params: list[str] = []
    pending_or = False
    for word in query.split():
        if word == "OR":
            pending_or = True
            continue
        negate = word.startswith("-") and len(word) > 1
        sql, args = _term_sql(word[1:] if negate else word)
        sql = f"NOT {sql}" if negate else sql
        if pending_or and clauses:
            clauses[-1] = f"({clauses[-1]} OR {sql})"
        else:
            clauses.append(sql)
        params += args
        pending_or = False
    where = " AND ".join(clauses) or "1"
    return f"SELECT id, title FROM docs WHERE {where} ORDER BY date DESC LIMIT {limit}", params


def fts5_query(con: sqlite3.Connection, query: str) -> list[tuple[str, str]]:
    sql, params = fts5_sql(query)
    return con.execute(sql, params).fetchall()


def fts5_cli(db: Path, query: str) -> Run | None:
    """The same query through the ``sqlite3`` command-line shell (cold process); None without the shell."""
    exe = shutil.which("sqlite3")
    if exe is None:
        return None
    sql, params = fts5_sql(query)
    parts = sql.split("?")  # placeholders only: the terms themselves are all in params
    literal = parts[0] + "".join("'" + p.replace("'", "''") + "'" + rest for p, rest in zip(params, parts[1:], strict=True))
    return run([exe, str(db), literal + ";"])
