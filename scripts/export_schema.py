"""Write schema.graphql (the SDL frontends diff against): `make schema`."""
from __future__ import annotations

import sys
from pathlib import Path

from resolvers.schema import build_schema

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schema.graphql"


def sdl() -> str:
    return build_schema(dev=False).as_str() + "\n"


def main() -> None:
    check = "--check" in sys.argv
    current = SCHEMA_FILE.read_text() if SCHEMA_FILE.exists() else ""
    if check:
        sys.exit(0 if current == sdl() else "schema.graphql is stale: run `make schema`")
    SCHEMA_FILE.write_text(sdl())
    print(f"wrote {SCHEMA_FILE}")


if __name__ == "__main__":
    main()
