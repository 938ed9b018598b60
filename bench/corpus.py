"""A seeded, deterministic corpus of N articles written as crawled dumps.

Why generated: the seeds hold 34 articles; speed at 1k–50k articles must be
measured on input the real readers accept, with the features that cost time
(series titles, full-width vs NFKC duplicates, inline and display math,
doubled captions, year-less home cards, the odd title-less card).

Text is sampled from the seed dumps themselves (sentences, and formulas as
``tex.scan`` finds them), so content looks like the blog's. The same
``(n, seed)`` always gives the same bytes.

Layouts (each file is one dump, 20–50 articles):

* text listing: title line, ``By 苏剑林 | YYYY-MM-DD | N位读者 | 引用`` with the
  first paragraph glued after 引用, one paragraph per line, ``最近评论`` sidebar;
* text home: optional site header, ``D Mon`` date box, title, blank-line
  separated paragraphs, captions printed twice, ``点击阅读全文...``;
* HTML listing page as saved from the blog's Typecho theme: ``.Post`` entries
  with date box, ``h2`` title link, by-line, ``.PostContent`` paragraphs,
  ``h2`` headings and ``typecho-caption`` figures.

About 10% of articles are seen again in a later "re-crawl" dump: with the
NFKC-normalised title half the time, a higher reader count, the other layout
and (home cards) only the first paragraphs; a few of those cards lose their
title line, as in seed 004. Every article has a distinct title, so a build
yields exactly ``n`` records; ``add_dump`` appends a dump of new articles.

Usage::

    paths = generate(1000, Path("tmp/seeds"), seed=0)
    extra = add_dump(Path("tmp/seeds"), count=20)   # the +20 rebuild
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from html import escape
from pathlib import Path

from kexue_archive.readers import read_text
from kexue_archive.sources import decode
from kexue_archive.tex import scan
from kexue_archive.text import nfkc, title_key

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
STATE = ".corpus.json"  # hidden: find_dumps skips it, so it is never read as a dump
AUTHOR = "苏剑林"
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
FIRST_DAY, LAST_DAY = dt.date(2009, 1, 1), dt.date(2025, 12, 31)
DUPLICATE_RATE = 0.10  # articles seen again in a re-crawl dump
UNTITLED_RATE = 0.03  # re-crawled home cards that lost their title line
DUMP_SIZE = (20, 50)

CN_NUMBERS = "一二三四五六七八九十"
SERIES = (
    "生成扩散模型漫谈（{n}）：{sub}", "变分自编码器（{n}）：{sub}", "Transformer升级之路：{d}、{sub}",
    "从动力学角度看优化算法（{n}）：{sub}", "最小熵原理（{n}）：{sub}", "低秩近似之路（{n}）：{sub}",
    "重新思考学习率与Batch Size（{n}）：{sub}", "细水长flow之{sub}", "让人惊叹的Johnson-Lindenstrauss引理：{sub}",
    "梯度流：{sub}", "Naive Bayes is all you need？{sub}", "自然数集中的{sub}",
)
STANDALONE = (
    "{a}：{b}", "从{a}到{b}：{c}", "{a}与{b}的{c}", "为什么{a}需要{b}？", "浅谈{a}中的{c}", "{a}的{c}（附{b}）",
    "再探{a}：{b}的{c}", "用{a}理解{b}", "{a}，{b}，还是{c}？", "基于{a}的{b}", "{a}的一个{c}",
)
TOPICS = (
    "Transformer", "BERT", "GPT", "VAE", "GAN", "LoRA", "Softmax", "Attention", "RoPE", "扩散模型", "注意力机制",
    "优化器", "交叉熵", "损失函数", "梯度下降", "词向量", "语言模型", "对比学习", "层归一化", "位置编码", "矩阵分解",
    "随机微分方程", "概率密度", "最优传输", "傅里叶变换", "泰勒展开", "生成函数", "数论", "黎曼几何", "天体力学",
    "量子力学", "Adam", "Lion", "Muon", "MoE", "线性Attention", "Embedding", "Tokenizer", "Dropout", "BatchNorm",
    "Fokker-Planck方程", "ODE", "SDE", "Flow模型", "能量模型", "贝叶斯推断", "信息熵", "KL散度", "互信息", "谱范数",
    "变分推断", "蒙特卡洛", "最大似然", "梯度裁剪", "学习率", "权重衰减", "残差连接", "长度外推", "稀疏化", "量化",
)
ASPECTS = (
    "简明推导", "几何意义", "直观理解", "新视角", "光滑近似", "渐近分析", "线性化", "数值稳定性", "初始化", "外推性",
    "收敛性", "一般框架", "简单实现", "误差分析", "最优解", "上下界", "连续化", "对偶形式", "参数化", "尺度定律",
    "正则化", "等价形式", "极限情形", "离散化", "一致性", "鲁棒性", "信息量", "复杂度", "加速技巧", "改进方案",
)
HOME_HEADER = (
    "宇宙驿站感谢国家天文台LAMOST项目之“宇宙驿站”提供网络空间和数据库资源！",
    "版权科学空间致力于知识分享，所以欢迎您转载本站文章，但转载本站内容必须遵循 署名-非商业用途-保持一致 的创作共用协议。",
    "参与科学空间",
    "会员注册 会员登录 查看全站文章归档页",
)
SIDEBAR = ("最近评论", "张三: 感谢分享，受益匪浅", "李四: 公式(3)是不是少了一个系数？", "王五: 期待下一篇")


@dataclass(frozen=True)
class Para:
    """One paragraph: ``text`` (prose, may hold inline math), ``display``, ``caption`` or ``heading``."""

    kind: str
    text: str


@dataclass(frozen=True)
class GenArticle:
    """An article as the blog shows it; every dump that lists it derives its lines from this."""

    index: int
    title: str
    date: str
    readers: int
    paras: tuple[Para, ...]

    @property
    def excerpt(self) -> str:
        return "\n\n".join(p.text for p in self.paras)


@dataclass(frozen=True)
class Pool:
    """What the seed dumps offer to sample from."""

    sentences: tuple[str, ...]
    headings: tuple[str, ...]
    inline: tuple[str, ...]
    display: tuple[str, ...]


_SENTENCE = re.compile(r"[^。！？]*[。！？]")


@cache
def pool(seeds: Path = SEEDS) -> Pool:
    """Sentences without math, short headings, and the formulas of the seed text dumps."""
    sentences: set[str] = set()
    headings: set[str] = set()
    inline: set[str] = set()
    display: set[str] = set()
    for path in sorted(seeds.glob("*.txt")):
        text = decode(path.read_bytes(), path.name).text or ""
        for s in read_text(text, path.name)[1].sightings:
            found = scan(s.excerpt)
            for math, (start, end) in zip(found.math, found.spans, strict=True):
                tex = s.excerpt[start:end]
                if math.display and (tex.startswith("\\begin") or "\n" not in tex):
                    display.add(tex)
                elif not math.display and tex.startswith("$") and "\n" not in tex:
                    inline.add(tex)
            for para in s.excerpt.split("\n\n"):
                _harvest(para.strip(), sentences, headings)
    return Pool(tuple(sorted(sentences)), tuple(sorted(headings)), tuple(sorted(inline)), tuple(sorted(display)))


def _harvest(para: str, sentences: set[str], headings: set[str]) -> None:
    if "$" in para or "\\" in para or "http" in para:
        return
    if 2 <= len(para) <= 12 and not re.search(r"[。，！？：、]", para):
        headings.add(para)
        return
    for sentence in _SENTENCE.findall(para):
        sentence = sentence.strip()
        if 8 <= len(sentence) <= 160 and not sentence.startswith(("By ", "点击")):
            sentences.add(sentence)


# -- articles -------------------------------------------------------------------

def _cn(n: int) -> str:
    """Chinese numeral for 1..99, as series titles write it (十三, 二十四)."""
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else "十" if tens == 1 else CN_NUMBERS[tens - 1] + "十"
    return head + (CN_NUMBERS[ones - 1] if ones else "")


def _title(rng: random.Random) -> str:
    a, b = rng.sample(TOPICS, 2)
    c = rng.choice(ASPECTS)
    if rng.random() < 0.3:
        sub = rng.choice(("{a}的{c}", "{a}与{b}", "从{a}看{b}", "{a}中的{c}")).format(a=a, b=b, c=c)
        n = rng.randint(1, 30)
        return rng.choice(SERIES).format(n=_cn(n), d=n, sub=sub)
    return rng.choice(STANDALONE).format(a=a, b=b, c=c)


def titles(count: int, seed: int) -> list[str]:
    """``count`` titles, distinct under ``title_key``; a prefix of a longer run is the same."""
    rng = random.Random(f"titles/{seed}")
    seen: set[str] = set()
    out: list[str] = []
    while len(out) < count:
        title = _title(rng)
        if title_key(title) not in seen:
            seen.add(title_key(title))
            out.append(title)
    return out


def _prose(rng: random.Random, sentences: int, formulas: int, src: Pool) -> str:
    picked = [rng.choice(src.sentences) for _ in range(sentences)]
    for _ in range(formulas):
        k = rng.randrange(len(picked))
        s = picked[k]
        cut = max(s.find("，"), s.find(",")) + 1 or len(s) - 1
        picked[k] = s[:cut] + rng.choice(src.inline) + s[cut:]
    return "".join(picked)


def _paras(rng: random.Random, src: Pool) -> tuple[Para, ...]:
    """200–600 characters: prose first (it must read as prose, never as a title),
    then headings, captions (printed twice on home cards) and maybe one display equation."""
    target = rng.randint(200, 600)
    formulas = rng.randint(0, 3)
    first = _prose(rng, 2, min(formulas, 1), src)
    if "。" not in first:
        first += next(s for s in src.sentences if s.endswith("。"))
    paras = [Para("text", first)]
    formulas -= min(formulas, 1)
    size = len(first)
    display = rng.random() < 0.3
    while size < target:
        roll = rng.random()
        if display and roll < 0.25:
            para, display = Para("display", rng.choice(src.display)), False
        elif roll < 0.35:
            para = Para("heading", rng.choice(src.headings))
        elif roll < 0.42:
            para = Para("caption", rng.choice(src.headings) + "示意图")
        else:
            n = rng.randint(0, min(formulas, 2))
            formulas -= n
            para = Para("text", _prose(rng, rng.randint(1, 3), n, src))
        if size + 2 + len(para.text) > 600:  # 2: the blank line between paragraphs
            if size >= 200:
                break
            continue  # too long to fit under 200 characters: draw again (a heading fits)
        if paras[-1].text != para.text:  # a repeat would be read as a doubled caption
            paras.append(para)
            size += 2 + len(para.text)
    return tuple(paras)


def _date(rng: random.Random) -> str:
    return (FIRST_DAY + dt.timedelta(days=rng.randrange((LAST_DAY - FIRST_DAY).days + 1))).isoformat()


def articles(start: int, stop: int, seed: int = 0) -> list[GenArticle]:
    """Articles ``start..stop-1`` of the corpus ``seed``; each depends only on (seed, index)."""
    src = pool()
    names = titles(stop, seed)
    out = []
    for i in range(start, stop):
        rng = random.Random(f"article/{seed}/{i}")
        readers = int(rng.lognormvariate(9.8, 0.7))
        out.append(GenArticle(i, names[i], _date(rng), readers, _paras(rng, src)))
    return out


# -- layouts --------------------------------------------------------------------

def listing_dump(items: list[GenArticle], *, nfkc_titles: bool = False, bump: int = 0) -> str:
    """A listing page copied as text (seeds 000–002)."""
    lines: list[str] = []
    for a in items:
        title = nfkc(a.title) if nfkc_titles else a.title
        paras = [p.text for p in a.paras]
        lines.append(title)
        lines.append(f"By {AUTHOR} | {a.date} | {a.readers + bump}位读者 | 引用{paras[0]}")
        lines.extend(paras[1:])
    lines.extend(SIDEBAR)
    return "\n".join(lines) + "\n"


def home_dump(items: list[GenArticle], rng: random.Random, *, nfkc_titles: bool = False, recrawl: bool = False) -> str:
    """The home page's card view copied as text (seeds 003–004)."""
    blocks: list[str] = list(HOME_HEADER) if rng.random() < 0.5 else []
    for a in items:
        day = dt.date.fromisoformat(a.date)
        blocks.append(f"{day.day} {MONTHS[day.month - 1]}")
        if not (recrawl and rng.random() < UNTITLED_RATE):
            blocks.append(nfkc(a.title) if nfkc_titles else a.title)
        paras = a.paras[: rng.randint(1, len(a.paras))] if recrawl else a.paras
        for p in paras:
            blocks.extend([p.text, p.text] if p.kind == "caption" else [p.text])
        blocks.append("点击阅读全文...")
    blocks.extend(SIDEBAR)
    return "\n\n".join(blocks) + "\n"


_HTML_HEAD = """<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="UTF-8" />
<title>科学空间|Scientific Spaces - 第 {page} 页</title>
</head>
<body>
<div id="wrapper">
<div id="header"><div id="logo"><a href="https://kexue.fm/">科学空间|Scientific Spaces</a></div></div>
<div id="main">
<div id="content">
"""
_HTML_TAIL = """</div>
<div id="sidebar"><div class="widget"><h3>最近评论</h3><ul class="widget-list">
<li><a href="https://kexue.fm/archives/9473#comment-21093">苏剑林</a>: 不一样，Lion推荐$\\beta_1=0.9$...</li>
</ul></div></div>
</div>
</div>
</body>
</html>
"""


def url_of(a: GenArticle) -> str:
    return f"https://kexue.fm/archives/{10000 + a.index}"


def _html_para(p: Para) -> str:
    text = escape(p.text, quote=False)
    if p.kind == "heading":
        return f"<h2>{text}</h2>"
    if p.kind == "caption":
        src = "https://kexue.fm/usr/uploads/2022/11/1659347937.png"
        return (f'<div class="typecho-caption"><a href="{src}"><img src="{src}" alt="{escape(p.text)}" /></a>'
                f'<p class="typecho-caption-text">{text}</p></div>')
    return "<p>" + text.replace("\n", "<br />\n") + "</p>"


def html_listing_dump(items: list[GenArticle], page: int) -> str:
    """A listing page as saved from the live blog (Typecho theme): ``.Post`` entries."""
    out = [_HTML_HEAD.format(page=page)]
    for a in items:
        day = dt.date.fromisoformat(a.date)
        title, url = escape(a.title), url_of(a)
        out.append(
            '<div class="Post">\n<div class="PostHead">\n'
            f'<div class="dateBox"><span class="date">{day.day}</span> <span class="month">{MONTHS[day.month - 1]}</span></div>\n'
            f'<div class="title-wrap"><h2 class="title"><a href="{url}" title="{title}">{title}</a></h2></div>\n'
            f'<div class="submitted">By {AUTHOR} | {a.date} | {a.readers}位读者 | <a href="{url}#how_to_cite">引用</a></div>\n'
            '</div>\n<div class="PostContent">\n'
            + "\n".join(_html_para(p) for p in a.paras)
            + f'\n<p class="more"><a href="{url}" title="{title}">点击阅读全文...</a></p>\n</div>\n</div>\n'
        )
    out.append(_HTML_TAIL)
    return "".join(out)


def _chunks(items: list[GenArticle], rng: random.Random) -> Iterator[list[GenArticle]]:
    at = 0
    while at < len(items):
        size = rng.randint(*DUMP_SIZE)
        yield items[at : at + size]
        at += size


def generate(n: int, out_dir: Path, seed: int = 0) -> list[Path]:
    """Write ``n`` articles as dumps into ``out_dir``; returns the paths written.

    Pages list articles newest first; re-crawl dumps come after the originals.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(f"layout/{seed}/{n}")
    items = sorted(articles(0, n, seed), key=lambda a: (a.date, a.index), reverse=True)
    paths = []
    for k, chunk in enumerate(_chunks(items, rng)):
        roll = rng.random()
        if roll < 0.3:
            paths.append(_write(out_dir / f"{k:05d}_home.txt", home_dump(chunk, rng)))
        elif roll < 0.55:
            paths.append(_write(out_dir / f"{k:05d}_listing.html", html_listing_dump(chunk, k + 1)))
        else:
            paths.append(_write(out_dir / f"{k:05d}_listing.txt", listing_dump(chunk)))
    again = sorted(rng.sample(items, round(n * DUPLICATE_RATE)), key=lambda a: (a.date, a.index), reverse=True)
    for k, chunk in enumerate(_chunks(again, rng)):
        nf = rng.random() < 0.5
        if rng.random() < 0.5:
            text = home_dump(chunk, rng, nfkc_titles=nf, recrawl=True)
        else:
            text = listing_dump(chunk, nfkc_titles=nf, bump=rng.randint(1, 500))
        paths.append(_write(out_dir / f"recrawl_{k:05d}.txt", text))
    (out_dir / STATE).write_text(json.dumps({"seed": seed, "n": n, "next": n, "added": 0}) + "\n")
    return paths


def add_dump(out_dir: Path, count: int = 20) -> Path:
    """Write one more listing dump of ``count`` articles never seen before in ``out_dir``."""
    state = json.loads((out_dir / STATE).read_text())
    fresh = articles(state["next"], state["next"] + count, state["seed"])
    path = _write(out_dir / f"new_{state['added']:05d}.txt", listing_dump(sorted(fresh, key=lambda a: a.date, reverse=True)))
    state.update(next=state["next"] + count, added=state["added"] + 1)
    (out_dir / STATE).write_text(json.dumps(state) + "\n")
    return path


def added_articles(out_dir: Path) -> list[GenArticle]:
    """Every article ``add_dump`` has written into ``out_dir`` so far (for the baselines)."""
    state = json.loads((out_dir / STATE).read_text())
    return articles(state["n"], state["next"], state["seed"])


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def main() -> None:
    import argparse

    p = argparse.ArgumentParser(description="Write a generated corpus of crawled dumps.")
    p.add_argument("n", type=int, help="number of articles")
    p.add_argument("out", type=Path, help="folder to write the dumps into (a seeds folder)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    paths = generate(args.n, args.out, args.seed)
    print(f"wrote {args.n} articles in {len(paths)} dumps to {args.out}")


if __name__ == "__main__":
    main()
