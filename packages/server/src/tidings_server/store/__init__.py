"""Storage: SQLAlchemy models, engines for SQLite and PostgreSQL, migrations and repositories.

Every query on tenant data lives in `store.repositories` and goes through a `Scope`.
"""
