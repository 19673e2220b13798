import pytest
from tests.web.conftest import fleet  # noqa: F401
pytestmark = pytest.mark.django_db

def test_try(gql, fleet):
    r = gql.query("""query { fleet(first: 4) { asOf refreshing totalCount silentCount countsByState { state count }
      edges { cursor silent node { id currentState { state since sinceClipped asOf } lastPoll { timestampUtc state }
        openIncident { start end minutesLost lostRevenue { amount } } uptime { week { uptimeMinutes } } } }
      pageInfo { hasNextPage endCursor } } }""")
    import json; print(json.dumps(r.data, indent=1)); print(r.extensions)
