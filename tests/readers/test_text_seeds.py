"""The five real seeds, read by the text readers, against truth typed in by hand.

The truth table below was written by reading the seed files, not by running the
parser: every title, date, readers count and excerpt opening. The golden files
(tests/golden/seeds/) then pin every other byte of what the readers produce;
regenerate them with UPDATE_GOLDEN=1 and review the diff by eye.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from support import ROOT, SEED_FILES, SEEDS

from kexue_archive.archive import from_yaml, to_yaml
from kexue_archive.build import read_dump
from kexue_archive.sources import dump_of

GOLDEN = ROOT / "tests" / "golden" / "seeds"

# (line, title, date, readers, excerpt opening, flags)
TRUTH: dict[str, list[tuple[int, str | None, str, int | None, str, tuple[str, ...]]]] = {
    "000_3d58166289bafc77.txt": [
        (1, "基于量子化假设推导模型的尺度定律(Scaling Law)", "2023-05-18", 33889, "尺度定律(Scaling Law),指的是模型能力", ()),
        (4, "语言模型输出端共享Embedding的重新探索", "2023-07-20", 29039, "预训练刚兴起时,在语言模型的输出端", ()),
        (7, "生成函数法与整数的分拆", "2014-09-16", 31013, "我们在高中甚至初中,都有可能遇到这样的题目:", ()),
        (14, "R136a1,300倍太阳质量的怪兽星", "2010-07-29", 27638, "原文链接:http://www.eso.org/public/news/eso1030/", ()),
        (22, "变分自编码器(五):VAE + BN = 更好的VAE", "2020-05-06", 195995, "本文我们继续之前的变分自编码器系列", ()),
        (30, "Designing GANs:又一个GAN生产车间", "2020-02-13", 33308, "在2018年的文章里《f-GAN简介", ()),
        (37, "迟到一年的建模:再探碎纸复原", "2014-12-18", 80942, "前言:一年前国赛的时候", ()),
    ],
    "001_21cf883cf368c9e5.txt": [
        (1, "圆内随机n点在同一个圆心角为θ的扇形的概率", "2022-10-25", 38644, "", ("excerpt-missing",)),
        (2, "用热传导方程来指导自监督学习", "2022-11-30", 31471, "用理论物理来卷机器学习已经不是什么新鲜事了", ()),
        (6, "Transformer升级之路:7、长度外推性与局部注意力", "2023-01-12", 92929, "对于Transformer模型来说,其长度的外推性", ()),
        (11, "注意力和Softmax的两点有趣发现:鲁棒性和信息量", "2023-04-25", 31422, "最近几周笔者一直都在思考注意力机制", ()),
        (19, "梯度视角下的LoRA:简介、分析、猜测及推广", "2023-04-17", 75518, "随着ChatGPT及其平替的火热", ()),
        (26, "缓解交叉熵过度自信的一个简明方案", "2023-03-14", 33913, "众所周知,分类问题的常规评估指标是正确率", ()),
        (29, "测试函数法推导连续性方程和Fokker-Planck方程", "2023-02-11", 36060, "在文章《生成扩散模型漫谈(六):一般框架之ODE篇》中", ()),
        (32, "Google新搜出的优化器Lion:效率与效果兼得的“训练狮”", "2023-02-16", 52239, "昨天在Arixv上发现了Google新发的一篇论文", ()),
    ],
    "002_6420dfb93066d8c0.txt": [
        (1, "大词表语言模型在续写任务上的一个问题及对策", "2023-09-13", 30187, "对于LLM来说,通过增大Tokenizer的词表", ()),
        (5, "自然数集中 N = ab + c 时 a + b + c 的最小值", "2023-09-20", 37894, "前天晚上微信群里有群友提出了一个问题:", ()),
        (10, "生成扩散模型漫谈(二十四):少走捷径,更快到达", "2024-04-23", 29611, "如何减少采样步数同时保证生成质量", ()),
        (13, "Softmax后传:寻找Top-K的光滑近似", "2024-09-19", 22119, "Softmax,顾名思义是“soft的max”", ()),
        (22, "钱学森:人生书写时代", "2009-10-31", 18057, "", ("excerpt-missing",)),
        (23, "相对论、对称和第四维", "2012-05-01", 78618, "这篇文章其实在年初就完成了。", ()),
    ],
    "003_568cb4270ae5d56a.txt": [
        (10, None, "--12-11", None, "SimCLR以来,CV中关于无监督特征学习的工作层出不穷", ("title-missing", "year-unknown")),
        (28, "【龟鱼记】全陶粒的同程底滤生态缸", "--12-07", None, "最近一段时间入了水族的坑", ("year-unknown",)),
        (40, "层次分解位置编码,让BERT可以处理超长文本", "--12-04", None, "大家都知道,目前的主流的BERT模型", ("year-unknown",)),
        (54, "Performer:用随机投影将Attention的复杂度线性化", "--12-01", None, "Attention机制的$\\mathscr{O}(n^2)$复杂度", ("year-unknown",)),
        (68, "exp(x)在x=0处的偶次泰勒展开式总是正的", "--11-24", None, "刚看到一个有意思的结论:", ("year-unknown",)),
        (86, "跟风玩玩目前最大的中文GPT2模型(bert4keras)", "--11-20", None, "相信不少读者这几天都看到了", ("year-unknown",)),
        (100, "也来谈谈RNN的梯度消失/爆炸问题", "--11-13", None, "尽管Transformer类的模型已经攻占了NLP", ("year-unknown",)),
        # 中国象棋 is printed twice: an image caption, not a title.
        (112, None, "--11-11", None, "中国象棋\n\n不知道读者有没有看过量子位年初的文章", ("title-missing", "year-unknown")),
    ],
    "004_90563b16d9f48e18.txt": [
        (3, "变分自编码器(八):估计样本概率密度", "--12-09", None, "在本系列的前面几篇文章中", ("year-unknown",)),
        (18, "为什么需要残差?一个来自DeepNet的视角", "--03-19", None, "《训练1000层的Transformer究竟有什么困难?》", ("year-unknown",)),
        (32, "RoFormerV2:自然语言理解的极限探索", "--03-21", None, "大概在1年前,我们提出了旋转位置编码", ("year-unknown",)),
        (42, "生成扩散模型漫谈(二):DDPM = 自回归式VAE", "--07-06", None, "在文章《生成扩散模型漫谈(一):DDPM = 拆楼 + 建楼》中", ("year-unknown",)),
        (57, "用热传导方程来指导自监督学习", "--11-30", None, "用理论物理来卷机器学习已经不是什么新鲜事了", ("year-unknown",)),
        (73, "缓解交叉熵过度自信的一个简明方案", "--03-14", None, "众所周知,分类问题的常规评估指标是正确率", ("year-unknown",)),
        (83, "自然数集中 N = ab + c 时 a + b + c 的最小值", "--09-20", None, "前天晚上微信群里有群友提出了一个问题:", ("year-unknown",)),
        (97, "让MathJax的数学公式随窗口大小自动缩放", "--10-15", None, "随着MathJax的出现和流行", ("year-unknown",)),
    ],
}


def ledger(name: str) -> dict[str, object]:
    path = SEEDS / name
    data = path.read_bytes()
    return read_dump(name, dump_of(path, SEEDS, data), data).to_dict()


def test_truth_covers_every_seed() -> None:
    assert sorted(TRUTH) == SEED_FILES


@pytest.mark.parametrize("name", sorted(TRUTH))
def test_seed_matches_hand_truth(name: str) -> None:
    sightings = ledger(name)["sightings"]
    assert isinstance(sightings, list)
    got = [(s["line"], s["title"], s["date"], s["readers"], s["flags"]) for s in sightings]
    want = [(line, title, date, readers, list(flags)) for line, title, date, readers, _, flags in TRUTH[name]]
    assert got == want
    for s, (*_, opening, _flags) in zip(sightings, TRUTH[name], strict=True):
        assert s["excerpt"].startswith(opening), (s["title"], s["excerpt"][:60])


@pytest.mark.parametrize("name", sorted(TRUTH))
def test_no_boilerplate_in_excerpts(name: str) -> None:
    for s in ledger(name)["sightings"]:  # type: ignore[attr-defined]
        for junk in ("点击阅读全文", "最近评论", "会员注册", "宇宙驿站", "By 苏剑林"):
            assert junk not in s["excerpt"], (s["title"], junk)


def test_captions_kept_once() -> None:
    home = ledger("003_568cb4270ae5d56a.txt")["sightings"]
    first = home[0]["excerpt"]  # type: ignore[index]
    assert first.count("BYOL示意图") == 1
    assert first.endswith("示意图如下:\n\nBYOL示意图")


def test_multiline_display_math_stays_one_paragraph() -> None:
    lion = ledger("001_21cf883cf368c9e5.txt")["sightings"][-1]  # type: ignore[index]
    block = lion["excerpt"].split("\n\n")[-1]
    assert block.startswith("\\begin{equation}\\text{Lion}") and block.endswith("\\end{equation}")
    assert block.count("\n") == 4


def test_raw_html_in_a_dump_is_kept_as_text() -> None:
    mathjax = ledger("004_90563b16d9f48e18.txt")["sightings"][-1]  # type: ignore[index]
    assert mathjax["excerpt"].endswith('<span style="font-size:90%">\n    \\begin{equation}一个超长的数学公式\\end{equation}\n</span>')


@pytest.mark.parametrize("name", sorted(TRUTH))
def test_golden(name: str) -> None:
    path = GOLDEN / (name.rsplit(".", 1)[0] + ".yaml")
    got = to_yaml(ledger(name))
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(got)
    assert from_yaml(path.read_bytes()) == from_yaml(got)
    assert path.read_bytes() == got


_IMPORTS_AFTER_READING = """
import sys
from pathlib import Path
from kexue_archive.build import build
from kexue_archive.readers import read_text
kind, reading = read_text(Path(sys.argv[1]).read_text(encoding="utf-8"), "dump")
print(kind, len(reading.sightings), "bs4" in sys.modules, "lxml" in sys.modules)
"""


@pytest.mark.parametrize(("dump", "kind", "markup"), [
    ("seeds/000_3d58166289bafc77.txt", "text-listing", False),
    ("tests/fixtures/html/article-lion.html", "html-article", True),
])
def test_only_markup_dumps_load_beautifulsoup(dump: str, kind: str, markup: bool) -> None:
    """The markup readers come in on first use: a build of plain-text dumps spends nothing on bs4/lxml (~0.1 s)."""
    out = subprocess.run([sys.executable, "-c", _IMPORTS_AFTER_READING, str(ROOT / dump)],
                         capture_output=True, text=True, check=True).stdout.split()
    assert out[0] == kind and int(out[1]) > 0
    assert out[2:] == [str(markup), str(markup)]
