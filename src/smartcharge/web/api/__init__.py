"""The web API's routers, one module per area, each exposing ``router`` (included in ``web.app``)."""
