"""The customer energy manager (CEM): OCPP server for its charge points, OpenADR VEN towards DSRSPs."""
