"""Web forms of the company page: master data, contacts (担当者), consents.

Shape only, as in crm/web/forms.py: the rules (who may, 法人番号, JSIC codes,
e-mail and phone formats, consent scope) live in the services, whose field
errors `add_domain_error` puts beside the field; a refused submit loses
nothing typed.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.choices import ConsentMethod, ConsentScope
from crm.models import Company
from crm.services.companies import COMPANY_FIELDS
from crm.services.contacts import CONTACT_FIELDS
from crm.web.forms import DATE_WIDGET, CompanyForm
from support_network.choices import OrganisationKind
from support_network.models import Organisation


class CompanyEditForm(CompanyForm):
    """A company's master data: the fields of PATCH companies/{id}/."""

    capital_yen = forms.IntegerField(
        label=_("資本金（円）"),
        min_value=0,
        max_value=10**15,
        required=False,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    controlled_by_large_company = forms.BooleanField(
        label=_("大企業の支配下にある（みなし大企業）"),
        required=False,
        help_text=_(
            "大企業が株式の過半数を所有しているなど。中小企業の判定に使います。"
        ),
    )

    def __init__(self, *args, company: Company, **kwargs):
        initial = {name: getattr(company, name) for name in COMPANY_FIELDS}
        initial["prefecture"] = company.prefecture_id
        initial["corporate_number"] = company.corporate_number or ""
        super().__init__(*args, initial=initial, **kwargs)
        del self.fields["confirm_new"]

    def changed_fields(self) -> dict[str, Any]:
        """Return the fields the user changed, as company_update takes them.

        A cleared optional field is sent as empty (None for numbers and
        dates), so a value can be removed as well as corrected.
        """
        data = {}
        for name in self.changed_data:
            value = self.cleaned_data[name]
            if name == "prefecture":
                value = value.code
            data[name] = value
        return data


class ContactForm(forms.Form):
    """A contact (担当者) at the company: the fields of POST/PATCH contacts."""

    name = forms.CharField(label=_("氏名"), max_length=100)
    name_kana = forms.CharField(label=_("フリガナ"), max_length=100, required=False)
    title = forms.CharField(label=_("役職"), max_length=100, required=False)
    # Plain text: the service checks the format and answers in Japanese
    # after normalising full-width input.
    email = forms.CharField(
        label=_("メールアドレス"),
        max_length=254,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "email", "autocomplete": "off"}),
    )
    phone = forms.CharField(
        label=_("電話番号"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )

    def service_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in CONTACT_FIELDS}


def organisation_choices(actor_organisation: Organisation | None) -> list:
    """Return the active organisations a consent may name, grouped by kind."""
    qs = Organisation.objects.filter(is_active=True).order_by("kind", "code")
    if actor_organisation is not None:
        qs = qs.exclude(pk=actor_organisation.pk)
    groups: dict[str, list[tuple[str, str]]] = {}
    for organisation in qs:
        label = str(OrganisationKind(organisation.kind).label)
        groups.setdefault(label, []).append((organisation.code, organisation.name))
    return list(groups.items())


class ConsentForm(forms.Form):
    """A consent to provision of the company's data to other organisations."""

    scope = forms.ChoiceField(
        label=_("同意の範囲"),
        choices=ConsentScope.choices,
        initial=ConsentScope.NETWORK,
        widget=forms.RadioSelect,
        help_text=_(
            "「ネットワーク全体」は支援ネットワークの全機関、"
            "「指定した組織」は下で選んだ組織だけを提供先にします。"
        ),
    )
    organisations = forms.MultipleChoiceField(
        label=_("提供先の組織（「指定した組織」のとき）"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 10}),
        help_text=_(
            "Ctrl キー（Mac は ⌘ キー）を押しながらクリックすると複数選べます。"
        ),
    )
    obtained_on = forms.DateField(
        label=_("取得日"), initial=timezone.localdate, widget=DATE_WIDGET
    )
    method = forms.ChoiceField(
        label=_("取得方法"),
        choices=ConsentMethod.choices,
        initial=ConsentMethod.WRITTEN,
        widget=forms.RadioSelect,
    )
    contact = forms.ChoiceField(
        label=_("同意した担当者（任意）"),
        required=False,
        help_text=_(
            "担当者を選ぶと、その担当者本人の同意（個人情報保護法27条）として"
            "記録します。選ばないときは企業等の同意です。"
        ),
    )

    allows_surveys = forms.BooleanField(
        label=_("支援についてのアンケート（満足度調査）をメールで依頼することに同意した"),
        required=False,
        help_text=_(
            "同意があり、担当者にメールアドレスがあるときだけ、支援の後にアンケートを送ります。"
        ),
    )

    def __init__(self, *args, organisations=(), contacts=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisations"].choices = list(organisations)
        self.fields["contact"].choices = [
            ("", _("選ばない（企業等の同意）")),
            *((str(c.pk), f"{c.name}　{c.title}".strip()) for c in contacts),
        ]
