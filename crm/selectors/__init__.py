"""Reads of clients and cases, always through the visibility rules.

visibility (what exists for a user), companies, search (company search without DRF),
cases (the case timeline), home ("my work"), suggestions (where to refer a case).
"""
