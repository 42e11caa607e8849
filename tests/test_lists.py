"""Lists in running text follow the language they are read in."""

from django.utils import translation

from kesu.lists import series


def test_chinese_takes_the_enumeration_comma_and_english_a_comma():
    with translation.override("zh-hans"):
        assert series(["监管部门", "媒体"]) == "监管部门、媒体"
    with translation.override("en"):
        assert series(["regulator", "media"]) == "regulator, media"
        assert series([]) == "" and series(["one"]) == "one"
