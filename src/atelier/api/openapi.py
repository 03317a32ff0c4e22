"""Print the API's OpenAPI document without starting a server or touching a database.

``python -m atelier.api.openapi`` writes it to standard output; the web UI's typed client
(``web/src/api/schema.d.ts``) is generated from it by ``make web-client``, and ``make test``
fails when the checked-in client differs from a fresh generation.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from atelier.api.app import create_app
from atelier.config import Settings


def document() -> dict[str, Any]:
    """The OpenAPI document of the app built from default settings (no ``.env`` file)."""
    settings = Settings(_env_file=None, mode="local")  # type: ignore[call-arg]
    return create_app(settings).openapi()


def main() -> None:
    json.dump(document(), sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
