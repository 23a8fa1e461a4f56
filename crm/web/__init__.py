"""The HTML UI of crm: one module per page group, its urls.py and forms."""
