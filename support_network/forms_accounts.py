"""Forms of the account pages (shape only; the rules are in services/accounts.py)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from support_network.choices import Role


class MemberInviteForm(forms.Form):
    name = forms.CharField(
        label=_("氏名（姓 名）"),
        max_length=301,
        help_text=_("姓と名の間に空白を入れてください（例: 山田 太郎）。"),
    )
    username = forms.CharField(
        label=_("ログインID"),
        max_length=150,
        help_text=_("英数字と @ . + - _ が使えます。"),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    email = forms.EmailField(
        label=_("メールアドレス"),
        help_text=_("パスワード設定用のリンクをこの宛先に送ります。"),
    )
    role = forms.ChoiceField(label=_("役割"), choices=Role.choices)


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(label=_("役割"), choices=Role.choices)


class MemberActiveForm(forms.Form):
    is_active = forms.TypedChoiceField(
        coerce=lambda value: value == "1", choices=[("1", "1"), ("0", "0")]
    )
