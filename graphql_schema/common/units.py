"""Units and rounding of the API's numbers, decided once (docs/api.md, "Units").

Every duration in GraphQL is in minutes (the deprecated ReportRow fields keep docs/rules.md §5's
CSV units: minutes for the hour, hours for day and week). Every Float is rounded to 2
decimals, half to even, as Python's round() does on the binary value (the CSV's rule):
0.01 minute is 0.6 s, finer than any poll. Each figure is rounded on its own, so
uptime + downtime + unknown may differ from businessMinutes by up to 0.02."""

DECIMALS = 2


def rounded(value: float) -> float:
    """`value` rounded as every Float of the API is (-0.0 written 0.0)."""
    return round(value, DECIMALS) + 0.0


def minutes(seconds: float) -> float:
    return rounded(seconds / 60)
