"""create_user runs Django's password validators (issue 26 item 9)."""

import io

import pytest
from django.core.management import CommandError, call_command


def run(*args):
    out = io.StringIO()
    call_command("create_user", *args, stdout=out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("1", "短すぎます"),  # MinimumLengthValidator (and numeric)
        ("12345678", "数字しか"),  # NumericPasswordValidator
        ("password", "一般的すぎ"),  # CommonPasswordValidator
        ("tanaka-yorozu", "似すぎて"),  # UserAttributeSimilarityValidator
    ],
)
def test_a_weak_password_is_refused_in_japanese_and_creates_nothing(
    network, django_user_model, password, reason
):
    with pytest.raises(CommandError, match="パスワードを設定できません") as refused:
        run(
            "tanaka-yorozu",
            "--organisation",
            "yorozu-13",
            "--role",
            "manager",
            "--password",
            password,
        )

    assert reason in str(refused.value)
    assert not django_user_model.objects.filter(username="tanaka-yorozu").exists()


def test_a_weak_password_leaves_an_existing_account_as_it_was(
    network, django_user_model
):
    run(
        "tanaka",
        "--organisation",
        "yorozu-13",
        "--role",
        "manager",
        "--password",
        "kawa-2026-zemi",
    )
    with pytest.raises(CommandError):
        run(
            "tanaka",
            "--organisation",
            "yorozu-13",
            "--role",
            "manager",
            "--password",
            "1",
        )

    user = django_user_model.objects.get(username="tanaka")
    assert user.check_password("kawa-2026-zemi")


def test_a_strong_password_is_accepted(network, django_user_model):
    run(
        "tanaka",
        "--organisation",
        "yorozu-13",
        "--role",
        "manager",
        "--password",
        "kawa-2026-zemi",
    )
    assert django_user_model.objects.get(username="tanaka").check_password(
        "kawa-2026-zemi"
    )
