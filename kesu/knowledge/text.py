"""Text for the knowledge base: search tokens, and the features that tell similar complaints.

Search: an article's current title and body, folded (full-width, case, traditional characters:
kesu.triage.text.fold), cut by jieba in search mode — which also yields the shorter words inside
a long one (电水壶 → 水壶, 电水壶) — plus every pair of adjacent Chinese characters, because
the segmenter may cut the article where the query is one word (可换新 → 可换 / 新, so 换新 would
be missed; its pair 换新 is not). Other text becomes lower-case words. A query is cut the same
way, and an article ranks by how many of the query's tokens it holds.

Similarity: character 1- and 2-grams of each Chinese run and whole words of other text, counted;
`cosine()` weighs them by TF-IDF over the texts being compared.
"""

from __future__ import annotations

import re
from collections import Counter
from operator import add

import jieba
import numpy as np
from scipy.sparse import csr_matrix

from kesu.triage.text import fold

jieba.setLogLevel(60)

MAX_TOKEN = 40
# Words so common that matching them says nothing; kept out of the index and of queries.
STOPWORDS = frozenset({
    "的", "了", "是", "我", "你", "他", "她", "它", "们", "我们", "你们", "他们", "在", "和",
    "与", "及", "或", "也", "就", "都", "而", "吗", "呢", "吧", "啊", "呀", "把", "被",
    "对", "这", "那", "这个", "那个", "有", "没", "没有", "不", "很", "又", "还", "给", "让",
    "一个", "之", "其", "以", "于", "为", "着", "过", "等", "会", "能", "要",
    "a", "an", "the", "of", "to", "and", "or", "in", "on", "at", "for", "is", "are", "was",
    "were", "be", "been", "it", "its", "this", "that", "with", "as", "by", "from", "i",
    "you", "he", "she", "we", "they", "my", "your", "our", "their", "me", "us", "not", "no",
    "do", "does", "did", "so", "if", "but", "after", "before", "then", "there", "when", "what",
    "which", "who", "will", "would", "can", "could", "have", "has", "had", "into", "out", "up",
    "about", "all", "any", "some", "just", "only", "very", "also", "than", "more", "one", "two",
    "get", "got",
})  # fmt: skip
_WORDLIKE = re.compile(r"[^\W_]")
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUN = re.compile(rf"([{_CJK}]+)|([^\W_{_CJK}]+)")


def search_tokens(text: str) -> set[str]:
    """The distinct tokens of a text (or a query), as the index keeps them."""
    folded = fold(text)
    found: set[str] = set()
    for word in jieba.lcut_for_search(folded):
        word = word.strip()
        if word and len(word) <= MAX_TOKEN and word not in STOPWORDS and _WORDLIKE.search(word):
            found.add(word)
    for cjk, _other in _RUN.findall(folded):
        found.update(map(add, cjk, cjk[1:]))
    return found


def key_terms(text: str, count: int) -> list[str]:
    """The text's most distinctive words of two characters or more (jieba's TF-IDF weights)."""
    # Imported when first needed: loading jieba.analyse (its IDF table, the POS tagger) takes
    # half a second that no process should pay at start-up.
    import jieba.analyse

    terms = []
    for word in jieba.analyse.extract_tags(fold(text), topK=count * 3):
        if len(word) >= 2 and word not in STOPWORDS and _WORDLIKE.search(word):
            terms.append(word)
        if len(terms) == count:
            break
    return terms


def grams(text: str) -> Counter[str]:
    """Character 1- and 2-grams of every Chinese run, and every other word, with their counts."""
    items: list[str] = []
    for cjk, word in _RUN.findall(fold(text)):
        if cjk:
            items.extend(cjk)
            items.extend(map(add, cjk, cjk[1:]))
        else:
            items.append(word)
    return Counter(items)


def cosine(query: Counter[str], texts: list[Counter[str]]) -> list[float]:
    """Cosine of the query with each text, both weighted by TF-IDF over the texts given.

    The texts are a pool of candidates, so the inverse document frequency is the pool's: what
    every candidate says (快递, 客服) counts little, what only some share counts much. The term
    frequency is sublinear (1 + log tf), so that a long text does not win by repetition.

    The arithmetic is a sparse matrix's. Grams are numbered by their hash, made unique by
    numpy: numbering them in a Python loop cost more than all the rest (150 texts: 2 ms, where
    dictionaries took 15).
    """
    if not texts:
        return []
    hashes: list[int] = []
    values: list[int] = []
    starts = [0]
    for counts in (query, *texts):
        hashes.extend(map(hash, counts))
        values.extend(counts.values())
        starts.append(len(hashes))
    rows = len(starts) - 1
    distinct, columns = np.unique(np.array(hashes, dtype=np.int64), return_inverse=True)
    matrix = csr_matrix(
        (np.array(values, dtype=float), columns.ravel(), np.array(starts)),
        shape=(rows, len(distinct)),
    )
    frequency = np.bincount(matrix.indices, minlength=len(distinct))
    idf = np.log((1 + rows) / (1 + frequency)) + 1
    matrix.data = (1 + np.log(matrix.data)) * idf[matrix.indices]
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    dots = np.asarray((matrix[1:] @ matrix[0].T).todense()).ravel()
    scale = norms[1:] * norms[0]
    scores = np.divide(dots, scale, out=np.zeros_like(dots), where=scale > 0)
    return [float(score) for score in scores]
