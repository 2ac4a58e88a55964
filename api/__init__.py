"""The HTTP face of the ledger (FastAPI): settings, authentication, problem responses, routes.

``api.app.create_app(settings)`` builds the application; ``consular-ledger serve`` runs it.
"""
