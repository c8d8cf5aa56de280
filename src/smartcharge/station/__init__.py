"""The emulated GB smart charge point (ESA): the policy core at N = 1 over an EV model, as an OCPP client."""
