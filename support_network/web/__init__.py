"""The HTML UI of the network: its urls.py and one module per page group."""
