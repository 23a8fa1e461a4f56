"""The public satisfaction-survey page (/surveys/<token>/): no login, phone-first.

A company's contact opens the link from the e-mail, answers five short
questions and is done. A used or expired link answers 410, an unknown or
altered one 404, each with a plain Japanese page, never a 500. The page is
CSRF-protected like every form and rate-limited per address, so tokens
cannot be guessed by brute force.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache

from crm.models import Survey
from crm.selectors.surveys import SURVEY_ROLES, surveys_visible_to
from crm.services.surveys import (
    survey_answer,
    survey_for_token,
    survey_opt_out,
    survey_outcome_confirm,
)
from support_network.calendar import fiscal_year_label, fiscal_year_parse
from support_network.errors import DomainError, NotVisible
from support_network.web.actors import web_actor

# Requests per address per minute on the public survey pages (default;
# settings.CRM_SURVEY_RATE_PER_MINUTE overrides, read per request).
RATE_LIMIT = 30
RATE_WINDOW_SECONDS = 60
SCALE = [(str(n), str(n)) for n in range(5, 0, -1)]


class SurveyAnswerForm(forms.Form):
    score = forms.TypedChoiceField(
        label=gettext_lazy("受けた支援に満足しましたか（5 = とても満足、1 = 不満）"),
        choices=SCALE,
        coerce=int,
        widget=forms.RadioSelect,
    )
    useful = forms.TypedChoiceField(
        label=gettext_lazy("助言は役に立ちましたか（5 = とても役に立った、1 = 役に立たなかった）"),
        choices=SCALE,
        coerce=int,
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=gettext_lazy("ご意見・ご感想（任意）"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    filed_after = forms.BooleanField(
        label=gettext_lazy("支援を受けた後に特許・商標などを出願した"), required=False
    )
    application_number = forms.CharField(
        label=gettext_lazy("出願番号（分かれば）"),
        required=False,
        max_length=60,
        help_text=gettext_lazy("例: 特願2026-012345、商願2026-001234"),
    )


def _rate_limited(request) -> bool:
    address = request.META.get("REMOTE_ADDR", "")
    key = f"survey-rate:{address}"
    try:
        if cache.add(key, 1, RATE_WINDOW_SECONDS):
            return False
        limit = getattr(settings, "CRM_SURVEY_RATE_PER_MINUTE", RATE_LIMIT)
        return cache.incr(key) > limit
    except (ValueError, ConnectionError, OSError):
        return False  # the cache is down: fail open, the page still works


def _message(request, title: str, text: str, status: int):
    return render(
        request,
        "crm/surveys/message.html",
        {"title": title, "text": text},
        status=status,
    )


def _refused(request, exc: DomainError):
    if isinstance(exc, NotVisible):
        title = _("アンケートが見つかりません")
        text = _(
            "このリンクは正しくないか、途中で切れています。"
            "メールに記載されたリンクをもう一度開いてください。"
        )
    else:
        title = _("このアンケートは回答できません")
        text = exc.detail
    return _message(request, title, text, exc.status_code)


@never_cache
def survey_page(request, token: str):
    """Show the survey of a token, and record the answer on POST."""
    if _rate_limited(request):
        return _message(
            request,
            _("しばらくしてからお試しください"),
            _("短い時間にアクセスが集中しました。1分ほど待ってから開き直してください。"),
            429,
        )
    try:
        survey = survey_for_token(token)
    except DomainError as exc:
        return _refused(request, exc)
    form = SurveyAnswerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            survey_answer(token=token, **form.cleaned_data)
        except DomainError as exc:
            if exc.field in form.fields:
                form.add_error(exc.field, exc.detail)
            else:
                return _refused(request, exc)
        else:
            return _message(
                request,
                _("ご回答ありがとうございました"),
                _("いただいたご回答は、今後の支援の改善に役立てます。"),
                200,
            )
    return render(
        request,
        "crm/surveys/page.html",
        {"form": form, "survey": survey},
        status=400 if form.is_bound else 200,
    )


@never_cache
def survey_opt_out_page(request, token: str):
    """Ask to confirm (GET), then record the opt-out on the contact (POST)."""
    if _rate_limited(request):
        return _message(
            request,
            _("しばらくしてからお試しください"),
            _("短い時間にアクセスが集中しました。1分ほど待ってから開き直してください。"),
            429,
        )
    if request.method == "POST":
        try:
            survey_opt_out(token=token)
        except DomainError as exc:
            return _refused(request, exc)
        return _message(
            request,
            _("配信を停止しました"),
            _("今後、アンケートのメールはお送りしません。"),
            200,
        )
    return render(request, "crm/surveys/opt_out.html", {})


@login_required
def survey_answers(request):
    """The answers (with comments) of the acting organisation's surveys.

    Only its managers and org admins see them (surveys_visible_to); POST
    confirms a reported filing as an outcome of the case.
    """
    actor = web_actor(request)
    if actor.membership is None or actor.role not in SURVEY_ROLES:
        raise PermissionDenied
    visible = surveys_visible_to(actor)
    if request.method == "POST":
        survey = get_object_or_404(visible, pk=request.POST.get("survey"))
        try:
            survey_outcome_confirm(actor=actor, survey=survey)
        except DomainError as exc:
            messages.error(request, exc.detail)
        else:
            messages.success(request, _("出願を成果として記録しました。"))
        return redirect("crm:survey-answers")
    fy = fiscal_year_parse(request.GET.get("fiscal_year"))
    answers = (
        visible.filter(status=Survey.Status.ANSWERED, fiscal_year=fy)
        .select_related("consultation", "referral")
        .order_by("-answered_at", "-id")[:200]
    )
    return render(
        request,
        "crm/surveys/answers.html",
        {"answers": answers, "fiscal_year_label": fiscal_year_label(fy)},
    )
