"""The owner's and site manager's dashboard: server-rendered pages (Jinja2) with htmx for the live
parts, served by the CEM at ``/`` next to the API (issue 13).

The pages call the same services as the API (:mod:`smartcharge.cem.owner` and its siblings),
never the store directly. Access uses the API's users, roles and login sessions: the login form
sets the same HttpOnly, SameSite=Strict session cookie; every form that changes something carries
the session's CSRF token (a hidden field, or htmx's ``X-CSRF-Token`` header). Scripts and styles
are served from the package (``/static``), never from a CDN.
"""

from smartcharge.web.pages.routes import install

__all__ = ["install"]
