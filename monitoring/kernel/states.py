"""The one list of the states a store is in at an instant: of a timeline segment, of a
store now (the fleet, the store page, the API) and of a fleet row. A state's code is
its position in STATES, the same in every array that holds codes."""

STATES = ("UP", "DOWN", "UNKNOWN", "CLOSED")
UP, DOWN, UNKNOWN, CLOSED = range(len(STATES))
#: The states a business instant is measured in (the report's uptime, downtime, unknown).
MEASURED = tuple(state.lower() for state in STATES[: CLOSED])
