"""HTTP: FastAPI app factory, routes and templates; composition only, no business logic."""
