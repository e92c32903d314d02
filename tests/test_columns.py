"""Passages kept in columns read exactly like the passages they were made from."""
from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from knowledge.columns import PassageColumns, PassageList, of_kind
from knowledge.model import Passage
from knowledge.notes import load_notes

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "blog"

ROW = Passage("row", "Provider: DeepSeek; Uses vLLM: yes", ("Adoption", "Table"), (2, 1, 3),
              ("DeepSeek", "yes"), ("Provider", "Uses vLLM"), ("https://example.com/ds",), 41)
PARAGRAPH = Passage("paragraph", "vLLM is an inference engine.", ("Adoption",), (1, 0, 0), line=7)
CODE = Passage("code", "pip install vllm", (), (0, 2, 0), line=3)


def test_a_packed_list_reads_back_every_field() -> None:
    passages = (PARAGRAPH, ROW, CODE)
    packed = PassageList.of(passages)
    assert len(packed) == 3
    assert list(packed) == list(passages)
    assert packed[1] == ROW and packed[-1] == CODE
    assert packed == passages and passages == packed  # compares with tuples both ways


def test_slices_and_kinds_do_not_copy_other_passages() -> None:
    packed = PassageList.of((PARAGRAPH, ROW, CODE))
    tail = packed[1:]
    assert isinstance(tail, PassageList) and list(tail) == [ROW, CODE]
    assert list(packed[5:]) == []
    assert list(of_kind(packed, "row")) == [ROW]
    assert list(of_kind((PARAGRAPH, ROW), "row")) == [ROW]  # plain tuples too
    with pytest.raises(IndexError):
        packed[3]


def test_joined_columns_split_back_into_each_notes_passages() -> None:
    first = PassageList.of((PARAGRAPH, ROW))
    second = (CODE, PARAGRAPH)  # a plain tuple joins too
    joined = PassageColumns.join([first, second])
    back = joined.split([2, 2])
    assert list(back[0]) == [PARAGRAPH, ROW] and list(back[1]) == [CODE, PARAGRAPH]
    with pytest.raises(ValueError):
        joined.split([1, 2])


def test_notes_sharing_columns_pickle_them_once() -> None:
    lists = PassageColumns.join([(PARAGRAPH, ROW), (CODE,)]).split([2, 1])
    copies = pickle.loads(pickle.dumps(lists))
    assert copies[0].columns is copies[1].columns
    assert list(copies[0]) == [PARAGRAPH, ROW] and list(copies[1]) == [CODE]


@pytest.mark.skipif(not CORPUS.is_dir(), reason="needs ../shared/corpus/blog")
def test_real_notes_keep_their_passages_through_columns() -> None:
    for note in load_notes([CORPUS]).notes[:40]:
        passages = tuple(note.passages)
        assert list(PassageColumns.join([passages]).split([len(passages)])[0]) == list(passages)


def test_slices_of_shared_columns_join_with_their_own_rows_and_sections() -> None:
    # Notes loaded from the cache share one set of columns; saving joins slices of it.
    other = Passage("row", "Provider: OpenAI; Uses vLLM: no", ("Other",), (5, 0, 1), ("OpenAI", "no"),
                    ("Provider", "Uses vLLM"), (), 9)
    lists = PassageColumns.join([(PARAGRAPH, ROW), (CODE,), (other, PARAGRAPH)]).split([2, 1, 2])
    rejoined = PassageColumns.join([lists[2], lists[0]]).split([2, 2])
    assert list(rejoined[0]) == [other, PARAGRAPH]
    assert list(rejoined[1]) == [PARAGRAPH, ROW]


def test_texts_keep_strings_as_one_utf8_buffer_and_join_without_decoding() -> None:
    from knowledge.columns import Texts

    first, second = Texts.of(["añb", "", "日本語 🚀"]), Texts.of(["x", "último"])
    assert list(first) == ["añb", "", "日本語 🚀"] and first[-1] == "日本語 🚀" and len(first) == 3
    assert list(first[1:]) == ["", "日本語 🚀"] and list(first[2:1]) == []
    joined = Texts.join([first[1:], second])
    assert list(joined) == ["", "日本語 🚀", "x", "último"]
    assert joined.data.size == sum(len(t.encode()) for t in joined)  # only the bytes of the texts kept
    with pytest.raises(ValueError):
        first[::2]


def test_compressed_texts_read_across_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    from knowledge.columns import CompressedBytes, Texts

    monkeypatch.setattr(CompressedBytes, "CHUNK", 7)  # a few bytes a chunk: texts straddle chunks
    monkeypatch.setattr(CompressedBytes, "KEPT", 2)
    plain = Texts.of([f"texte numéro {i} 🚀" for i in range(50)])
    packed = CompressedBytes.of(np.asarray(plain.data))
    assert len(packed.bounds) - 1 == -(-plain.data.size // 7)
    texts = Texts(packed, plain.offsets)
    assert list(texts) == list(plain) and texts[49] == "texte numéro 49 🚀"
    assert list(Texts.join([texts[10:12], texts[0:1]])) == [plain[10], plain[11], plain[0]]
    assert len(packed._kept) <= 2  # only the last chunks read stay decompressed
