"""The Chinese search indexer (_ext/search_zh.py): glossary terms for jieba, and the pieces of long words."""

from __future__ import annotations

from .bookcheck import ROOT, load_module

search_zh = load_module("scoresde_search_zh", ROOT / "_ext" / "search_zh.py")


def test_glossary_terms_are_the_chinese_column():
    table = ("| English | 繁體中文 | Definition · 定義 | First |\n|---|---|---|---|\n"
             "| score (score function) | 分數（分數函數） | the gradient · 梯度 | Ch. 1 |\n"
             "| Itô's formula | Itô 公式（伊藤引理） | chain rule · 連鎖律 | Ch. 3 |\n")
    terms = search_zh.glossary_terms(table)
    assert {"分數", "分數函數", "公式", "伊藤引理"} <= set(terms)
    assert "梯度" not in terms and "連鎖律" not in terms        # definitions are not terms


def test_long_words_give_their_pieces():
    known = {"分數匹配"}.__contains__
    pieces = search_zh.dictionary_subwords("切片分數匹配", known)
    assert "分數匹配" in pieces and "分數" in pieces and "匹配" in pieces
    assert "擴散" in search_zh.dictionary_subwords("擴散係數", lambda w: False)   # not in jieba's dictionary
    assert search_zh.dictionary_subwords("分數", known) == []                   # nothing inside two characters
    assert search_zh.dictionary_subwords("score", known) == []                  # Latin words are left alone


def test_the_glossary_has_the_terms_readers_search_for():
    terms = search_zh.glossary_terms((ROOT / "book" / "glossary.md").read_text(encoding="utf-8"))
    assert {"分數匹配", "布朗運動", "伊藤引理", "維納過程"} <= set(terms)
    assert "伊藤" in search_zh.EXTRA_TERMS
