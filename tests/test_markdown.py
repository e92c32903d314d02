"""parse_body: passages, section paths, table rows, skipped code, positions across translations."""
from __future__ import annotations

from pathlib import Path

import frontmatter

from knowledge.inline import plain
from knowledge.markdown import parse_body, split_cells, to_plain

REPO = Path(__file__).resolve().parents[1]
SEED_EN = REPO / "bot" / "notes" / "notes" / "vllm-adoption-ai-providers-en.md"
SEED_ES = REPO / "bot" / "notes" / "_posts" / "es" / "vllm-adoption-ai-providers-es.md"


def rows(body: str):
    return [p for p in parse_body(body).passages if p.kind == "row"]


def texts(body: str, kind: str | None = None) -> list[str]:
    return [p.text for p in parse_body(body).passages if kind is None or p.kind == kind]


# ---------------------------------------------------------------- tables
def test_table_with_outer_pipes_and_bold_cells():
    body = "| Name | Uses? |\n|------|-------|\n| **DeepSeek** | Yes |\n| *Kimi* | No |\n"
    got = rows(body)
    assert [r.cells for r in got] == [("**DeepSeek**", "Yes"), ("Kimi", "No")]  # cells keep bold and code
    assert got[0].header == ("Name", "Uses?")
    assert got[0].text == "Name: **DeepSeek**; Uses?: Yes"
    assert [r.position for r in got] == [(0, 0, 1), (0, 0, 2)]
    assert [r.line for r in got] == [3, 4]
    assert parse_body(body).table_shapes == ((2, 2),)


def test_table_without_outer_pipes_and_alignment_row():
    body = "Tool | Speed | Notes\n:--- | :---: | ---:\nvLLM | fast | paged attention\n"
    got = rows(body)
    assert len(got) == 1
    assert got[0].cells == ("vLLM", "fast", "paged attention")
    assert got[0].text == "Tool: vLLM; Speed: fast; Notes: paged attention"


def test_escaped_pipes_and_pipes_in_inline_code_do_not_split_cells():
    body = "| Cmd | Meaning |\n|---|---|\n| `ls | wc -l` | count a \\| b |\n| `x \\| y` | z |\n"
    got = rows(body)
    assert got[0].cells == ("`ls | wc -l`", "count a | b")
    assert got[1].cells == ("`x | y`", "z")


def test_links_and_code_inside_cells():
    body = "| Site | Tip |\n|---|---|\n| [vLLM](https://vllm.ai) | run `pip install vllm` |\n"
    (row,) = rows(body)
    assert row.cells == ("vLLM", "run `pip install vllm`")
    assert row.links == ("https://vllm.ai",)
    assert parse_body(body).links == ("https://vllm.ai",)


def test_rows_with_fewer_or_more_cells_than_header():
    body = "| A | B | C |\n|---|---|---|\n| 1 |\n| 1 | 2 | 3 | 4 |\n"
    short, long = rows(body)
    assert short.cells == ("1", "", "")
    assert short.text == "A: 1"
    assert long.cells == ("1", "2", "3", "4")
    assert long.text == "A: 1; B: 2; C: 3; 4"


def test_header_without_delimiter_row_is_not_a_table():
    body = "a | b\nc | d\n"
    assert rows(body) == []
    assert texts(body) == ["a | b c | d"]


def test_table_interrupting_a_paragraph_and_ending_at_blank_line():
    body = "Intro line\n| k | v |\n|---|---|\n| x | 1 |\n\nAfter the table.\n"
    passages = parse_body(body).passages
    assert [(p.kind, p.text) for p in passages] == [
        ("paragraph", "Intro line"), ("row", "k: x; v: 1"), ("paragraph", "After the table.")]
    assert [p.position for p in passages] == [(0, 0, 0), (0, 1, 1), (0, 2, 0)]


def test_split_cells_edge_cases():
    assert split_cells("| a | b |") == ["a", "b"]
    assert split_cells("a|b") == ["a", "b"]
    assert split_cells("| a \\| b |") == ["a | b"]
    assert split_cells("| `a|b` | c |") == ["`a|b`", "c"]
    assert split_cells("| ``a`|`b`` | c |") == ["``a`|`b``", "c"]
    assert split_cells("| `open | c |") == ["`open", "c"]  # unclosed code span splits normally


# ---------------------------------------------------------------- headings
def test_atx_headings_build_section_paths():
    body = "# Top\n\nintro\n\n## Mid ##\n\ntext one\n\n### Deep\n\ntext two\n\n## Other\n\ntext three\n"
    passages = parse_body(body).passages
    by_text = {p.text: p for p in passages}
    assert by_text["Top"].kind == "heading" and by_text["Top"].section == ()
    assert by_text["Mid"].section == ("Top",)  # closing hashes removed
    assert by_text["intro"].section == ("Top",)
    assert by_text["text one"].section == ("Top", "Mid")
    assert by_text["text two"].section == ("Top", "Mid", "Deep")
    assert by_text["text three"].section == ("Top", "Other")
    assert [by_text[t].position for t in ("Top", "intro", "Mid", "text one", "text three")] == [
        (1, 0, 0), (1, 0, 0), (2, 0, 0), (2, 0, 0), (4, 0, 0)]


def test_setext_headings():
    body = "Big Title\n=========\n\nsome text\n\nSmall *Title*\n---\n\nmore text\n"
    passages = parse_body(body).passages
    assert [(p.kind, p.text) for p in passages] == [
        ("heading", "Big Title"), ("paragraph", "some text"), ("heading", "Small Title"), ("paragraph", "more text")]
    assert passages[3].section == ("Big Title", "Small Title")
    assert passages[2].line == 6


def test_a_bold_line_alone_is_a_heading_under_the_current_section():
    body = ("## Options\n\n**Warning Options**\n- `-Wall` — most warnings\n- `-Werror` — warnings as errors\n\n"
            "**Notes pour Windows :**\n- un\n\nA **bold** word inside a sentence.\n\n## Next\n\ntext\n")
    passages = parse_body(body).passages
    assert [(p.kind, p.text) for p in passages] == [
        ("heading", "Options"), ("heading", "Warning Options"), ("item", "`-Wall` — most warnings"),
        ("item", "`-Werror` — warnings as errors"), ("heading", "Notes pour Windows"), ("item", "un"),
        ("paragraph", "A **bold** word inside a sentence."), ("heading", "Next"), ("paragraph", "text")]
    assert passages[3].section == ("Options", "Warning Options")
    assert passages[5].section == ("Options", "Notes pour Windows")  # the next bold line ends the one before
    assert passages[8].section == ("Next",)  # a real heading ends it too


def test_hashtag_and_thematic_break_are_not_headings():
    body = "#hashtag is text\n\n---\n\n***\n\nafter\n"
    passages = parse_body(body).passages
    assert [(p.kind, p.text) for p in passages] == [("paragraph", "#hashtag is text"), ("paragraph", "after")]


# ---------------------------------------------------------------- code
def test_fenced_code_is_a_code_passage_and_never_a_table_or_heading():
    body = (
        "Before.\n\n"
        "```bash\n# not a heading\n| a | b |\n|---|---|\n| 1 | 2 |\n```\n\n"
        "~~~~\n~~~\n# still code, the fence needs four tildes\n~~~~\n\n"
        "````md\n```\ninner fence\n```\n````\n\n"
        "    # indented code\n    | x | y |\n    |---|---|\n\n"
        "After.\n"
    )
    parsed = parse_body(body)
    assert [(p.kind, p.text) for p in parsed.passages] == [
        ("paragraph", "Before."),
        ("code", "# not a heading\n| a | b |\n|---|---|\n| 1 | 2 |"),
        ("code", "~~~\n# still code, the fence needs four tildes"),
        ("code", "```\ninner fence\n```"),
        ("paragraph", "After."),  # indented code is skipped: it is rarely a listing worth showing
    ]
    assert parsed.table_shapes == ()
    assert parsed.passages[-1].line == body.split("\n").index("After.") + 1


def test_fences_inside_list_items_are_dedented_code():
    body = "1. Install:\n   ```bash\n   pip install x | tee log\n   ```\n   Then run it.\n2. Done\n"
    passages = parse_body(body).passages
    assert [(p.kind, p.text) for p in passages] == [
        ("item", "Install:"), ("code", "pip install x | tee log"), ("paragraph", "Then run it."), ("item", "Done")]


def test_inline_code_and_bold_keep_their_markers_and_the_rest_is_plain():
    # Discord shows `code` and **bold** as the note did; a span holding a backtick keeps a longer run.
    assert texts("Run `ls -la` then ``a`b``, __strong__ and *em **in** it* ~~old~~.") == [
        "Run `ls -la` then ``a`b``, **strong** and em **in** it old."]
    assert texts("# A `code` **title**\n\n| `x` | **y** |\n|---|---|\n| `1` | **2** |") == [
        "A code title", "x: `1`; y: **2**"]  # headings stay plain (titles, sections), a table's header too


def test_html_comments_are_hidden_except_inside_fenced_code():
    body = "<!-- hidden -->\n```xml\n<a><!-- kept --></a>\n```\nText <!-- gone\nstill gone --> after.\n\n<!-- open"
    passages = parse_body(body).passages
    assert [(p.kind, p.text, p.fence) for p in passages] == [
        ("code", "<a><!-- kept --></a>", "xml"), ("paragraph", "Text after.", ""), ("paragraph", "<!-- open", "")]
    assert passages[1].line == 5


# ---------------------------------------------------------------- lists, quotes
def test_lists_ordered_unordered_tasks_and_short_parent_context():
    body = (
        "- **Pros**:\n  - fast\n  - cheap\n"
        "* [ ] write tests\n* [x] ship it\n"
        "1. first\n2) second\n"
        "- " + "a long parent item " * 6 + "\n  - child of long\n"
    )
    items = [p for p in parse_body(body).passages if p.kind == "item"]
    got = [p.text for p in items]
    assert got[:7] == ["**Pros**:", "**Pros**: fast", "**Pros**: cheap", "write tests", "ship it", "first", "second"]
    assert got[-1] == "child of long"  # a long parent is not repeated as context
    assert [p.position[1] for p in items] == list(range(len(items)))


def test_blockquote_is_a_paragraph():
    body = "> quoted *words*\n> continue\n\n> second quote\n"
    passages = parse_body(body).passages
    assert [(p.kind, p.text) for p in passages] == [
        ("paragraph", "quoted words continue"), ("paragraph", "second quote")]


# ---------------------------------------------------------------- inline text
def test_links_images_html_liquid_footnotes_are_cleaned():
    body = (
        "See [the docs](https://docs.example.com/a_(b)) and <https://auto.example.org>, "
        "also https://bare.example.net/x. ![logo](logo.png) <b>bold</b> <!-- hidden --> "
        "{% include ad.html %} {{ site.title }} claim[^1] [ref link][r]\n\n"
        "[r]: https://ref.example.com\n"
    )
    parsed = parse_body(body)
    (para,) = parsed.passages
    assert para.text == ("See the docs and https://auto.example.org, also https://bare.example.net/x. "
                         "bold claim ref link")
    # document order; a reference link's URL sits in its definition, so it comes last
    assert para.links == ("https://docs.example.com/a_(b)", "https://auto.example.org",
                          "https://bare.example.net/x", "https://ref.example.com")
    assert set(parsed.links) == set(para.links)


def test_emphasis_removed_but_snake_case_math_and_unicode_kept():
    plain, _ = to_plain("**Bold** __strong__ *it* _em_ ~~old~~ snake_case_name a*b $x_i^2$ ⌥ ⌘ 中文 🚀")
    assert plain == "Bold strong it em old snake_case_name a*b x_i^2 ⌥ ⌘ 中文 🚀"


def test_cjk_lines_join_without_space_and_whitespace_collapses():
    assert texts("这是第一行\n第二行\n\nsome   spaced\ttext") == ["这是第一行第二行", "some spaced text"]


def test_passages_without_letters_or_digits_are_skipped():
    body = "![only an image](x.png)\n\n---\n\n* * *\n\n→ ← !!\n\nreal text\n"
    passages = parse_body(body).passages
    assert [(p.text, p.position) for p in passages] == [("real text", (0, 0, 0))]


def test_line_numbers_use_first_line_offset():
    body = "\n\n# Title\n\nPara one\nstill one\n"
    passages = parse_body(body, first_line=10).passages
    assert [(p.text, p.line) for p in passages] == [("Title", 12), ("Para one still one", 14)]


def test_long_paragraph_stays_one_passage():
    body = " ".join(["word"] * 5000)
    (p,) = parse_body(body).passages
    assert len(p.text) == len(body)


# ---------------------------------------------------------------- translations
def _seed_rows(path: Path):
    return [p for p in parse_body(frontmatter.load(path).content).passages if p.kind == "row"]


def test_seed_translations_align_by_position():
    en = _seed_rows(SEED_EN)
    es = _seed_rows(SEED_ES)
    assert [p.position for p in en] == [p.position for p in es]
    en_row = next(p for p in en if p.cells and plain(p.cells[0]) == "DeepSeek AI")
    es_row = next(p for p in es if p.position == en_row.position)
    assert en_row.cells[:2] == ("**DeepSeek AI**", "Yes")
    assert es_row.cells[:2] == ("**DeepSeek AI**", "Sí")
    assert en_row.header[1] == "Uses vLLM in Production?"
    assert es_row.header[1] == "¿Utiliza vLLM en Producción?"
    assert en_row.section == ("Usage of vLLM by AI Providers",)
    assert es_row.section == ("Uso de vLLM por Proveedores de IA",)


def test_whole_seed_structure_matches():
    en = parse_body(frontmatter.load(SEED_EN).content)
    es = parse_body(frontmatter.load(SEED_ES).content)
    assert [(p.kind, p.position) for p in en.passages] == [(p.kind, p.position) for p in es.passages]
    assert en.links == es.links and len(en.links) == 6
    assert en.table_shapes == es.table_shapes == ((3, 5),)


# ---------------------------------------------------------------- speed
def test_pathological_input_is_fast():
    nasty = [
        "**a " * 20000, "`x " * 20000, "[a](" * 20000, "<!--" * 20000, "\\" * 50000,
        "# " + " " * 20000 + "x", "_a " * 20000, "$a " * 20000, "{% " * 20000, "| a " * 5000,
    ]
    for body in nasty:  # a backtracking regex would not return from these
        assert all(p.text for p in parse_body(body).passages)
