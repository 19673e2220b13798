"""django-q2 entry point: a fleet ranking refreshed off the web processes."""

from monitoring.fleet.summary import fleet_ranking_compute


def refresh_fleet_ranking(scope: str) -> int:
    return len(fleet_ranking_compute(scope=scope).columns)
