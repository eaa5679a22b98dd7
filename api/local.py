"""`make run`: DynamoDB Local with a data folder, demo data, dev tokens, and the API under uvicorn,
with GraphiQL at /graphql (its headers editor holds demo-member-1's token)."""
from __future__ import annotations

import argparse
import atexit
import logging
import os
import secrets
import signal
import sys
import threading
from pathlib import Path
from typing import Mapping

from api.asgi import AsgiApp
from api.demo import DEMO_MEMBERS, DEMO_TENANT, seed_demo
from api.dev_idp import DevIdentityProvider
from api.graphiql import GraphiQL
from api.http import Api
from api.runtime import Services, build_services
from api.settings import Settings
from infra import dynamodb_local
from infra.table import create_table

ROOT = Path(__file__).resolve().parent.parent
TOKEN_TTL = 12 * 3600
DEMO_MEMBER_ID, _, DEMO_MEMBER_EMAIL, _ = DEMO_MEMBERS[0]

# No HOST variable: some shells export HOST as the machine's name, which would open the dev server,
# with its printed tokens, to the network. Listening elsewhere than 127.0.0.1 takes an explicit --host.
EPILOG = """environment:
  PORT  port to listen on, as --port (default 8000), e.g. `PORT=8080 make run`; --port wins over it."""


def port_number(value: str) -> int:
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise argparse.ArgumentTypeError(f"not a port number (1-65535): {value!r}")
    return int(value)


def parse_args(argv: list[str] | None = None, environ: Mapping[str, str] | None = None) -> argparse.Namespace:
    env = os.environ if environ is None else environ
    parser = argparse.ArgumentParser(prog="python -m api.local", description=__doc__, epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=port_number, default=env.get("PORT") or "8000",
                        help="port to listen on (env PORT; default 8000)")
    parser.add_argument("--data", type=Path, default=ROOT / ".data" / "dynamodb",
                        help="DynamoDB Local's data folder (kept across runs)")
    return parser.parse_args(argv)


def member_token(idp: DevIdentityProvider) -> str:
    return idp.member_token(DEMO_MEMBER_ID, TOKEN_TTL, email=DEMO_MEMBER_EMAIL)


def dev_api(dynamodb_endpoint: str, idp: DevIdentityProvider, table_name: str = "kizuna-dev") -> Api:
    """The API as `make run` serves it: dev mode, the demo tenant seeded, GraphiQL signed in as a member."""
    settings = Settings(env="dev", table_name=table_name, region="us-east-1", dynamodb_endpoint=dynamodb_endpoint,
                        issuers=(idp.issuer_settings(DEMO_TENANT),), default_tenant=DEMO_TENANT,
                        webhook_secrets={DEMO_TENANT: "dev-webhook-secret"})
    services = build_services(settings)
    create_table(services.dynamodb, settings.table_name)
    seed_demo(DEMO_TENANT, services.programs)
    # Each page load gets a freshly signed token, so a long-running server never prefills an expired one.
    graphiql = GraphiQL(headers=lambda: {"Authorization": f"Bearer {member_token(idp)}"})
    return Api(services, graphiql=graphiql)


def start_event_processor(services: Services) -> threading.Event:
    """The stream processor as a daemon thread (docs/design.md, "How features hear about changes"): it
    resumes from its checkpoints in the table, so events written while it was stopped reach their listeners
    now. Stopped at exit, before DynamoDB Local (atexit runs last-registered first)."""
    from infra.events.listeners import register_all
    from infra.events.processor import local_processor
    from infra.events_out.outlet import outlet_from

    register_all()
    settings = services.settings
    processor = local_processor(settings.table_name, region=settings.region, endpoint=settings.dynamodb_endpoint,
                                programs=services.programs, outlet=outlet_from(settings))
    stop = threading.Event()
    thread = threading.Thread(target=processor.run_forever, args=(stop,), name="kizuna-events", daemon=True)
    thread.start()

    def stop_processor() -> None:
        stop.set()
        thread.join(timeout=5)

    atexit.register(stop_processor)
    return stop


def banner(base: str, dynamodb_endpoint: str, idp: DevIdentityProvider) -> str:
    """What `make run` prints once it serves: where, and the dev tokens. The not-enrolled member is new at
    each start, so enrolling with it works every time."""
    return f"""
Kizuna is running at {base}/graphql  (tenant '{DEMO_TENANT}', DynamoDB Local {dynamodb_endpoint})
GraphiQL: open {base}/graphql in a browser; its Headers tab already holds {DEMO_MEMBER_ID}'s token.
  To act as someone else, replace it there: {{"Authorization": "Bearer <one of the tokens below>"}}
Dev tokens (valid 12 hours; send as `Authorization: Bearer <token>`):
  member  {DEMO_MEMBER_ID}: {member_token(idp)}
  member  not enrolled : {idp.member_token(f"new-member-{secrets.token_hex(4)}", TOKEN_TTL)}
  staff   admin        : {idp.staff_token('staff-admin', 'kizuna-admins', ttl=TOKEN_TTL)}
  service order system : {idp.service_token('order-system', TOKEN_TTL)}
  partner Sora Air     : {idp.partner_token('demo-partner', TOKEN_TTL)}
"""


def _exit_on_sigterm(signum: int, _frame: object) -> None:
    # A plain `kill` must stop DynamoDB Local too: SystemExit runs the atexit hook that stops it, where
    # the default SIGTERM action would leave the Java process behind. uvicorn restores this handler and
    # raises the signal again after its own graceful shutdown, so this also runs after serving.
    sys.exit(128 + signum)


def main() -> None:
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    args = parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")

    ddb = dynamodb_local.start(data_dir=args.data)
    base = f"http://{args.host}:{args.port}"
    idp = DevIdentityProvider.load_or_create(ROOT / ".dev-keys" / "signing-key.pem", issuer=f"{base}/dev-idp")
    api = dev_api(ddb.endpoint, idp)
    start_event_processor(api.services)
    print(banner(base, ddb.endpoint, idp))

    import uvicorn

    uvicorn.run(AsgiApp(api), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
