"""DRF serializers of the crm API, one module per resource, beside crm/views/<resource>.py."""
