"""Users, organisations, roles, API tokens and web sessions."""
