"""Latin and Cyrillic query words: Russian case forms from pymorphy3's dictionary, English
plurals and possessives, accents aside (alertbot/text/paradigms.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from alertbot.config import load_config
from alertbot.text import paradigms
from alertbot.text.paradigms import Paradigms, match_key
from alertbot.watch.match import Matcher, Watch

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def expand() -> Paradigms:
    return Paradigms(paradigms._open_analyzer)  # in this process: the tests' many words


def keys(expand: Paradigms, word: str) -> set[str]:
    return set(expand.forms(word).keys)


def test_a_known_surname_takes_its_case_forms_and_plural(expand):
    assert {
        "нарышкин",
        "нарышкина",
        "нарышкину",
        "нарышкиным",
        "нарышкине",
        "нарышкиной",
        "нарышкины",
        "нарышкиных",
    } <= keys(expand, "Нарышкин")
    assert "нарышкинский" not in keys(expand, "Нарышкин")
    # The surname, not the genitive plural of the first name Лавр or of laurels.
    assert {"лаврова", "лаврову", "лавровым", "лавровы"} <= keys(expand, "Лавров")
    assert not {"лавр", "лавра", "лавры"} & keys(expand, "Лавров")
    assert {"пескова", "песковым"} <= keys(expand, "Песков")
    assert "песок" not in keys(expand, "Песков")  # "of sands" is the likelier reading


def test_a_first_name_and_a_place_take_their_case_forms(expand):
    assert {"сергея", "сергею", "сергеем", "сергее", "сергеи"} <= keys(expand, "Сергей")
    assert {"египта", "египту", "египтом", "египте"} <= keys(expand, "Египет")


def test_a_common_noun_takes_its_own_paradigm_and_no_other_lemma(expand):
    assert {"санкция", "санкций", "санкциям", "санкциями"} <= keys(expand, "санкции")
    # Most likely "became" (стать): not expanded into steel (сталь, сталью).
    assert keys(expand, "стали") == {"стали"}


def test_words_the_dictionary_does_not_know_stay_as_written(expand, make_matcher):
    # Guessed readings: an unknown prefix (Зе+ленский), a known suffix (Гутерриш).
    assert keys(expand, "Зеленский") == {"зеленский"}
    assert keys(expand, "Гутерриш") == {"гутерриш"}
    # Ас-Сиси is two words to the tokenizer: neither is read as another word (ас, сися).
    assert keys(expand, "Ас") == {"ас"}
    assert keys(expand, "Сиси") == {"сиси"}  # capitalised: a name, not a form of сися
    assert keys(expand, "Эр") == {"эр"}  # Эр-Рияд: not "of eras"
    matcher = make_matcher(sisi="Ас-Сиси")
    [found] = matcher.match_article(None, "Президент Египта Абдель Фаттах Ас-Сиси заявил")
    assert [s.text for s in found.spans] == ["Ас-Сиси"]
    assert matcher.match_article(None, "ас сися") == []


def test_yo_and_ye_are_one_letter_on_both_sides(expand):
    assert keys(expand, "Королёв") == keys(expand, "Королев")
    assert "королева" in keys(expand, "Королев")


def test_latin_words_take_plural_and_modifier_apostrophe_possessive(expand):
    assert keys(expand, "Naryshkin") == {"naryshkin", "naryshkins", "naryshkinʼs", "naryshkinsʼ"}
    assert "bushes" in keys(expand, "Bush")
    assert keys(expand, "sanctions") == {"sanctions", "sanctionsʼ", "sanctionsʼs"}  # no "-ses"
    assert keys(expand, "Lavróv") == keys(expand, "Lavrov")
    assert keys(expand, "G20") == {"g20"}


def test_match_key_drops_accents_and_stress_but_keeps_short_i(expand):
    assert match_key("lavróv") == match_key("lavro\u0301v") == "lavrov"
    assert match_key("erdoğan") == "erdogan"
    assert match_key("łukaszenka") == "lukaszenka"
    assert match_key("нары\u0301шкина") == "нарышкина"
    assert expand.forms("Нары\u0301шкин").keys == expand.forms("Нарышкин").keys
    assert match_key("сергей") == match_key("сергеи\u0306") == "сергей"
    assert match_key("сергеи") == "сергеи"


def test_the_analyzer_loads_only_for_a_cyrillic_word_and_once(lemmatizer):
    opened = []

    def open_analyzer():
        opened.append(1)
        return paradigms._open_analyzer()

    expand = Paradigms(open_analyzer)
    Matcher([Watch("a", "ناريشكين OR Naryshkin OR Lavróv")], lemmatizer, paradigms=expand)
    assert not expand.loaded
    Matcher([Watch("b", "Нарышкин OR Лавров")], lemmatizer, paradigms=expand)
    Matcher([Watch("c", "Нарышкин")], lemmatizer, paradigms=expand)
    assert expand.loaded
    assert opened == [1]
    assert expand.forms("Нарышкин") is expand.forms("Нарышкин")


# Russian news sentences as TASS or RIA would write them, the name in each of its cases.
_RUSSIAN = [
    ("Директор СВР Сергей Нарышкин прибыл в Каир с визитом.", "Нарышкин"),
    ("Президент Египта Абдель Фаттах ас-Сиси принял Сергея Нарышкина.", "Нарышкина"),
    ("По словам Нарышкина, переговоры прошли конструктивно.", "Нарышкина"),
    ("Министр иностранных дел Египта передал Нарышкину послание.", "Нарышкину"),
    ("Встреча с Нарышкиным продолжалась более двух часов.", "Нарышкиным"),
    ("В сообщении пресс-бюро СВР о Нарышкине подробностей нет.", "Нарышкине"),
    ("Род Нарышкиных известен с XV века.", "Нарышкиных"),
    ("Директор СВР Нары\u0301шкина не принимал.", "Нары\u0301шкина"),  # a stress mark
]


def test_the_default_watch_finds_the_russian_case_forms(lemmatizer):
    config = load_config(ROOT / "config" / "alertbot.toml")
    [naryshkin] = [w for w in config.watches if w.name == "Naryshkin"]
    assert "Нарышкина" not in naryshkin.query  # no hand-written case forms
    matcher = Matcher([naryshkin], lemmatizer)
    for sentence, expected in _RUSSIAN:
        [found] = matcher.match_article(None, sentence)
        assert [s.text for s in found.spans] == [expected], sentence
    assert matcher.match_article(None, "Прогулка по Нарышкинскому бульвару.") == []


def test_a_phrase_of_russian_words_takes_each_words_forms(make_matcher):
    matcher = make_matcher(svr='"Сергей Нарышкин"')
    [found] = matcher.match_article(None, "Путин поручил Сергею Нарышкину подготовить доклад.")
    assert [s.text for s in found.spans] == ["Сергею Нарышкину"]


def test_latin_names_match_possessive_plural_and_accents(make_matcher):
    matcher = make_matcher(naryshkin="Naryshkin", lavrov="Lavróv")
    text = "Naryshkin's visit. Naryshkin’s aides. The Naryshkins. Lavrov said. Lavróv said."
    spans = {m.watch: [s.text for s in m.spans] for m in matcher.match_article(None, text)}
    # The tokenizer ends a word at the apostrophe: the span is the name without 's.
    assert spans == {
        "naryshkin": ["Naryshkin", "Naryshkin", "Naryshkins"],
        "lavrov": ["Lavrov", "Lavróv"],
    }
    assert make_matcher(w="Lavrov").match_article(None, "Lavro\u0301v said") != []


def test_understood_shows_the_case_forms_of_a_cyrillic_word(make_matcher):
    matcher = make_matcher(w="Нарышкин OR Сиси")
    assert matcher.understood(matcher.watches[0]) == [
        ("Нарышкин", ["Нарышкина", "Нарышкину", "Нарышкиным", "Нарышкине", "Нарышкиной", "…"]),
        ("Сиси", []),  # as written
    ]


def test_the_bot_expands_in_a_child_process_and_keeps_it_across_restarts(tmp_path) -> None:
    """The bot never loads pymorphy3's dictionary (25 MB it would keep): a child process
    expands the word once, and the state folder keeps it for the next start."""
    kept = tmp_path / "paradigms.json"
    first = Paradigms()
    first.keep_in(kept)
    assert "нарышкину" in first.forms("Нарышкин").keys
    assert not first.loaded  # expanded by the child: this process has no analyzer
    restarted = Paradigms()
    restarted.keep_in(kept)
    calls: list[str] = []
    paradigms_forms_in_child = paradigms._forms_in_child
    try:
        paradigms._forms_in_child = lambda words: (
            calls.extend(words) or {w: [w.lower()] for w in words}
        )
        assert restarted.forms("Нарышкин").keys == first.forms("Нарышкин").keys
        assert calls == []
        kept.write_text("{damaged", encoding="utf-8")
        again = Paradigms()
        again.keep_in(kept)
        assert again.forms("Нарышкин").keys == ("нарышкин",) and calls == ["Нарышкин"]
    finally:
        paradigms._forms_in_child = paradigms_forms_in_child
