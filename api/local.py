"""`make run`: DynamoDB Local with a data folder, demo data, dev tokens, and the API under uvicorn."""
from __future__ import annotations

import argparse
import logging
from pathlib import Path

from api.asgi import AsgiApp
from api.demo import DEMO_MEMBERS, DEMO_TENANT, seed_demo
from api.dev_idp import DevIdentityProvider
from api.http import Api
from api.runtime import build_services
from api.settings import Settings
from infra import dynamodb_local
from infra.table import create_table

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--data", type=Path, default=ROOT / ".data" / "dynamodb")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")

    ddb = dynamodb_local.start(data_dir=args.data)
    base = f"http://{args.host}:{args.port}"
    idp = DevIdentityProvider.load_or_create(ROOT / ".dev-keys" / "signing-key.pem", issuer=f"{base}/dev-idp")
    settings = Settings(env="dev", table_name="kizuna-dev", region="us-east-1", dynamodb_endpoint=ddb.endpoint,
                        issuers=(idp.issuer_settings(DEMO_TENANT),), default_tenant=DEMO_TENANT,
                        webhook_secrets={DEMO_TENANT: "dev-webhook-secret"})
    services = build_services(settings)
    create_table(services.dynamodb, settings.table_name)
    seed_demo(DEMO_TENANT, services.programs)

    ttl = 12 * 3600
    print(f"\nKizuna is running: GraphiQL at {base}/graphql  (tenant '{DEMO_TENANT}', DynamoDB Local {ddb.endpoint})")
    print("Dev tokens (valid 12 hours; send as `Authorization: Bearer <token>`):")
    print(f"  member  demo-member-1: {idp.member_token('demo-member-1', ttl, email=DEMO_MEMBERS[0][2])}")
    print(f"  staff   admin        : {idp.staff_token('staff-admin', 'kizuna-admins', ttl=ttl)}")
    print(f"  service order system : {idp.service_token('order-system', ttl)}")
    print(f"  partner acme         : {idp.partner_token('partner-acme', ttl)}\n")

    import uvicorn

    uvicorn.run(AsgiApp(Api(services)), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
