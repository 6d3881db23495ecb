"""Questions as the search sees them: stop words, phrases, synonyms, stems, misspellings."""

from __future__ import annotations

from bot.knowledge.query import analyze
from bot.knowledge.spelling import correction, edit_distance
from storage.knowledge_stemming import stem


def test_porter_stems_as_the_index_does() -> None:
    # Porter's own examples, and the forms a question and a page use for one thing.
    pairs = {"caresses": "caress", "ponies": "poni", "agreed": "agre", "hopping": "hop",
             "relational": "relat", "generalizations": "gener", "moving": "move",
             "move": "move", "followers": "follow", "following": "follow"}  # fmt: skip
    assert {word: stem(word) for word in pairs} == pairs


def test_a_question_keeps_its_content_words_and_known_phrases() -> None:
    groups = analyze("Hi! How do I log in to my account, please?")
    assert [g.word for g in groups] == ["log in", "account"]
    assert {"sign in", "login"} <= set(groups[0].alternatives)
    assert [g.word for g in analyze("hide who i follow and who follows me")] == ["hide", "follow"]
    assert [g.word for g in analyze("how do I")] == ["how", "do", "i"]  # nothing else to go on
    assert [g.alternatives for g in analyze("colour", synonyms=False)] == [("colour",)]
    assert "color" in analyze("colours")[0].alternatives  # by stem


def test_misspellings_are_corrected_within_an_edit_or_two() -> None:
    assert edit_distance("acount", "account") == 1
    assert edit_distance("teh", "the") == 1  # a transposition is one edit
    assert edit_distance("abc", "xyz", limit=1) == 2  # past the limit: limit + 1
    vocabulary = [("account", 40), ("amount", 5), ("accounts", 30)]
    assert correction("acount", vocabulary) == "account"
    assert correction("notifcations", [("notifications", 9), ("notification", 12)]) == (
        "notifications"
    )
    assert correction("refund", [("refine", 3), ("rebound", 2)]) is None  # two edits: too far
    assert correction("cat", [("car", 50)]) is None  # short words are not corrected
