"""People are shown by name in Japanese order (姓 名), login id as a fallback."""

from django.contrib.auth import get_user_model
from django.template import Context, Template

from support_network.people import name_split, person_name


def test_family_name_comes_first_and_the_login_id_is_the_fallback():
    user = get_user_model()(username="yamada", last_name="山田", first_name="太郎")
    nameless = get_user_model()(username="suzuki")

    assert person_name(user) == "山田 太郎"
    assert person_name(nameless) == "suzuki"
    assert person_name(None) == ""


def test_the_template_filter_is_the_same_rule():
    user = get_user_model()(username="yamada", last_name="山田", first_name="太郎")

    html = Template("{% load people %}{{ u|person_name }}").render(Context({"u": user}))

    assert html == "山田 太郎"


def test_a_name_splits_on_any_space():
    assert name_split("山田　太郎") == ("山田", "太郎")
    assert name_split(" 山田 太郎 ") == ("山田", "太郎")
    assert name_split("山田") == ("山田", "")
