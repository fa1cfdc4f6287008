"""Chinese search · 中文搜尋 (issue 16): segment Chinese with jieba for the search index; English words as before.

Sphinx's default (English) indexer keeps a run of Chinese between two punctuation marks as one "word", so 分數匹配
is found only where it stands alone. With ``html_search_language = "zh"`` Sphinx segments Chinese with jieba
(``cut_for_search``: the words and their shorter dictionary words) and still indexes and stems Latin words, so
English search keeps working on the bilingual site. jieba's dictionary is general (mostly simplified) Chinese:
the glossary's Traditional Chinese terms are added as a user dictionary, so that 變異數 or 布朗運動 are words.
The English edition keeps the English indexer.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.search.zh import SearchChinese

CJK_RUN = re.compile(r"[\u3400-\u9fff]{2,}")
# words the chapters use that are not glossary entries of their own (伊藤: Itô, in 伊藤引理 and 伊藤積分)
EXTRA_TERMS = ("伊藤",)


def dictionary_subwords(word: str, known) -> list[str]:
    """Shorter index words inside a long Chinese ``word``: every two-character piece, and every longer piece that
    ``known`` (jieba's dictionary with the glossary) holds.

    jieba's ``cut_for_search`` adds only the two- and three-character words inside a long word that its dictionary
    knows, and that dictionary is mostly simplified Chinese: 擴散係數 yields no 擴散, and 切片分數匹配 no 分數匹配. The
    bigrams (the usual unit of Chinese full-text search) and the known longer pieces close that gap."""
    if len(word) < 3 or not CJK_RUN.fullmatch(word):
        return []
    bigrams = [word[i:i + 2] for i in range(len(word) - 1)]
    longer = [word[i:j] for i in range(len(word)) for j in range(i + 3, len(word) + 1)
              if (i, j) != (0, len(word)) and known(word[i:j])]
    return list(dict.fromkeys(bigrams + longer))


class SearchTraditionalChinese(SearchChinese):
    """Sphinx's Chinese indexer (jieba, English words stemmed as before) plus :func:`dictionary_subwords`."""

    def split(self, input: str) -> list[str]:  # noqa: A002 - Sphinx's signature
        words = super().split(input)
        try:
            import jieba
        except ImportError:  # Sphinx then indexes Latin words only; the build still works
            return words
        known = lambda w: bool(jieba.dt.FREQ.get(w))  # noqa: E731
        return words + [sub for w in words for sub in dictionary_subwords(w, known)]


def glossary_terms(markdown: str) -> list[str]:
    """The Chinese terms of the glossary's tables (second column), split at brackets and separators."""
    terms: list[str] = []
    for line in markdown.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 2 or not line.lstrip().startswith("|") or set(cells[0]) <= set("-: "):
            continue
        for term in CJK_RUN.findall(cells[1]):
            if term not in terms:
                terms.append(term)
    return terms


def write_user_dict(terms: list[str], path: Path) -> Path:
    """jieba's user dictionary: one word per line (no frequency: jieba picks one that keeps the word whole)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{t}\n" for t in terms), encoding="utf-8")
    return path


def configure(app: Sphinx, config) -> None:
    if os.environ.get("SCORESDE_EDITION", "both").strip() == "en":
        return
    glossary = Path(app.srcdir) / "book" / "glossary.md"
    terms = glossary_terms(glossary.read_text(encoding="utf-8")) + list(EXTRA_TERMS)
    path = write_user_dict(terms, Path(app.doctreedir) / "search_zh_dict.txt")
    config.html_search_language = "zh"
    config.html_search_options = {**(config.html_search_options or {}), "dict": str(path)}


def setup(app: Sphinx) -> dict:
    app.add_search_language(SearchTraditionalChinese)
    app.connect("config-inited", configure)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
