"""HTTP entry points: JSON API, TAXII 2.1 and the web UI, assembled by ``create_app``."""
