"""The DRF API of clients and cases: one module per resource, thin adapters over selectors and services.

Serializers and filters of each resource are crm/serializers/<resource>.py and
crm/filters/<resource>.py; pagination.py pages the ranked company search.
"""
