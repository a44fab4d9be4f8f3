"""Gunicorn settings, read from the working directory by every launch (`make run`, e2e tests, benchmark)."""

# Room for the longest query string the API accepts (search and category, percent-encoded UTF-8).
limit_request_line = 8190
