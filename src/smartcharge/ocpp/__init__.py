"""Interface B adapter (OCPP 2.0.1 and 1.6J): the only code that imports ``ocpp`` and ``websockets``."""
