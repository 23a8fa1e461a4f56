"""The demo data generator (manage.py load_demo_data); entry point seeds/demo/load.py."""
