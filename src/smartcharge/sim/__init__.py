"""Fleet and LV-network simulator: many EVs under the GB rules, on whole sessions and arrays.

Uses ``smartcharge.policy`` for every rule and never imports an adapter or a role.
"""
