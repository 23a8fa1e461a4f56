"""django-filter FilterSets of the crm API lists, one module per resource, beside crm/views/<resource>.py."""
