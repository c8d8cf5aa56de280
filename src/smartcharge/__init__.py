"""smartcharge: smart EV charging for Great Britain.

Four roles and a study engine share one set of pure rules (``smartcharge.policy``):
``station`` (an emulated GB smart charge point), ``cem`` (customer energy manager),
``dsrsp`` (DSR service provider) and ``sim`` (fleet and LV-network simulator).
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
