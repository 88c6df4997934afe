"""Every CSV the service writes quotes its text cells and neutralises a formula in each
piece a spreadsheet could split a cell into, in every locale: Excel set to ``;``
(German, French, Dutch, Spanish, Italian) splits ``Anna;=1+1;x`` at the semicolons."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from ostogether.core import csvout
from ostogether.edges.runtime import Runtime
from tests.conftest import run
from tests.factories import add_readers

FORMULA = "=+-@\t\r"
SEPARATORS = ",;\t\r\n"
# Text rich in what matters here: separators, formula starts, apostrophes, quotes.
CELLS = st.text(alphabet=st.sampled_from(list("Aa1 '\"é" + FORMULA + SEPARATORS)),
                max_size=20) | st.text(max_size=20)


def pieces(value: str) -> list[str]:
    """The cells a spreadsheet makes of ``value`` when it splits at any separator."""
    return re.split(f"[{re.escape(SEPARATORS)}]", value)


@given(CELLS)
@example("Anna;=1+1;x")
@example("a;\t=x")
@example("'=already protected")
@example("x,@SUM(A1)\n+1")
def test_every_piece_of_a_text_cell_is_neutralised_and_undone_exactly(value: str) -> None:
    protected = csvout.cell(value)
    assert not protected.startswith(("\t", "\r"))
    for piece in pieces(protected):
        assert not piece.startswith(tuple(FORMULA)), (value, protected)
    assert csvout.unquote(protected) == value


@given(st.lists(st.one_of(CELLS, st.integers(), st.none()), min_size=1, max_size=6))
def test_every_text_cell_is_quoted_and_no_locale_makes_a_formula(row: list[Any]) -> None:
    written = csvout.to_csv([row], lineterminator="\n")
    back = next(csv.reader(io.StringIO(written, newline="")))
    assert [csvout.unquote(c) for c in back] == ["" if v is None else str(v) for v in row]
    # As a spreadsheet set to ";" or tab reads the same bytes: quotes still hold text
    # together, and nothing it makes a cell of starts a formula.
    for delimiter in ";\t":
        for cells in csv.reader(io.StringIO(written, newline=""), delimiter=delimiter):
            for c in cells:
                for piece in pieces(c):
                    assert not piece.startswith(tuple("=+@")), (row, written)
    # Text is quoted; numbers stay numbers.
    fields = written.rstrip("\n")
    for v in row:
        if isinstance(v, str):
            assert '"' + csvout.cell(v).replace('"', '""') + '"' in fields
        elif isinstance(v, int):
            assert re.search(rf"(^|,){v}(,|$)", fields)


def test_a_readers_export_is_safe_in_a_semicolon_locale(rt: Runtime,
                                                          env: dict[str, str]) -> None:
    [reader] = add_readers(rt, 1)
    from ostogether.models import Subscriber

    with rt.db.session() as s:
        sub = s.get(Subscriber, reader)
        assert sub is not None
        sub.name = "Anna;=1+1;x"
    r = run(env, "subscribers", "export")
    assert r.returncode == 0, r.stderr
    assert '"Anna;\'=1+1;x"' in r.stdout
    assert all(not p.startswith("=") for line in r.stdout.splitlines()
               for p in line.replace('"', "").split(";"))
