"""Text → search terms, the same way for questions and passages.

Latin/Cyrillic/Arabic/Devanagari text splits into words (case and Latin accents folded,
a plural "s" trimmed, stop words dropped); every long word also yields a 5-letter
prefix term so that cognates and inflections meet ("historial"/"history",
"producción"/"production"). Chinese, Japanese and Korean have no spaces, so their
runs become character bigrams. Command-line flags ("-v", "--forest"), dotted names
("group.id") and "c++", "g++", "c#" are kept whole as well, because they are often the
fact asked for; so is a hyphenated word with a stop word in it ("fan-in", "built-in"), whose
meaning that stop word carries.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from itertools import chain
from pathlib import Path

import yaml

PREFIX_MARK = "~"  # prefix terms never collide with words
PREFIX_LEN = 5

_CJK = (
    "\u3040-\u309f"  # hiragana
    "\u30a0-\u30ff\u31f0-\u31ff"  # katakana
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # Han
    "\uac00-\ud7af\u1100-\u11ff\u3130-\u318f"  # Hangul
)
_WORD_CHARS = (
    "0-9a-z\u00b2\u00b3"  # digits, ASCII letters, ² ³ (O(n²))
    "\u00c0-\u024f"  # Latin-1 and Latin Extended letters (after folding, mostly ß, ø, æ, œ)
    "\u0370-\u03ff\u0400-\u04ff"  # Greek, Cyrillic
    "\u0620-\u065f\u0660-\u0669\u066e-\u06d3\u06d5-\u06ff"  # Arabic letters, marks, digits (not ، ؛ ؟)
    "\u0900-\u097f"  # Devanagari letters and vowel signs
)
_TOKEN = re.compile(  # a run of CJK, a flag, or a word (dotted names whole, "c++", "notepad++", "c#" whole)
    rf"[{_CJK}]+"
    rf"|(?<![{_WORD_CHARS}+])--?[a-z][a-z0-9-]*"
    rf"|[{_WORD_CHARS}]+(?:[._'’-][{_WORD_CHARS}]+)*(?:\+\+|(?<![{_WORD_CHARS}][{_WORD_CHARS}])#)?"
)
_CJK_START = re.compile(rf"[{_CJK}]")
_ORDINAL = re.compile(r"^(\d+)(?:st|nd|rd|th)$")
# Chinese and Japanese function characters: a bigram containing one carries no topic.
_CJK_STOP_CHARS = frozenset("的了吗呢吧啊是么什怎哪个这那在和与或有没不我你他她它们就都也很把被让给用该请"
                            "嗎麼這個們為甚應")


@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    path = Path(__file__).with_name("data") / "stopwords.yaml"
    lists = yaml.safe_load(path.read_text(encoding="utf-8"))
    return frozenset(fold(word) for words in lists.values() for word in words.split())


def _accent_table() -> dict[int, str | None]:
    """Latin letters with accents → without; lone accents and Arabic harakat → removed."""
    table: dict[int, str | None] = {}
    for code in range(0x00C0, 0x0250):
        base = unicodedata.normalize("NFD", chr(code))
        stripped = "".join(ch for ch in base if not unicodedata.combining(ch))
        if stripped != chr(code) and stripped:
            table[code] = stripped
    for code in [*range(0x0300, 0x0370), *range(0x064B, 0x0660), 0x0670, 0x0640]:
        table[code] = None
    return table


_FOLD_TABLE = _accent_table()
# Text with none of those characters (Chinese, Japanese, Hindi...) skips the table: a search
# for them is many times cheaper than translating character by character.
_FOLDABLE = re.compile("[" + "".join(re.escape(chr(code)) for code in sorted(_FOLD_TABLE)) + "]")


def fold(text: str) -> str:
    """Case-fold and remove Latin accents; leaves CJK, kana voicing marks and other scripts intact."""
    if text.isascii():
        return text.lower()
    text = unicodedata.normalize("NFKC", text).casefold()
    return text.translate(_FOLD_TABLE) if _FOLDABLE.search(text) else text


def _stem(word: str) -> str:
    # Only the plural "s": enough to meet "articles"/"article" without a stemmer per language.
    if len(word) > 4 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _cjk_terms(run: str) -> tuple[str, ...]:
    """Character pairs of a CJK run, without those holding a function character and
    those of two kana (particles, endings): they are grammar, not topic."""
    if len(run) == 1:
        return () if run in _CJK_STOP_CHARS or "\u3040" <= run <= "\u309f" else (run,)
    stops = _CJK_STOP_CHARS
    return tuple(
        a + b for a, b in zip(run, run[1:])
        if a not in stops and b not in stops and not ("\u3040" <= a <= "\u309f" and "\u3040" <= b <= "\u309f")
    )


def _token_terms(token: str, prefixes: bool) -> tuple[str, ...]:
    """Terms of one token of folded text."""
    if _CJK_START.match(token):
        return _cjk_terms(token)
    stops = stop_words()
    if token[0] == "-":
        return (token, *_word_terms(token.lstrip("-"), stops, prefixes))
    if token[-1] in "+#":  # "c++", "g++", "c#": the language or tool, not the letter
        return (token, *_word_terms(token.rstrip("+#"), stops, prefixes))
    if "-" in token:  # each part on its own; "fan-in", "built-in" whole too, or their "in" is lost
        parts = [part for part in token.split("-") if part]
        whole = [token] if len(parts) > 1 and any(part in stops for part in parts) else []
        return (*whole, *chain.from_iterable(_token_terms(part, prefixes) for part in parts))
    if any(sep in token for sep in "._"):
        out = [token]  # keep "group.id" / "is_available" whole as well as its parts
        for part in re.split(r"[._'’]", token):
            out.extend(_word_terms(part, stops, prefixes))
        return tuple(out)
    return tuple(_word_terms(_without_apostrophe(token), stops, prefixes))


def _without_apostrophe(token: str) -> str:
    """The word an apostrophe hangs on: after an elided article ("l'homme", "dell'algoritmo"),
    before a short ending ("TCP's", "don't", "they're")."""
    parts = token.replace("’", "'").split("'")
    first, last = parts[0], parts[-1]
    return first if len(last) <= 2 and len(first) > len(last) else last


# token → its terms: the same words recur across every note. Plain dicts, emptied when full,
# because this runs for every word of a blog and a dict look-up is the cheapest memo there is.
_MEMO_LIMIT = 1 << 17
_memos: dict[bool, dict[str, tuple[str, ...]]] = {True: {}, False: {}}


def terms(text: str, prefixes: bool = True) -> list[str]:
    """Search terms of a text, in order, stop words removed (duplicates kept: they are term frequency)."""
    memo = _memos[prefixes]
    tokens = _TOKEN.findall(fold(text))
    found = list(map(memo.get, tokens))
    if None in found:
        if len(memo) > _MEMO_LIMIT:
            memo.clear()
        for i, token in enumerate(tokens):
            if found[i] is None:
                found[i] = _token_terms(token, prefixes)
                if len(token) <= 4 or not _CJK_START.match(token):  # a long CJK run is a phrase: seldom seen again
                    memo[token] = found[i]
    return list(chain.from_iterable(found))  # type: ignore[arg-type]


def _word_terms(word: str, stops: frozenset[str], prefixes: bool) -> list[str]:
    if not word or word in stops:
        return []
    ordinal = _ORDINAL.match(word)
    if ordinal:
        return [ordinal.group(1)]  # "13th" is written "13" (or in words) as often as "13th"
    stem = _stem(word)
    if prefixes and len(stem) > PREFIX_LEN and stem.isalpha():
        return [stem, PREFIX_MARK + stem[:PREFIX_LEN]]
    return [stem]


def is_compound_term(term: str) -> bool:
    """A flag ("--hard"), dotted name ("group.id") or "c++"/"c#", emitted beside its parts for precision."""
    return term.startswith("-") or "." in term or "_" in term or term.endswith(("+", "#"))


CAPITALISED_LANGUAGES = frozenset({"de"})  # every noun has a capital: a capital is no evidence of a name
_RAW_TOKEN = re.compile(r"[0-9A-Za-z\u00c0-\u024f][0-9A-Za-z\u00c0-\u024f.\-_]*(?:\+\+|#)?")  # Latin words only
_OTHER_SCRIPT = re.compile(rf"[{_CJK}\u0400-\u04ff\u0600-\u06ff\u0900-\u097f]")


def name_terms(text: str, language: str | None = None) -> frozenset[str]:
    """Terms of the words written like names: "DeepSeek", "vLLM", "EPFL", "V3", "Redis" mid-sentence.

    Names mean the same in every language, so a note without a translation in the
    asker's language must still contain them; ordinary words need not. In a question
    written in another script every Latin word is one ("cron" in a Chinese question);
    in German, where every noun is capitalised, a capital alone is no evidence.
    """
    names: set[str] = set()
    foreign_script = _OTHER_SCRIPT.search(text) is not None
    nouns_capitalised = language in CAPITALISED_LANGUAGES
    for match in _RAW_TOKEN.finditer(text):
        token = match.group().rstrip(".-_")
        if not token:
            continue
        i = match.start() - 1  # the last character before the word that is not a space
        while i >= 0 and text[i].isspace():
            i -= 1
        sentence_start = i < 0 or text[i] in ".!?¿¡:;。！？"
        # Each part of a hyphenated word on its own: "LSTM-Zelle" names LSTM, not "Zelle";
        # "S-shaped" names nothing.
        for n, part in enumerate(p for p in token.split("-") if p):
            capitalised = part[0].isupper() and not nouns_capitalised and \
                (n > 0 or not sentence_start or fold(part) not in stop_words())
            if foreign_script and part.isascii() and fold(part) not in stop_words():
                capitalised = True
            if capitalised or any(ch.isupper() for ch in part[1:]) or any(ch.isdigit() for ch in part):
                names.update(terms(part, prefixes=False))
    return frozenset(names)
