"""The Swagger UI at /api/docs/ under the site's Content Security Policy.

Apart from config/api.py, which DRF imports while it loads its settings
(DEFAULT_PAGINATION_CLASS): drf-spectacular's views import DRF's generic
views, which read those settings.
"""

from __future__ import annotations

import base64
import hashlib
import re

from csp.decorators import csp_update
from django.template.loader import get_template
from drf_spectacular.views import SpectacularSwaggerSplitView

_INLINE_STYLE = re.compile(r"<style>(.*?)</style>", re.DOTALL)


def _inline_style_hashes(template_name: str) -> list[str]:
    """Return CSP hashes of the static <style> blocks of a template."""
    source = get_template(template_name).template.source
    digests = (
        hashlib.sha256(block.encode()).digest()
        for block in _INLINE_STYLE.findall(source)
    )
    return [f"'sha256-{base64.b64encode(d).decode()}'" for d in digests]


class ApiDocsView(SpectacularSwaggerSplitView):
    """Swagger UI at /api/docs/ under the site's Content Security Policy.

    The split view serves its start-up script from this URL (?script), so
    no inline script is needed; the page's one fixed <style> block is
    allowed by its hash, and swagger-ui.css draws its icons from data: URIs.
    """

    def dispatch(self, request, *args, **kwargs):
        extra = {
            "style-src": _inline_style_hashes(self.template_name),
            "img-src": ["data:"],
        }
        return csp_update(extra)(super().dispatch)(request, *args, **kwargs)
