// The graphql-http package's server audits (GraphQL over HTTP conformance) against one URL.
//   node tests/http_audit/audit.mjs http://127.0.0.1:8000/graphql
// Prints one line per audit, the counts per requirement level, and a JSON summary as the last line
// (tests/api/test_graphql_over_http.py reads it). Exits 0 whatever the outcome: the caller judges it.
import { serverAudits } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node tests/http_audit/audit.mjs <graphql url>');
  process.exit(2);
}

const LEVELS = ['MUST', 'SHOULD', 'MAY'];
const counts = Object.fromEntries(LEVELS.map((level) => [level, { passed: 0, total: 0 }]));
const failed = [];

for (const audit of serverAudits({ url })) {
  const level = audit.name.split(' ', 1)[0];
  let result;
  try {
    result = await audit.fn();
  } catch (err) {
    // An audit throws only when it could not run at all (server down, fetch failed).
    result = { id: audit.id, name: audit.name, status: 'error', reason: `audit could not run: ${err}` };
  }
  counts[level].total += 1;
  if (result.status === 'ok') {
    counts[level].passed += 1;
    console.log(`ok     ${audit.id} ${audit.name}`);
  } else {
    failed.push({ id: audit.id, name: audit.name, level, status: result.status, reason: result.reason });
    console.log(`${result.status.padEnd(6)} ${audit.id} ${audit.name}\n         ${result.reason}`);
  }
}

for (const level of LEVELS) {
  console.log(`${level}: ${counts[level].passed} of ${counts[level].total} passed`);
}
console.log(JSON.stringify({ counts, failed }));
