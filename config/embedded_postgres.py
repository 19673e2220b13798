"""An embedded PostgreSQL server for machines without one (DATABASE_URL unset).

pgserver ships real PostgreSQL binaries in its wheel. The server lives under the
project's gitignored `.data/` folder and is left running (cleanup_mode=None) so the
web process, the worker and the tests all share it; the first process to need it
starts it. pgserver handles running as root (it switches to its own system user).
"""

import logging
import warnings
from pathlib import Path


def embedded_database_url(data_dir: Path) -> str:
    # platformdirs warns when XDG_RUNTIME_DIR is unset (CI, root shells); harmless here.
    warnings.filterwarnings("ignore", module="platformdirs")
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    import pgserver  # imported lazily: only needed when DATABASE_URL is unset

    data_dir.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(data_dir / "postgres", cleanup_mode=None)
    return server.get_uri()
