"""Series detection on real-style kexue.fm titles: members, non-members, order."""

from __future__ import annotations

import pytest

from kexue_archive.records import Article
from kexue_archive.series import chinese_number, detect, parse, series_key

# (title, series key, part number): titles as the blog writes them, in both
# full-width and NFKC-normalised typography.
MEMBERS = [
    ("生成扩散模型漫谈(二十四):少走捷径,更快到达", "生成扩散模型漫谈", 24),
    ("生成扩散模型漫谈（一）：DDPM = 拆楼 + 建楼", "生成扩散模型漫谈", 1),
    ("生成扩散模型漫谈（二）：DDPM = 自回归式VAE", "生成扩散模型漫谈", 2),
    ("生成扩散模型漫谈(十三):从万有引力到扩散模型", "生成扩散模型漫谈", 13),
    ("生成扩散模型漫谈（十）：统一扩散模型（理论篇）", "生成扩散模型漫谈", 10),
    ("变分自编码器(八):估计样本概率密度", "变分自编码器", 8),
    ("变分自编码器（一）：原来是这么一回事", "变分自编码器", 1),
    ("变分自编码器(五):VAE + BN = 更好的VAE", "变分自编码器", 5),
    ("Transformer升级之路:7、长度外推性与局部注意力", "transformer升级之路", 7),
    ("Transformer升级之路：1、Sinusoidal位置编码追根溯源", "transformer升级之路", 1),
    ("Transformer升级之路：10、RoPE是一种β进制编码", "transformer升级之路", 10),
    ("Transformer升级之路：12、无限外推的ReRoPE？", "transformer升级之路", 12),
    ("从动力学角度看优化算法（六）：为什么SimSiam不退化？", "从动力学角度看优化算法", 6),
    ("从动力学角度看优化算法(一):从SGD到动量加速", "从动力学角度看优化算法", 1),
    ("更别致的词向量模型(六)：代码、分享与结语", "更别致的词向量模型", 6),
    ("低秩近似之路（二）：SVD", "低秩近似之路", 2),
    ("重温SSM（一）：线性系统和HiPPO矩阵", "重温ssm", 1),
    ("“闭门造车”之多模态思路浅谈（一）：无损输入", "闭门造车之多模态思路浅谈", 1),
    ("从费马大定理谈起（三）：高斯整数", "从费马大定理谈起", 3),
    ("【中文分词系列】 1. 基于AC自动机的快速分词", "中文分词系列", 1),
    ("【中文分词系列】 2. 基于切分的新词发现", "中文分词系列", 2),
    ("【理解黎曼几何】1. 曲率的直观理解", "理解黎曼几何", 1),
    ("OCR技术浅探：1. 全文简述", "ocr技术浅探", 1),
    ("OCR技术浅探:9. 代码共享与结语", "ocr技术浅探", 9),
    ("《自然极值》系列——6.最小作用量原理", "自然极值系列", 6),
    ("《自然极值》系列——1.关于费马原理", "自然极值系列", 1),
    ("Designing GANs (3): 又一个", "designinggans", 3),
    ("生成扩散模型漫谈（２３）：信噪比与大图生成（下）", "生成扩散模型漫谈", 23),
    ("用狄拉克函数来构造非光滑函数的光滑近似(上)", "用狄拉克函数来构造非光滑函数的光滑近似", 1),
    ("用狄拉克函数来构造非光滑函数的光滑近似(下)", "用狄拉克函数来构造非光滑函数的光滑近似", 3),
    ("某个系列（一百零一）：很长", "某个系列", 101),
    ("生成扩散模型漫谈(二十)", "生成扩散模型漫谈", 20),
]

NOT_MEMBERS = [
    None,
    "",
    "Softmax后传:寻找Top-K的光滑近似",
    "梯度视角下的LoRA:简介、分析、猜测及推广",
    "自然数集中 N = ab + c 时 a + b + c 的最小值",
    "exp(x)在x=0处的偶次泰勒展开式总是正的",
    "基于量子化假设推导模型的尺度定律(Scaling Law)",
    "【龟鱼记】全陶粒的同程底滤生态缸",
    "R136a1,300倍太阳质量的怪兽星",
    "天象奇观:5月21日日环食",
    "Designing GANs:又一个GAN生产车间",
    "为什么需要残差?一个来自DeepNet的视角",
    "SPACES：“抽取-生成”式长文本摘要（法研杯总结）",
    "我们的七夕(2012)",
    "圆周率:3.14159的故事",
    "(一):没有名字的系列",
    "从Wasserstein距离、对偶理论到WGAN",
    "Google新搜出的优化器Lion：效率与效果兼得的“训练狮”",
    "层次分解位置编码,让BERT可以处理超长文本",
    "RoFormerV2:自然语言理解的极限探索",
    "数字(一二三):不是数",
]


@pytest.mark.parametrize(("title", "key", "number"), MEMBERS)
def test_members_are_detected(title: str, key: str, number: int) -> None:
    part = parse(title)
    assert part is not None, title
    assert (part.key, part.number) == (key, number)


@pytest.mark.parametrize("title", NOT_MEMBERS)
def test_other_titles_are_not_series(title: str | None) -> None:
    assert parse(title) is None


@pytest.mark.parametrize(
    ("text", "value"),
    [("一", 1), ("十", 10), ("十二", 12), ("二十", 20), ("二十四", 24), ("九十九", 99), ("一百", 100),
     ("一百零一", 101), ("两百", 200), ("三千零五", 3005), ("一二", None), ("", None), ("上", None)],
)
def test_chinese_numbers(text: str, value: int | None) -> None:
    assert chinese_number(text) == value


def test_full_and_half_width_names_share_a_key() -> None:
    assert series_key("从动力学角度看优化算法") == series_key("从动力学角度看优化算法 ")
    assert parse("变分自编码器（八）：x") == parse("变分自编码器(八):x")


def _article(i: int, title: str, date: str | None) -> Article:
    return Article(id=f"a{i:011d}", title=title, author=None, date=date, readers=None, excerpt="", math=(),
                   url=None, sources=(), flags=())


def test_detect_groups_and_orders_members() -> None:
    titles = [
        ("生成扩散模型漫谈(二十四):少走捷径,更快到达", "2024-04-23"),
        ("Transformer升级之路:7、长度外推性与局部注意力", "2023-01-12"),
        ("生成扩散模型漫谈（二）：DDPM = 自回归式VAE", "--07-06"),
        ("生成扩散模型漫谈(十三):从万有引力到扩散模型", "2022-10-01"),
        ("Softmax后传:寻找Top-K的光滑近似", "2024-09-19"),
        ("Transformer升级之路：2、博采众长的旋转式位置编码", None),
    ]
    articles = [_article(i, t, d) for i, (t, d) in enumerate(titles)]
    found = {s.name: s for s in detect(reversed(articles))}
    assert set(found) == {"生成扩散模型漫谈", "Transformer升级之路"}
    assert found["生成扩散模型漫谈"].members == ((2, articles[2].id), (13, articles[3].id), (24, articles[0].id))
    assert found["Transformer升级之路"].members == ((2, articles[5].id), (7, articles[1].id))
    # order-independent and the id is a safe file name
    assert detect(articles) == detect(reversed(articles))
    assert all(s.id.isalnum() and s.id.isascii() for s in found.values())
