"""Red flags: one module per pattern, each `detect(config) -> list[Hit]` over the run's tables.

newly_founded, round_trip, pass_through, trade_surge and sanctions; base holds what they share
(settings, hits, the scope's temporary tables); service runs them as a job and keeps the hits.
"""
