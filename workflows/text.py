"""Sentences in both languages, for messages the rules raise or return (no Flask here).

As the policy engine's checks carry reason_zh and reason_en, a Sentence is its Chinese text (it
is a str, so callers and tests that compare or join Chinese keep working) and carries its English;
the application shows `text(locale)` in the reader's language.
"""

from __future__ import annotations


class Sentence(str):
    """A Chinese sentence that carries its English: `str(s)` is the Chinese, `s.en` the English."""

    en: str

    def __new__(cls, zh: str, en: str) -> Sentence:
        sentence = super().__new__(cls, zh)
        sentence.en = en
        return sentence

    def __getnewargs__(self):  # pickled across processes (the statement parser's child) whole
        return str(self), self.en

    def text(self, locale: str = "zh") -> str:
        """The sentence in `locale`'s language (English when it starts with "en")."""
        return self.en if str(locale).startswith("en") else str(self)

    def prefixed(self, zh: str, en: str) -> Sentence:
        """The sentence after a label: prefixed("金额：", "Amount: ")."""
        return Sentence(zh + self, en + self.en)


def counted(n: int, singular: str, plural: str | None = None) -> str:
    """An English count with its noun in the right number: "1 receivable", "3 receivables"."""
    return f"{n} {singular if n == 1 else (plural or singular + 's')}"


def both(zh: str, en: str, **params) -> Sentence:
    """A Sentence from two templates filled with the same parameters."""
    return Sentence(zh % params if params else zh, en % params if params else en)


class InputError(ValueError):
    """A value a user typed that is not one. `str()` is the Chinese sentence; `text(locale)` the
    sentence in the reader's language; `sentence` both."""

    def __init__(self, sentence: Sentence):
        self.sentence = sentence
        super().__init__(sentence)

    def text(self, locale: str = "zh") -> str:
        return self.sentence.text(locale)
