"""The AWS deployment (serverless.yml) keeps its promises, checked without AWS.

Each check collects problems from a parsed serverless.yml, or from the CloudFormation template `osls
package` generated from it; the tests assert the real ones have none, and that a copy broken on purpose
is caught, so no check can pass vacuously. The template checks need .serverless/ from a package run newer
than serverless.yml: scripts/package-check packages and then runs them (and requires them to run); in a
plain test run without a fresh template they skip. cfn-lint lints the template in scripts/package-check.
"""
from __future__ import annotations

import ast
import copy
import functools
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SERVERLESS_YML = ROOT / "serverless.yml"
TABLE_JSON = ROOT / "infra" / "table.json"
TABLE_RESOURCE = "KizunaTable"
DEPS_LAYER = "DepsLambdaLayer"  # logical id osls gives the `deps` layer

Config = dict[str, Any]
FILE_REF = re.compile(r"^\$\{file\((?P<path>[^)]+)\):(?P<key>[A-Za-z0-9_]+)\}$")
NOT_IAM_ACTIONS = re.compile(r"^dynamodb:Transact", re.IGNORECASE)  # authorised by the item actions instead
GRAPHQL_ROLE = "GraphqlExecutionRole"  # the GraphQL function's own role (the jobs use the generated one)
# Secrets never sit in a function's environment: only the names of their SSM parameters (api/secrets.py).
SECRET_VARIABLES = ("KIZUNA_WEBHOOK_SECRETS", "KIZUNA_CURSOR_SECRET", "KIZUNA_ISSUERS")
SSM_READ = "ssm:GetParameters"  # api/secrets.py reads every parameter in one GetParameters call
PARAMETER_ARN = "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter%s"
TABLE_ACTIONS = {
    "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Query",
    "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem", "dynamodb:ConditionCheckItem", "dynamodb:DescribeTable",
}


def load_config() -> Config:
    return yaml.safe_load(SERVERLESS_YML.read_text())


def table_spec() -> dict[str, Any]:
    return json.loads(TABLE_JSON.read_text())


def table_resource(config: Config) -> dict[str, Any]:
    return config.get("resources", {}).get("Resources", {}).get(TABLE_RESOURCE, {})


def resolve_file_ref(value: Any) -> Any:
    """`${file(./infra/table.json):Key}` -> that key of the file; anything else unchanged."""
    if not isinstance(value, str) or not (m := FILE_REF.match(value)):
        return value
    data = json.loads((ROOT / m["path"]).read_text())
    if m["key"] not in data:
        raise KeyError(f"{m['path']} has no {m['key']}")
    return data[m["key"]]


# --- checks -------------------------------------------------------------------------------------

def table_problems(config: Config) -> list[str]:
    """The table is the one in infra/table.json (referenced or equal), protected from loss."""
    problems = []
    resource = table_resource(config)
    if resource.get("Type") != "AWS::DynamoDB::Table":
        return [f"resources.Resources.{TABLE_RESOURCE} is not an AWS::DynamoDB::Table"]
    props = resource.get("Properties", {})
    for key, expected in table_spec().items():
        raw = props.get(key)
        if raw is None:
            problems.append(f"{key} from infra/table.json is missing from the table resource")
            continue
        if isinstance(raw, str) and (m := FILE_REF.match(raw)):
            if (ROOT / m["path"]).resolve() != TABLE_JSON or m["key"] != key:
                problems.append(f"{key} references {raw}, not infra/table.json:{key}")
                continue
        try:
            actual = resolve_file_ref(raw)
        except (OSError, KeyError) as e:
            problems.append(f"{key}: {e}")
            continue
        if actual != expected:
            problems.append(f"{key} differs from infra/table.json")
    resolved = {}
    for k, v in props.items():
        try:
            resolved[k] = resolve_file_ref(v)
        except (OSError, KeyError):
            resolved[k] = None  # reported above
    if resolved.get("BillingMode") != "PAY_PER_REQUEST":
        problems.append("billing is not PAY_PER_REQUEST")
    if (resolved.get("StreamSpecification") or {}).get("StreamViewType") != "NEW_IMAGE":
        problems.append("stream is not NEW_IMAGE")
    ttl = resolved.get("TimeToLiveSpecification") or {}
    if ttl != {"AttributeName": "expiresAt", "Enabled": True}:
        problems.append(f"TTL is not on expiresAt: {ttl}")
    if (resolved.get("PointInTimeRecoverySpecification") or {}).get("PointInTimeRecoveryEnabled") is not True:
        problems.append("point-in-time recovery is off")
    if resolved.get("DeletionProtectionEnabled") is not True:
        problems.append("deletion protection is off")
    for policy in ("DeletionPolicy", "UpdateReplacePolicy"):
        if resource.get(policy) != "Retain":
            problems.append(f"{policy} is not Retain")
    return problems


def arn_text(resource: Any) -> str:
    """An IAM Resource entry as text: GetAtt/Join/Sub flattened to `${Logical.Attr}` form."""
    if isinstance(resource, str):
        return resource
    if isinstance(resource, dict) and len(resource) == 1:
        (fn, arg), = resource.items()
        if fn == "Fn::GetAtt":
            parts = arg.split(".", 1) if isinstance(arg, str) else arg
            return "${%s.%s}" % tuple(parts)
        if fn == "Fn::Join":
            sep, parts = arg
            return sep.join(arn_text(p) for p in parts)
        if fn == "Fn::Sub" and isinstance(arg, str):
            return arg
        if fn == "Ref":
            return "${%s}" % arg
    return json.dumps(resource)


def role_statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    """The statements of an AWS::IAM::Role resource's inline policies."""
    return [st for policy in role.get("Properties", {}).get("Policies", []) or []
            for st in policy.get("PolicyDocument", {}).get("Statement", []) or []]


def iam_statements(config: Config) -> list[dict[str, Any]]:
    provider = config.get("provider", {})
    statements = list(provider.get("iam", {}).get("role", {}).get("statements", []))
    statements += provider.get("iamRoleStatements", [])  # the older spelling
    for fn in (config.get("functions") or {}).values():
        statements += fn.get("iamRoleStatements", []) or []
    for resource in (config.get("resources", {}).get("Resources") or {}).values():
        if resource.get("Type") == "AWS::IAM::Role":
            statements += role_statements(resource)
    return statements


def _listed(value: Any) -> list[Any]:
    return [value] if isinstance(value, (str, dict)) else list(value or [])


def iam_problems(config: Config) -> list[str]:
    """Only the item-level table actions, only on the table and its indexes."""
    problems = []
    provider = config.get("provider", {})
    role = provider.get("iam", {}).get("role", {})
    if not isinstance(role, dict):
        problems.append("provider.iam.role is not the generated role")
        role = {}
    if role.get("managedPolicies") or provider.get("iamManagedPolicies"):
        problems.append("managed policies grant more than the table")
    allowed_arns = {f"${{{TABLE_RESOURCE}.Arn}}", f"${{{TABLE_RESOURCE}.Arn}}/index/*"}
    parameter_arns = {PARAMETER_ARN % f"${{param:{name}}}" for name in (config.get("params") or {}).get("default", {})
                      if name.endswith("Parameter")}
    graphql_log_group = ("arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/lambda/"
                         "${self:service}-${sls:stage}-graphql:*")
    granted: set[str] = set()
    statements = iam_statements(config)
    if not statements:
        problems.append("no IAM statements: the function cannot reach the table")
    for resource in (config.get("resources", {}).get("Resources") or {}).values():
        if resource.get("Type") == "AWS::IAM::Role" and resource.get("Properties", {}).get("ManagedPolicyArns"):
            problems.append("managed policies grant more than the role's own statements")
    for st in statements:
        actions = _listed(st.get("Action", []))
        resources = _listed(st.get("Resource", []))
        if st.get("Effect") != "Allow":
            continue
        if "NotAction" in st or "NotResource" in st:
            problems.append("NotAction/NotResource widen a statement")
        prefixes = {str(a).split(":")[0].lower() for a in actions}
        if prefixes == {"ssm"}:  # secrets: read only, only the parameters named in params
            problems += [f"{a} is not the one SSM read ({SSM_READ})" for a in actions if a != SSM_READ]
            problems += [f"SSM resource {arn_text(r)} is not a parameter named in params"
                         for r in resources if arn_text(r) not in parameter_arns]
            continue
        if prefixes == {"sqs"}:  # the stream's failure destination and the webhook dead letters: send only
            problems += [f"{a} is more than sending to the stream's failure queue" for a in actions
                         if a != "sqs:SendMessage"]
            problems += [f"SQS resource {arn_text(r)} is not the stream's failure queue or the webhook dead letters"
                         for r in resources
                         if arn_text(r) not in ("${StreamFailuresQueue.Arn}", "${WebhookDeadLetterQueue.Arn}")]
            continue
        if prefixes == {"events"}:  # published events: PutEvents, to the deployment's own bus only
            problems += [f"{a} is more than publishing to the event bus" for a in actions if a != "events:PutEvents"]
            problems += [f"EventBridge resource {arn_text(r)} is not the deployment's bus"
                         for r in resources if arn_text(r) != "${KizunaEventBus.Arn}"]
            continue
        if prefixes == {"logs"}:  # the GraphQL role writes its own log group
            problems += [f"{a} is more than writing logs" for a in actions
                         if a not in ("logs:CreateLogStream", "logs:PutLogEvents")]
            problems += [f"log resource {arn_text(r)} is not the GraphQL function's log group"
                         for r in resources if arn_text(r) != graphql_log_group]
            continue
        for action in actions:
            if NOT_IAM_ACTIONS.match(action):
                problems.append(f"{action} is not an IAM action")
            elif action.lower() == "dynamodb:scan":
                problems.append("dynamodb:Scan is granted")
            elif action not in TABLE_ACTIONS:
                problems.append(f"{action} is not a table action this service needs")
            granted.add(action)
        for resource in resources:
            if arn_text(resource) not in allowed_arns:
                problems.append(f"resource {arn_text(resource)} is not the table or its indexes")
    missing = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem", "dynamodb:Query"} - granted
    if missing:
        problems.append(f"transactions and queries need {sorted(missing)}")
    return problems


def runtime_problems(config: Config) -> list[str]:
    problems = []
    provider = config.get("provider", {})
    for name, fn in (config.get("functions") or {}).items():
        runtime = fn.get("runtime", provider.get("runtime", ""))
        m = re.fullmatch(r"python3\.(\d+)", str(runtime))
        if not m or int(m[1]) < 12:
            problems.append(f"{name}: runtime {runtime!r} is not python3.12 or newer")
        arch = fn.get("architecture", provider.get("architecture"))
        if arch != "arm64":
            problems.append(f"{name}: architecture {arch!r} is not arm64")
        layers = fn.get("layers", provider.get("layers", [])) or []
        if {"Ref": DEPS_LAYER} not in layers:
            problems.append(f"{name}: does not use the deps layer (its imports would fail)")
    layer = (config.get("layers") or {}).get("deps", {})
    if provider.get("runtime") not in layer.get("compatibleRuntimes", []):
        problems.append("the deps layer is not built for the provider runtime")
    if "arm64" not in layer.get("compatibleArchitectures", []):
        problems.append("the deps layer is not built for arm64")
    return problems


def handler_problems(config: Config) -> list[str]:
    """Every handler `path/module.attr` names a module file that defines `attr` at top level."""
    problems = []
    functions = config.get("functions") or {}
    if not functions:
        problems.append("no functions")
    for name, fn in functions.items():
        module_path, _, attr = str(fn.get("handler", "")).rpartition(".")
        source = ROOT / f"{module_path}.py"
        if not attr or not source.is_file():
            problems.append(f"{name}: handler {fn.get('handler')!r} has no module file")
            continue
        defined = set()
        for node in ast.parse(source.read_text()).body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                defined.add(node.name)
            elif isinstance(node, ast.Assign):
                defined |= {t.id for t in node.targets if isinstance(t, ast.Name)}
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                defined.add(node.target.id)
        if attr not in defined:
            problems.append(f"{name}: {module_path}.py defines no {attr}")
    return problems


def http_problems(config: Config) -> list[str]:
    events = (config.get("functions") or {}).get("graphql", {}).get("events", [])
    routes = {(e["httpApi"]["method"].upper(), e["httpApi"]["path"]) for e in events if "httpApi" in e}
    wanted = {("POST", "/graphql"), ("GET", "/graphql"), ("POST", "/webhooks/{proxy+}")}
    problems = [f"missing route {m} {p}" for m, p in sorted(wanted - routes)]
    problems += [f"unexpected route {m} {p}" for m, p in sorted(routes - wanted)]
    if any(k != "httpApi" for e in events for k in e):
        problems.append("the API is not (only) an HTTP API")
    stage = ((config.get("resources") or {}).get("extensions") or {}).get("HttpApiStage", {})
    throttle = (stage.get("Properties") or {}).get("DefaultRouteSettings") or {}
    if not {"ThrottlingBurstLimit", "ThrottlingRateLimit"} <= set(throttle):
        problems.append("the HTTP API stage has no throttle: a flood would reach Lambda")
    return problems


def environment_problems(config: Config) -> list[str]:
    problems = []
    env = dict(config.get("provider", {}).get("environment") or {})
    env.update((config.get("functions") or {}).get("graphql", {}).get("environment") or {})
    if env.get("KIZUNA_TABLE") != {"Ref": TABLE_RESOURCE}:
        problems.append("KIZUNA_TABLE is not the table's name")
    if env.get("KIZUNA_ENV") != "production":
        problems.append("KIZUNA_ENV is not production (dev turns on GraphiQL and introspection)")
    for var in ("KIZUNA_ISSUERS_PARAMETER", "KIZUNA_STAGE_TENANTS", "KIZUNA_DEFAULT_TENANT",
                "KIZUNA_WEBHOOK_SECRETS_PARAMETER", "KIZUNA_CURSOR_SECRET_PARAMETER",
                "POWERTOOLS_SERVICE_NAME", "POWERTOOLS_LOG_LEVEL"):
        if var not in env:
            problems.append(f"{var} is not set")
    envs = [config.get("provider", {}).get("environment") or {}]
    envs += [fn.get("environment") or {} for fn in (config.get("functions") or {}).values()]
    for var in SECRET_VARIABLES:
        if any(var in e for e in envs):
            problems.append(f"{var} is in a function's environment: secrets come from SSM ({var}_PARAMETER)")
    # Offline packaging: every ${param:x} has a default, and nothing is fetched from AWS.
    text = yaml.safe_dump(config)
    defaults = (config.get("params") or {}).get("default") or {}
    for name in re.findall(r"\$\{param:([A-Za-z0-9_]+)\}", text):
        if name not in defaults:
            problems.append(f"param {name} has no default")
    for source in re.findall(r"\$\{(ssm|cf|s3|aws):", text):
        problems.append(f"${{{source}:...}} needs AWS to package")
    return problems


STREAM_FUNCTION = "streamProcessor"
STREAM_HANDLER = "api/stream_handler.handler"
STREAM_ARN = {"Fn::GetAtt": [TABLE_RESOURCE, "StreamArn"]}


def stream_problems(config: Config) -> list[str]:
    """The stream processor takes the table's stream in ordered batches of 100, answers the first failed
    record (ReportBatchItemFailures) so a retry starts there, bisects a failing batch, retries a bounded
    number of times, and has no role of its own granting more than the jobs' (docs/design.md, "How
    features hear about changes")."""
    fn = (config.get("functions") or {}).get(STREAM_FUNCTION)
    if not fn:
        return [f"no {STREAM_FUNCTION} function"]
    problems = []
    if fn.get("handler") != STREAM_HANDLER:
        problems.append(f"{STREAM_FUNCTION} does not run {STREAM_HANDLER}")
    if fn.get("role") is not None:
        problems.append(f"{STREAM_FUNCTION} has a role of its own: the checks above do not cover it")
    streams = [e["stream"] for e in fn.get("events") or [] if isinstance(e, dict) and "stream" in e]
    if len(streams) != 1 or len(fn.get("events") or []) != 1:
        return problems + [f"{STREAM_FUNCTION} is not triggered by exactly one stream"]
    stream = streams[0] if isinstance(streams[0], dict) else {"arn": streams[0]}
    wanted = {"type": "dynamodb", "arn": STREAM_ARN, "batchSize": 100, "startingPosition": "TRIM_HORIZON",
              "functionResponseType": "ReportBatchItemFailures", "bisectBatchOnFunctionError": True}
    for key, value in wanted.items():
        if stream.get(key) != value:
            problems.append(f"{STREAM_FUNCTION} stream {key} is {stream.get(key)!r}, not {value!r}")
    retries = stream.get("maximumRetryAttempts")
    if not isinstance(retries, int) or isinstance(retries, bool) or not 1 <= retries <= 10000:
        problems.append(f"{STREAM_FUNCTION} stream maximumRetryAttempts {retries!r} is not a bound of 1-10000")
    if stream.get("parallelizationFactor", 1) != 1:
        problems.append(f"{STREAM_FUNCTION} reads a shard in parallel")
    timeout = fn.get("timeout", 6)
    if not isinstance(timeout, int) or not 10 <= timeout <= 300:
        problems.append(f"{STREAM_FUNCTION} timeout {timeout!r} is not 10-300 s")
    return problems


# --- the real file passes -----------------------------------------------------------------------

CHECKS: dict[str, Callable[[Config], list[str]]] = {
    "table": table_problems,
    "iam": iam_problems,
    "runtime": runtime_problems,
    "handlers": handler_problems,
    "http": http_problems,
    "environment": environment_problems,
    "stream": stream_problems,
}


@pytest.mark.parametrize("check", CHECKS)
def test_serverless_yml_keeps_its_promises(check: str) -> None:
    assert CHECKS[check](load_config()) == []


def test_table_keys_are_referenced_from_table_json_not_repeated() -> None:
    props = table_resource(load_config())["Properties"]
    for key in ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes"):
        assert props[key] == f"${{file(./infra/table.json):{key}}}"


# --- and each check catches what it is for ------------------------------------------------------

def _set(path: str, value: Any) -> Callable[[Config], None]:
    def mutate(config: Config) -> None:
        *parents, last = path.split(".")
        node = config
        for p in parents:
            node = node[int(p)] if isinstance(node, list) else node[p]
        if value is DELETE:
            del node[last]
        else:
            node[last] = value
    return mutate


DELETE = object()
TABLE = f"resources.Resources.{TABLE_RESOURCE}"
STATEMENT = "provider.iam.role.statements.0"
SPEC = table_spec()
other_gsis = copy.deepcopy(SPEC["GlobalSecondaryIndexes"])[:1]

BROKEN: list[tuple[str, Callable[[Config], None]]] = [
    ("table", _set(f"{TABLE}.Properties.KeySchema", [{"AttributeName": "id", "KeyType": "HASH"}])),
    ("table", _set(f"{TABLE}.Properties.GlobalSecondaryIndexes", other_gsis)),
    ("table", _set(f"{TABLE}.Properties.GlobalSecondaryIndexes", DELETE)),
    ("table", _set(f"{TABLE}.Properties.AttributeDefinitions", "${file(./infra/other.json):AttributeDefinitions}")),
    ("table", _set(f"{TABLE}.Properties.KeySchema", "${file(./infra/table.json):AttributeDefinitions}")),
    ("table", _set(f"{TABLE}.Properties.StreamSpecification", {"StreamViewType": "NEW_AND_OLD_IMAGES"})),
    ("table", _set(f"{TABLE}.Properties.PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled", False)),
    ("table", _set(f"{TABLE}.Properties.PointInTimeRecoverySpecification", DELETE)),
    ("table", _set(f"{TABLE}.Properties.DeletionProtectionEnabled", False)),
    ("table", _set(f"{TABLE}.DeletionPolicy", "Delete")),
    ("table", _set(f"{TABLE}.UpdateReplacePolicy", DELETE)),
    ("table", _set(f"{TABLE}.Properties.BillingMode", "PROVISIONED")),
    ("table", _set(f"{TABLE}.Type", "AWS::DynamoDB::GlobalTable")),
    ("iam", lambda c: c["provider"]["iam"]["role"]["statements"][0]["Action"].append("dynamodb:TransactWriteItems")),
    ("iam", lambda c: c["provider"]["iam"]["role"]["statements"][0]["Action"].append("dynamodb:TransactGetItems")),
    ("iam", lambda c: c["provider"]["iam"]["role"]["statements"][0]["Action"].append("dynamodb:Scan")),
    ("iam", lambda c: c["provider"]["iam"]["role"]["statements"][0]["Action"].append("dynamodb:*")),
    ("iam", _set(f"{STATEMENT}.Action", "dynamodb:GetItem")),
    ("iam", _set(f"{STATEMENT}.Resource", "*")),
    ("iam", lambda c: c["provider"]["iam"]["role"]["statements"][0]["Resource"].append(
        "arn:aws:dynamodb:us-east-1:123456789012:table/other")),
    ("iam", lambda c: c["provider"]["iam"]["role"]["statements"][0]["Resource"].append(
        {"Fn::Join": ["/", [{"Fn::GetAtt": [TABLE_RESOURCE, "Arn"]}, "*"]]})),
    ("iam", lambda c: c["functions"]["graphql"].__setitem__(
        "iamRoleStatements", [{"Effect": "Allow", "Action": ["dynamodb:Scan"], "Resource": "*"}])),
    ("iam", lambda c: c["provider"]["iam"]["role"].__setitem__(
        "managedPolicies", ["arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess"])),
    ("iam", lambda c: _sqs_statement(c).__setitem__("Action", "sqs:*")),
    ("iam", lambda c: _sqs_statement(c).__setitem__("Resource", "*")),
    ("runtime", _set("provider.runtime", "python3.11")),
    ("runtime", _set("provider.runtime", "nodejs20.x")),
    ("runtime", _set("provider.architecture", "x86_64")),
    ("runtime", _set("functions.graphql.runtime", "python3.9")),
    ("runtime", _set("functions.graphql.layers", [])),
    ("runtime", _set("layers.deps.compatibleArchitectures", ["x86_64"])),
    ("handlers", _set("functions.graphql.handler", "api/lambda_handler.handle")),
    ("handlers", _set("functions.graphql.handler", "api/no_such_module.handler")),
    ("handlers", _set("functions.graphql.handler", "api.lambda_handler")),
    ("http", lambda c: c["functions"]["graphql"]["events"].pop()),
    ("http", lambda c: c["functions"]["graphql"]["events"].append({"http": {"method": "POST", "path": "/graphql"}})),
    ("environment", _set("provider.environment.KIZUNA_ENV", "dev")),
    ("environment", _set("provider.environment.KIZUNA_TABLE", "kizuna")),
    ("environment", _set("functions.graphql.environment.KIZUNA_WEBHOOK_SECRETS_PARAMETER", DELETE)),
    ("environment", _set("functions.graphql.environment.KIZUNA_WEBHOOK_SECRETS", '{"t": "hmac"}')),
    ("environment", _set("provider.environment.KIZUNA_ISSUERS", "[]")),
    ("environment", _set("params.default.issuersParameter", DELETE)),
    ("environment", _set("provider.environment.KIZUNA_ISSUERS_PARAMETER", "${ssm:/kizuna/issuers}")),
    ("iam", _set("provider.iam.role.statements.1.Resource", "*")),
    ("iam", _set("provider.iam.role.statements.1.Action", "ssm:*")),
    ("iam", lambda c: c["provider"]["iam"]["role"]["statements"][1]["Resource"].append(
        {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":ssm:", {"Ref": "AWS::Region"}, ":",
                           {"Ref": "AWS::AccountId"}, ":parameter/kizuna/*"]]})),
    ("iam", lambda c: c["resources"]["Resources"][GRAPHQL_ROLE]["Properties"]["Policies"][0]["PolicyDocument"][
        "Statement"].append({"Effect": "Allow", "Action": "dynamodb:Scan", "Resource": "*"})),
    ("iam", lambda c: c["resources"]["Resources"][GRAPHQL_ROLE]["Properties"]["Policies"][0]["PolicyDocument"][
        "Statement"][0].__setitem__("Resource", "*")),
    ("iam", lambda c: c["resources"]["Resources"][GRAPHQL_ROLE]["Properties"].__setitem__(
        "ManagedPolicyArns", ["arn:aws:iam::aws:policy/AmazonSSMReadOnlyAccess"])),
    ("stream", lambda c: c["functions"].pop(STREAM_FUNCTION)),
    ("stream", _set(f"functions.{STREAM_FUNCTION}.handler", "api/jobs.release_pending")),
    ("stream", _set(f"functions.{STREAM_FUNCTION}.role", "GraphqlExecutionRole")),
    ("stream", _set(f"functions.{STREAM_FUNCTION}.events", [])),
    ("stream", lambda c: c["functions"][STREAM_FUNCTION]["events"].append({"schedule": "rate(1 hour)"})),
    ("stream", _set(f"functions.{STREAM_FUNCTION}.events.0.stream.functionResponseType", DELETE)),
    ("stream", _set(f"functions.{STREAM_FUNCTION}.events.0.stream.bisectBatchOnFunctionError", False)),
    ("stream", _set(f"functions.{STREAM_FUNCTION}.events.0.stream.maximumRetryAttempts", -1)),
    ("stream", _set(f"functions.{STREAM_FUNCTION}.events.0.stream.maximumRetryAttempts", DELETE)),
    ("stream", _set(f"functions.{STREAM_FUNCTION}.events.0.stream.batchSize", 10)),
    ("stream", _set(f"functions.{STREAM_FUNCTION}.events.0.stream.startingPosition", "LATEST")),
    ("stream", _set(f"functions.{STREAM_FUNCTION}.events.0.stream.parallelizationFactor", 4)),
    ("stream", _set(f"functions.{STREAM_FUNCTION}.events.0.stream.arn",
                    {"Fn::GetAtt": [TABLE_RESOURCE, "Arn"]})),
    ("stream", _set(f"functions.{STREAM_FUNCTION}.timeout", 900)),
]


@pytest.mark.parametrize("check,break_it", BROKEN, ids=[f"{c}-{i}" for i, (c, _) in enumerate(BROKEN)])
def test_each_check_catches_a_broken_config(check: str, break_it: Callable[[Config], None]) -> None:
    config = load_config()
    break_it(config)
    assert CHECKS[check](config), f"the {check} check missed a broken serverless.yml"


# --- packaging: what the handlers import is in the function package -----------------------------

def glob_regex(pattern: str) -> re.Pattern[str]:
    """A serverless (micromatch) package pattern as a regex over repo-relative paths."""
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out + r"\Z")


def packaged(path: str, patterns: list[str]) -> bool:
    """Later patterns win, as in serverless: `!x` excludes, `x` includes; nothing is packaged by default."""
    included = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        if glob_regex(pattern.lstrip("!")).match(path):
            included = not negated
    return included


def test_package_patterns_mean_what_the_tests_assume() -> None:
    patterns = load_config()["package"]["patterns"]
    assert packaged("api/lambda_handler.py", patterns)
    assert packaged("infra/table.json", patterns)
    assert packaged("resolvers/points/types.py", patterns)
    for path in ("tests/conftest.py", "bench/run_all.py", "node_modules/osls/package.json", ".venv/bin/python",
                 "api/__pycache__/http.cpython-311.pyc", "build/layer/python/six.py", "serverless.yml",
                 ".data/x", "api/dev_idp.py"):
        assert not packaged(path, patterns), path


@functools.lru_cache(maxsize=None)
def imported_project_files(handler: str) -> tuple[str, ...]:
    """Import a handler as Lambda would (production settings, no network) and list the repo files of
    every module that loaded. Fails if the module does not import or the handler is not callable."""
    module_path, _, attr = handler.rpartition(".")
    module = module_path.replace("/", ".")
    probe = (
        "import importlib, json, sys\n"
        f"m = importlib.import_module({module!r})\n"
        f"assert callable(getattr(m, {attr!r})), 'handler is not callable'\n"
        "print(json.dumps(sorted({getattr(x, '__file__', None) or '' for x in list(sys.modules.values())})))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KIZUNA_", "AWS_"))}
    env.update(KIZUNA_ENV="production", KIZUNA_TABLE="kizuna-test", AWS_REGION="us-east-1",
               AWS_ACCESS_KEY_ID="dummy", AWS_SECRET_ACCESS_KEY="dummy", AWS_EC2_METADATA_DISABLED="true")
    run = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, f"{handler} does not import:\n{run.stderr[-3000:]}"
    files = [Path(f).resolve() for f in json.loads(run.stdout.strip().splitlines()[-1]) if f]
    return tuple(sorted(f.relative_to(ROOT).as_posix() for f in files
                        if f.is_relative_to(ROOT) and ".venv" not in f.relative_to(ROOT).parts))


def unpackaged_imports(handler: str, patterns: list[str]) -> list[str]:
    return [f for f in imported_project_files(handler) if not packaged(f, patterns)]


@pytest.mark.parametrize("function", sorted(load_config().get("functions") or {}))
def test_handler_imports_and_everything_it_imports_is_packaged(function: str) -> None:
    """A module the handler needs but the package leaves out would fail the deployed function at start."""
    config = load_config()
    handler = config["functions"][function]["handler"]
    assert f"{handler.rpartition('.')[0]}.py" in imported_project_files(handler)
    assert unpackaged_imports(handler, config["package"]["patterns"]) == []


def test_a_needed_module_left_out_of_the_package_is_caught() -> None:
    config = load_config()
    handler = config["functions"]["graphql"]["handler"]
    assert unpackaged_imports(handler, [*config["package"]["patterns"], "!api/settings.py"]) == ["api/settings.py"]
    assert "infra/table.py" in unpackaged_imports(handler, [*config["package"]["patterns"], "!infra/**"])


# --- the packaged CloudFormation template: SnapStart, the alias, secrets ------------------------

TEMPLATE = ROOT / ".serverless" / "cloudformation-template-update-stack.json"
GRAPHQL_FUNCTION = "GraphqlLambdaFunction"  # logical ids osls gives the graphql function and its pieces
HTTP_INTEGRATION = "HttpApiIntegrationGraphql"
HTTP_PERMISSION = "GraphqlLambdaPermissionHttpApi"
Template = dict[str, Any]


def packaged_template() -> Template:
    """The template of the last `osls package`, if it is newer than serverless.yml. scripts/package-check
    sets KIZUNA_REQUIRE_PACKAGED_TEMPLATE=1 right after packaging: there a missing template fails."""
    fresh = TEMPLATE.is_file() and TEMPLATE.stat().st_mtime >= SERVERLESS_YML.stat().st_mtime
    if not fresh:
        message = f"no {TEMPLATE.relative_to(ROOT)} newer than serverless.yml; `make package-check` makes one"
        if os.environ.get("KIZUNA_REQUIRE_PACKAGED_TEMPLATE") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return json.loads(TEMPLATE.read_text())


def _resources(template: Template, kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template.get("Resources", {}).items() if v.get("Type") == kind}


def _alias_target(uri: Any) -> str | None:
    """`Fn::Join [':', [GetAtt F.Arn, alias]]` -> `F:alias`; a bare function ARN (= $LATEST) -> None."""
    text = arn_text(uri)
    m = re.fullmatch(r"\$\{(\w+)\.Arn\}:(\w+)", text)
    return f"{m[1]}:{m[2]}" if m else None


def snapstart_problems(template: Template) -> list[str]:
    """SnapStart on published versions of the GraphQL function, and API Gateway invokes an alias of a
    published version (never $LATEST, which SnapStart does not cover)."""
    resources = template.get("Resources", {})
    fn = resources.get(GRAPHQL_FUNCTION, {}).get("Properties", {})
    problems = []
    if fn.get("SnapStart") != {"ApplyOn": "PublishedVersions"}:
        problems.append(f"{GRAPHQL_FUNCTION} has no SnapStart ApplyOn PublishedVersions")
    aliases = {a["Properties"].get("Name"): (k, a["Properties"])
               for k, a in _resources(template, "AWS::Lambda::Alias").items()
               if a["Properties"].get("FunctionName") == {"Ref": GRAPHQL_FUNCTION}}
    integration = resources.get(HTTP_INTEGRATION, {}).get("Properties", {})
    permission = resources.get(HTTP_PERMISSION, {}).get("Properties", {})
    for what, uri in (("the HTTP API integration", integration.get("IntegrationUri")),
                      ("the API Gateway invoke permission", permission.get("FunctionName"))):
        target = _alias_target(uri)
        if target is None or not target.startswith(f"{GRAPHQL_FUNCTION}:"):
            problems.append(f"{what} targets {arn_text(uri)}, not an alias of {GRAPHQL_FUNCTION}")
            continue
        alias = target.split(":", 1)[1]
        if alias not in aliases:
            problems.append(f"{what} targets alias {alias!r}, which the template does not define")
            continue
        version = aliases[alias][1].get("FunctionVersion", {})
        version_id = (version.get("Fn::GetAtt") or [None])[0] if isinstance(version, dict) else None
        published = resources.get(version_id or "", {})
        if published.get("Type") != "AWS::Lambda::Version" or \
                published.get("Properties", {}).get("FunctionName") != {"Ref": GRAPHQL_FUNCTION}:
            problems.append(f"alias {alias!r} is not on a published version of {GRAPHQL_FUNCTION}")
    return problems


def _role_of(function: dict[str, Any]) -> str | None:
    role = function.get("Properties", {}).get("Role")
    return role["Fn::GetAtt"][0] if isinstance(role, dict) and "Fn::GetAtt" in role else None


def _environment(function: dict[str, Any]) -> dict[str, Any]:
    return function.get("Properties", {}).get("Environment", {}).get("Variables", {}) or {}


def ssm_problems(template: Template) -> list[str]:
    """Each role may read exactly the SSM parameters its functions' environments name: GetParameters on
    those ARNs, nothing else from SSM, no KMS grant without a kms:ViaService condition."""
    problems = []
    functions = _resources(template, "AWS::Lambda::Function")
    for role_id, role in _resources(template, "AWS::IAM::Role").items():
        users = {k: f for k, f in functions.items() if _role_of(f) == role_id}
        needed = {PARAMETER_ARN % v for f in users.values() for k, v in _environment(f).items()
                  if k.endswith("_PARAMETER") and isinstance(v, str)}
        granted: set[str] = set()
        for st in role_statements(role):
            actions = [str(a) for a in _listed(st.get("Action", []))]
            if st.get("Effect") != "Allow" or not any(a.lower().startswith(("ssm:", "kms:", "*")) for a in actions):
                continue
            for action in actions:
                if action.lower().startswith("kms:") and "kms:ViaService" not in json.dumps(st.get("Condition", {})):
                    problems.append(f"{role_id}: {action} without a kms:ViaService condition")
                elif not action.lower().startswith("kms:") and action != SSM_READ:
                    problems.append(f"{role_id}: {action} is more than reading parameters ({SSM_READ})")
            if all(a.lower().startswith("kms:") for a in actions):
                continue
            for resource in _listed(st.get("Resource", [])):
                text = arn_text(resource)
                if text in needed:
                    granted.add(text)
                else:
                    problems.append(f"{role_id}: SSM access to {text}, which none of its functions names")
        problems += [f"{role_id}: its functions name {arn} but may not read it" for arn in sorted(needed - granted)]
    return problems


def secret_environment_problems(template: Template) -> list[str]:
    """No function's environment carries a secret, only parameter names; the webhook secrets and the
    cursor key are named to the GraphQL function alone."""
    problems = []
    for fid, fn in _resources(template, "AWS::Lambda::Function").items():
        env = _environment(fn)
        for var in SECRET_VARIABLES:
            if var in env:
                problems.append(f"{fid}: {var} is in the environment (a secret value)")
        for var, value in env.items():
            if var.endswith("_PARAMETER") and not (isinstance(value, str) and re.fullmatch(r"(/[\w.-]+)+", value)):
                problems.append(f"{fid}: {var} is not an SSM parameter name")
        if fid != GRAPHQL_FUNCTION:
            for var in ("KIZUNA_WEBHOOK_SECRETS_PARAMETER", "KIZUNA_CURSOR_SECRET_PARAMETER"):
                if var in env:
                    problems.append(f"{fid}: {var} is named to a function that does not need it")
    graphql = _environment(template.get("Resources", {}).get(GRAPHQL_FUNCTION, {}))
    for var in SECRET_VARIABLES:
        if f"{var}_PARAMETER" not in graphql:
            problems.append(f"{GRAPHQL_FUNCTION}: {var}_PARAMETER is not set")
    return problems


STREAM_LAMBDA = "StreamProcessorLambdaFunction"
STREAM_READ = {"dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:DescribeStream", "dynamodb:ListStreams"}


def stream_template_problems(template: Template) -> list[str]:
    """One event source mapping, from the table's stream to the stream processor, reporting failed
    records; the processor's role reads that stream and no other, and no role may do more with it."""
    problems = []
    resources = template.get("Resources", {})
    mappings = [m["Properties"] for m in _resources(template, "AWS::Lambda::EventSourceMapping").values()]
    stream_arn = f"${{{TABLE_RESOURCE}.StreamArn}}"
    ours = [m for m in mappings if arn_text(m.get("EventSourceArn")) == stream_arn]
    if len(ours) != 1 or len(mappings) != 1:
        return [f"not one event source mapping from the table's stream ({len(mappings)} mappings)"]
    mapping = ours[0]
    if arn_text(mapping.get("FunctionName")) != f"${{{STREAM_LAMBDA}.Arn}}":
        problems.append(f"the stream invokes {arn_text(mapping.get('FunctionName'))}, not {STREAM_LAMBDA}")
    if mapping.get("FunctionResponseTypes") != ["ReportBatchItemFailures"]:
        problems.append("the stream's mapping does not report batch item failures")
    if mapping.get("BisectBatchOnFunctionError") is not True or mapping.get("BatchSize") != 100:
        problems.append("the stream's mapping does not bisect batches of 100")
    destination = arn_text(((mapping.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination"))
    queues = _resources(template, "AWS::SQS::Queue")
    if not any(destination == f"${{{q}.Arn}}" for q in queues):
        problems.append("a batch the stream's mapping gives up on goes to no queue (DestinationConfig.OnFailure)")
    role = _role_of(resources.get(STREAM_LAMBDA, {}))
    reads: set[str] = set()
    for role_id, r in _resources(template, "AWS::IAM::Role").items():
        for st in role_statements(r):
            actions = {str(a) for a in _listed(st.get("Action", []))}
            if st.get("Effect") != "Allow" or not actions & STREAM_READ:
                continue
            if actions - STREAM_READ:
                problems.append(f"{role_id}: stream reading shares a statement with {sorted(actions - STREAM_READ)}")
            for resource in _listed(st.get("Resource", [])):
                if arn_text(resource) != stream_arn:
                    problems.append(f"{role_id}: stream access to {arn_text(resource)}, not the table's stream")
            if role_id == role and actions == STREAM_READ:
                reads.add(role_id)
    if role not in reads:
        problems.append(f"{STREAM_LAMBDA}'s role {role} may not read the table's stream")
    return problems


TEMPLATE_CHECKS: dict[str, Callable[[Template], list[str]]] = {
    "snapstart": snapstart_problems,
    "ssm": ssm_problems,
    "secret-environment": secret_environment_problems,
    "stream": stream_template_problems,
}


@pytest.mark.parametrize("check", TEMPLATE_CHECKS)
def test_the_packaged_template_keeps_its_promises(check: str) -> None:
    assert TEMPLATE_CHECKS[check](packaged_template()) == []


def _graphql_role(t: Template) -> dict[str, Any]:
    return t["Resources"][GRAPHQL_ROLE]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]


def _ssm_statement(t: Template, role: str) -> dict[str, Any]:
    statements = role_statements(t["Resources"][role])
    return next(st for st in statements if _listed(st["Action"]) == [SSM_READ])


def _first_version(t: Template) -> str:
    return next(k for k, v in t["Resources"].items()
                if v["Type"] == "AWS::Lambda::Version" and v["Properties"]["FunctionName"] != {"Ref": GRAPHQL_FUNCTION})


def _graphql_env(t: Template) -> dict[str, Any]:
    return t["Resources"][GRAPHQL_FUNCTION]["Properties"]["Environment"]["Variables"]


def _job_env(t: Template) -> dict[str, Any]:
    return t["Resources"]["ReleasePendingLambdaFunction"]["Properties"]["Environment"]["Variables"]


ARN = {"Fn::GetAtt": [GRAPHQL_FUNCTION, "Arn"]}
BROKEN_TEMPLATE: list[tuple[str, Callable[[Template], None]]] = [
    ("snapstart", lambda t: t["Resources"][GRAPHQL_FUNCTION]["Properties"].pop("SnapStart")),
    ("snapstart", lambda t: t["Resources"][GRAPHQL_FUNCTION]["Properties"].__setitem__("SnapStart",
                                                                                    {"ApplyOn": "None"})),
    ("snapstart", lambda t: t["Resources"][HTTP_INTEGRATION]["Properties"].__setitem__("IntegrationUri", ARN)),
    ("snapstart", lambda t: t["Resources"][HTTP_PERMISSION]["Properties"].__setitem__("FunctionName", ARN)),
    ("snapstart", lambda t: t["Resources"][HTTP_INTEGRATION]["Properties"].__setitem__(
        "IntegrationUri", {"Fn::Join": [":", [ARN, "other"]]})),
    ("snapstart", lambda t: next(a for a in t["Resources"].values() if a["Type"] == "AWS::Lambda::Alias")[
        "Properties"].__setitem__("FunctionVersion", "$LATEST")),
    ("snapstart", lambda t: next(a for a in t["Resources"].values() if a["Type"] == "AWS::Lambda::Alias")[
        "Properties"].__setitem__("FunctionVersion", {"Fn::GetAtt": [_first_version(t), "Version"]})),
    ("ssm", lambda t: _ssm_statement(t, GRAPHQL_ROLE).__setitem__("Resource", "*")),
    ("ssm", lambda t: _ssm_statement(t, GRAPHQL_ROLE).__setitem__("Action", ["ssm:GetParameters",
                                                                           "ssm:PutParameter"])),
    ("ssm", lambda t: _ssm_statement(t, GRAPHQL_ROLE)["Resource"].pop()),  # the function could not start
    ("ssm", lambda t: _ssm_statement(t, "IamRoleLambdaExecution")["Resource"].extend(
        _ssm_statement(t, GRAPHQL_ROLE)["Resource"])),  # the jobs may read the webhook secrets
    ("ssm", lambda t: _graphql_role(t).append({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"})),
    ("ssm", lambda t: _graphql_role(t).append({"Effect": "Allow", "Action": "*", "Resource": "*"})),
    ("secret-environment", lambda t: _graphql_env(t).__setitem__("KIZUNA_WEBHOOK_SECRETS", '{"t": "hmac"}')),
    ("secret-environment", lambda t: _job_env(t).__setitem__("KIZUNA_ISSUERS", "[]")),
    ("secret-environment", lambda t: _graphql_env(t).__setitem__("KIZUNA_CURSOR_SECRET_PARAMETER", "s3cr3t value")),
    ("secret-environment", lambda t: _graphql_env(t).pop("KIZUNA_CURSOR_SECRET_PARAMETER")),
    ("secret-environment", lambda t: _job_env(t).__setitem__("KIZUNA_WEBHOOK_SECRETS_PARAMETER", "/kizuna/x")),
    ("stream", lambda t: _stream_mapping(t).pop("FunctionResponseTypes")),
    ("stream", lambda t: _stream_mapping(t).__setitem__("FunctionName", ARN)),
    ("stream", lambda t: _stream_mapping(t).__setitem__("BisectBatchOnFunctionError", False)),
    ("stream", lambda t: _stream_read(t).__setitem__("Resource", "*")),
    ("stream", lambda t: _stream_mapping(t).pop("DestinationConfig")),
    ("stream", lambda t: _stream_read(t)["Action"].append("dynamodb:Scan")),
    ("stream", lambda t: [t["Resources"].pop(k) for k in list(t["Resources"])
                          if t["Resources"][k]["Type"] == "AWS::Lambda::EventSourceMapping"]),
    ("stream", lambda t: _graphql_role(t).append({"Effect": "Allow", "Action": "dynamodb:GetRecords",
                                                  "Resource": "arn:aws:dynamodb:us-east-1:1:table/x/stream/y"})),
]


def _sqs_statement(c: dict[str, Any]) -> dict[str, Any]:
    return next(st for st in c["provider"]["iam"]["role"]["statements"] if "sqs:SendMessage" in _listed(st["Action"]))


def _stream_mapping(t: Template) -> dict[str, Any]:
    return next(v["Properties"] for v in t["Resources"].values() if v["Type"] == "AWS::Lambda::EventSourceMapping")


def _stream_read(t: Template) -> dict[str, Any]:
    role = _role_of(t["Resources"][STREAM_LAMBDA])
    return next(st for st in role_statements(t["Resources"][role])
                if "dynamodb:GetRecords" in _listed(st.get("Action", [])))


@pytest.mark.parametrize("check,break_it", BROKEN_TEMPLATE,
                         ids=[f"{c}-{i}" for i, (c, _) in enumerate(BROKEN_TEMPLATE)])
def test_each_packaged_template_check_catches_a_broken_template(check: str, break_it: Callable[[Template], None]
                                                               ) -> None:
    template = copy.deepcopy(packaged_template())
    break_it(template)
    assert TEMPLATE_CHECKS[check](template), f"the {check} check missed a broken template"
