"""LV network models and time-series power flow (power-grid-model, cross-checked with pandapower)."""
