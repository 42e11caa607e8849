"""Kesu's PostgreSQL database engine: Django's, with a health check that costs no round trip.

Named in DATABASES["default"]["ENGINE"] by kesu.env for `DATABASE_URL=postgres://…`.
"""
