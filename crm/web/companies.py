"""Companies: search, the typeahead, registration, and the company page with its upkeep.

Search and the typeahead rank like the API's search (crm/web/common.py);
registration shows "この会社ですか？" candidates first. The company page shows
master data, contacts (担当者) and consents.

Views are adapters (see crm/web/consultations.py): they read through the visibility
selectors and write through the services, which hold the write rules
(crm.permissions, DESIGN.md "Who may change what"): consents, contacts and
master data are recorded by the organisations working with the company; a
contact is changed or removed only by the organisation that recorded it;
hubs that see the company's cases through consent read only. The page shows
no button for what the user may not do; a refused request gets the Japanese
403 page (support_network.middleware) and changes nothing.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from crm import permissions
from crm.models import Company, Contact
from crm.selectors.companies import company_cases_visible_to
from crm.selectors.visibility import (
    companies_visible_to,
    consents_visible_to,
    contacts_visible_to,
)
from crm.services import companies as companies_services
from crm.services import consents as consents_services
from crm.services import contacts as contact_services
from crm.services import contacts as contacts_services
from crm.services.companies import company_update, size_class_hint
from crm.services.consents import consent_record
from crm.services.contacts import contact_update
from crm.web.common import (
    PICKER_LIMIT,
    SEARCH_LIMIT,
    company_duplicates,
    company_error,
    company_initial,
    company_matches,
    is_htmx,
)
from crm.web.forms import CompanyForm, add_domain_error
from crm.web.forms_companies import (
    CompanyEditForm,
    ConsentForm,
    ContactForm,
    organisation_choices,
)
from support_network.actors import Actor
from support_network.errors import Conflict, DomainError
from support_network.web.actors import web_actor


@login_required
@require_GET
def company_search(request):
    """Find a company by 法人番号, name or reading, any width or legal form."""
    actor = web_actor(request)
    query = request.GET.get("q", "").strip()
    companies = company_matches(actor, query, SEARCH_LIMIT)
    context = {"q": query, "companies": companies, "limit": SEARCH_LIMIT}
    if is_htmx(request):
        return render(request, "crm/_company_results.html", context)
    return render(request, "crm/company_search.html", context)


@login_required
@require_GET
def company_picker(request):
    """Return typeahead options for the consultation form (htmx)."""
    actor = web_actor(request)
    query = request.GET.get("company_q", "").strip()
    companies = company_matches(actor, query, PICKER_LIMIT)
    return render(
        request, "crm/_company_picker.html", {"q": query, "companies": companies}
    )


@login_required
def company_create(request):
    """Register a company, after showing "この会社ですか？" candidates."""
    actor = web_actor(request)
    candidates: list[Company] = []
    form = CompanyForm(request.POST or None, initial=company_initial(actor))
    if request.method == "POST" and form.is_valid():
        if not form.cleaned_data["confirm_new"]:
            candidates = company_duplicates(form)
        if candidates:
            form = CompanyForm({**request.POST.dict(), "confirm_new": "on"})
            form.is_valid()
        else:
            try:
                company = companies_services.company_create(actor=actor, **form.service_fields())
            except DomainError as exc:
                company_error(form, exc)
            else:
                messages.success(
                    request, _("%(name)s を登録しました。") % {"name": company.name}
                )
                if request.POST.get("then") == "consult":
                    url = reverse("crm:consultation-create")
                    return redirect(f"{url}?company={company.pk}")
                return redirect("crm:company-detail", pk=company.pk)
    return render(
        request,
        "crm/company_form.html",
        {"form": form, "candidates": candidates, "then": request.GET.get("then", "")},
    )


def _company(actor: Actor, pk: int) -> Company:
    return get_object_or_404(companies_visible_to(actor), pk=pk)


def _require_working_with(actor: Actor, company: Company) -> None:
    """Refuse (403) unless the actor's organisation works with company.

    The services check the same rule again when they write; checking it
    here as well keeps the forms themselves from those who may not use them.
    Working with a company without seeing its private data (only a
    confidential case of a colleague) is not enough for the forms, which
    show that data.
    """
    permissions.company_require_workable(actor, company)
    if not company.has_private_access:
        raise permissions.not_permitted()


def _company_url(company_id: int, anchor: str = "") -> str:
    url = reverse("crm:company-detail", args=[company_id])
    return f"{url}#{anchor}" if anchor else url


@login_required
def company_detail(request, pk: int):
    """Show a company: master data, and what the actor may see of its history."""
    actor = web_actor(request)
    company = _company(actor, pk)
    cases = company_cases_visible_to(actor, company)
    # The page shows no button for what the user may not do.
    can_work = company.has_private_access and permissions.can_work_with_company(
        actor, company
    )
    context = {"company": company, "cases": cases, "can_work": can_work}
    if company.has_private_access:
        context["size_class_hint"] = size_class_hint(company)
        contacts = list(
            contacts_visible_to(actor).filter(company=company).order_by("id")
        )
        for contact in contacts:
            contact.changeable = permissions.can_change_contact(actor, contact)
            contact.disclosable = permissions.can_answer_person_requests(
                actor, contact
            )
            contact.erasable = (
                permissions.can_erase_contact(actor, contact)
                and contact.anonymised_at is None
            )
        context["contacts"] = contacts
        context["consents"] = (
            consents_visible_to(actor)
            .filter(company=company)
            .select_related("contact", "recorded_by", "withdrawn_by")
            .prefetch_related("organisations")
            .order_by("-obtained_on", "-id")
        )
    return render(request, "crm/company_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def company_edit(request, pk: int):
    """Correct a company's master data (the fields of PATCH companies/{id}/)."""
    actor = web_actor(request)
    company = _company(actor, pk)
    _require_working_with(actor, company)
    form = CompanyEditForm(request.POST or None, company=company)
    if request.method == "POST" and form.is_valid():
        fields = form.changed_fields()
        if not fields:
            messages.info(request, _("変更はありませんでした。"))
            return redirect(_company_url(company.pk))
        try:
            company_update(actor=actor, company=company, **fields)
        except Conflict as exc:
            if exc.code != "duplicate_company":
                raise
            company_error(form, exc)
        except DomainError as exc:
            if exc.status_code == 403 or not exc.field:
                raise
            add_domain_error(form, exc)
        else:
            messages.success(request, _("企業等の登録情報を更新しました。"))
            return redirect(_company_url(company.pk))
    status = 400 if form.is_bound else 200
    return render(
        request,
        "crm/company_edit.html",
        {"form": form, "company": company},
        status=status,
    )


def _contact_form_page(request, form, company, contact=None, status=200):
    return render(
        request,
        "crm/contact_form.html",
        {"form": form, "company": company, "contact": contact},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def contact_create(request, pk: int):
    """Add a contact (担当者) of the company for the actor's organisation."""
    actor = web_actor(request)
    company = _company(actor, pk)
    _require_working_with(actor, company)
    form = ContactForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            contacts_services.contact_create(
                actor=actor, company=company, **form.service_fields()
            )
        except DomainError as exc:
            if exc.status_code == 403 or not exc.field:
                raise
            add_domain_error(form, exc)
        else:
            messages.success(request, _("担当者を登録しました。"))
            return redirect(_company_url(company.pk, "contacts"))
    return _contact_form_page(
        request, form, company, status=400 if form.is_bound else 200
    )


def _visible_contact(actor: Actor, pk: int) -> Contact:
    return get_object_or_404(contacts_visible_to(actor), pk=pk)


def _require_contact_changeable(actor: Actor, contact: Contact) -> None:
    permissions.contact_require_changeable(actor, contact)


@login_required
@require_http_methods(["GET", "POST"])
def contact_edit(request, pk: int):
    """Correct a contact; only the organisation that recorded it may."""
    actor = web_actor(request)
    contact = _visible_contact(actor, pk)
    if request.method == "GET":
        _require_contact_changeable(actor, contact)
    initial = {name: getattr(contact, name) for name in ContactForm.base_fields}
    form = ContactForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            contact_update(
                actor=actor, contact=contact, **form.service_fields()
            )
        except DomainError as exc:
            if exc.status_code == 403 or not exc.field:
                raise
            add_domain_error(form, exc)
        else:
            messages.success(request, _("担当者の情報を更新しました。"))
            return redirect(_company_url(contact.company_id, "contacts"))
    return _contact_form_page(
        request,
        form,
        contact.company,
        contact,
        status=400 if form.is_bound else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def contact_delete(request, pk: int):
    """Ask, then remove a contact; refused (409) while a record names it."""
    actor = web_actor(request)
    contact = _visible_contact(actor, pk)
    error = ""
    if request.method == "POST":
        try:
            contact_services.contact_delete(actor=actor, contact=contact)
        except Conflict as exc:
            error = exc.detail
        else:
            messages.success(
                request,
                _("担当者「%(name)s」を削除しました。") % {"name": contact.name},
            )
            return redirect(_company_url(contact.company_id, "contacts"))
    else:
        _require_contact_changeable(actor, contact)
    return render(
        request,
        "crm/contact_delete.html",
        {"contact": contact, "company": contact.company, "error": error},
        status=409 if error else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def consent_create(request, pk: int):
    """Record a consent to provision: 企業等の同意, or 担当者本人の同意 with a contact."""
    actor = web_actor(request)
    company = _company(actor, pk)
    _require_working_with(actor, company)
    contacts = list(
        contacts_visible_to(actor).filter(company=company).order_by("id")
    )
    form = ConsentForm(
        request.POST or None,
        organisations=organisation_choices(actor.organisation),
        contacts=contacts,
    )
    if request.method == "POST" and form.is_valid():
        cleaned = form.cleaned_data
        by_pk = {str(c.pk): c for c in contacts}
        try:
            consent_record(
                actor=actor,
                company=company,
                scope=cleaned["scope"],
                obtained_on=cleaned["obtained_on"],
                method=cleaned["method"],
                organisations=cleaned["organisations"],
                contact=by_pk.get(cleaned["contact"]),
                allows_surveys=cleaned["allows_surveys"],
            )
        except DomainError as exc:
            if exc.status_code == 403 or not exc.field:
                raise
            add_domain_error(form, exc)
        else:
            messages.success(request, _("同意を記録しました。"))
            return redirect(_company_url(company.pk, "consents"))
    return render(
        request,
        "crm/consent_form.html",
        {"form": form, "company": company},
        status=400 if form.is_bound else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def consent_withdraw(request, pk: int):
    """Ask, then record that a consent was withdrawn (撤回)."""
    actor = web_actor(request)
    consent = get_object_or_404(
        consents_visible_to(actor)
        .select_related("contact")
        .prefetch_related("organisations"),
        pk=pk,
    )
    if request.method == "POST":
        try:
            consents_services.consent_withdraw(actor=actor, consent=consent)
        except Conflict as exc:
            messages.warning(request, exc.detail)
        else:
            messages.success(request, _("同意の撤回を記録しました。"))
        return redirect(_company_url(consent.company_id, "consents"))
    permissions.company_require_workable(actor, consent.company)
    return render(
        request,
        "crm/consent_withdraw.html",
        {"consent": consent, "company": consent.company},
    )
