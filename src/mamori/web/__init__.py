"""The server-rendered web UI of mamori: Jinja2 pages in Japanese and English over the same services as the
API, progressive enhancement only (plain links and forms, no front-end build)."""
