"""The HTML UI of programs: its urls.py, forms.py and one module per page group."""
