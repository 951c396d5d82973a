"""Docs cannot drift: the README's data dictionary is generated from geo.schema."""

from pathlib import Path

from geo.schema import data_dictionary_markdown

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_data_dictionary_matches_the_schema():
    assert data_dictionary_markdown() in README.read_text(encoding="utf-8")


def test_readme_opens_with_the_two_commands():
    head = "\n".join(README.read_text(encoding="utf-8").splitlines()[:20])
    assert "make run" in head and "make test" in head
