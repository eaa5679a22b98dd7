// A storefront's first hour with the Kizuna API, in Node with Apollo Client 4 (plain ESM, no framework).
//
// Read it top to bottom: each step is one thing a storefront (or the brand's order system) does, with the
// GraphQL it sends. Run it against the local API (`make run` in the project folder prints the tokens):
//
//   cd examples/node && npm ci
//   KIZUNA_MEMBER_TOKEN=<member token> KIZUNA_SERVICE_TOKEN=<service token> npm start
//
// `npm start` is `node --conditions=development storefront.mjs`: Apollo Client in development mode, with
// its full warning texts, as during a storefront's development. Settings, from the environment or the
// same-named options (`node storefront.mjs --url ... --member-token ... --service-token ...`):
//   KIZUNA_URL            --url            the GraphQL endpoint (default http://127.0.0.1:8000/graphql)
//   KIZUNA_MEMBER_TOKEN   --member-token   the shopper's sign-in token ("member" in `make run`'s list)
//   KIZUNA_SERVICE_TOKEN  --service-token  the storefront's and order system's service token ("service")
//
// The shopper joins the program if they have not yet, reads their points and history, redeems the
// cheapest reward they can afford; the storefront validates the coupon and consumes it on an order, and
// the order system records that order, delivers it and refunds part of it. Each caller has its own
// ApolloClient with the default InMemoryCache; the member's cache is read back to show that the
// answers keep it consistent. Exits 1 on anything unexpected.
import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";

import { ApolloClient, CombinedGraphQLErrors, HttpLink, InMemoryCache, gql, version } from "@apollo/client";
import { loadDevMessages, loadErrorMessages } from "@apollo/client/dev";
import { __DEV__ } from "@apollo/client/utilities/environment";

// -- the operations ------------------------------------------------------------------------------------
// One fragment for the balances, so every screen that shows points asks for the same fields.
const POINTS = gql`
  fragment Points on PointsSummary { id available pending lifetime debt expiringSoon { points at } }
`;

const ME = gql`query Me { me { id memberId name } }`;

const ENROLL = gql`
  mutation Enroll($input: MemberEnrollInput!) {
    memberEnroll(input: $input) {
      member { id memberId name referralCode points { ...Points } }
      userErrors { field code message }
    }
  }
  ${POINTS}
`;

const DASHBOARD = gql`
  query Dashboard {
    me { id memberId name referralCode points { ...Points } }
    programSummary { id waysToEarn { action points capPerPeriod period } }
    rewards(first: 20) { edges { node { id rewardId name kind pointsCost stockLeft imageUrl } } }
  }
  ${POINTS}
`;

// What a page header shows: only the spendable balance (with the ids that let the cache merge it).
const POINTS_BADGE = gql`query PointsBadge { me { id points { id available } } }`;

const HISTORY = gql`
  query History($first: Int!, $after: String) {
    me {
      id
      pointsHistory(first: $first, after: $after) {
        edges { cursor node { id type points status reason orderId createdAt } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
`;

const REDEEM = gql`
  mutation Redeem($rewardId: ID!) {
    rewardRedeem(rewardId: $rewardId) {
      redemption { id code points status reward { id rewardId name } }
      member { id points { ...Points } }
      reward { id stockLeft }
      userErrors { field code message }
    }
  }
  ${POINTS}
`;

const VALIDATE = gql`
  query Validate($code: String!) {
    couponValidate(code: $code) { id code status points memberId reward { id rewardId name kind } }
  }
`;

const CONSUME = gql`
  mutation Consume($code: String!, $orderId: ID!) {
    couponConsume(code: $code, orderId: $orderId) {
      redemption { id code status orderId consumedAt }
      userErrors { field code message }
    }
  }
`;

const RECORD_ORDER = gql`
  mutation RecordOrder($input: OrderInput!) {
    orderRecord(input: $input) { outcome orderId memberId points userErrors { field code message } }
  }
`;

const DELIVER = gql`
  mutation Deliver($orderId: ID!, $deliveredAt: DateTime!) {
    orderDeliver(orderId: $orderId, deliveredAt: $deliveredAt) { outcome orderId points userErrors { field code message } }
  }
`;

const REFUND = gql`
  mutation Refund($input: OrderReturnInput!) {
    orderReturnRecord(input: $input) {
      orderId pointsReversed duplicate
      remaining { lineItemId amountLeft pointsLeft }
      userErrors { field code message }
    }
  }
`;

// -- a little plumbing -----------------------------------------------------------------------------------
class WalkThroughFailed extends Error {}

const say = (step, text) => console.log(`[${step}] ${text}`);

/** An ApolloClient that signs every request with this caller's token. */
const connect = (uri, token) =>
  new ApolloClient({ link: new HttpLink({ uri, headers: { authorization: `Bearer ${token}` } }), cache: new InMemoryCache() });

/** A query from the server (not the cache). Top-level `errors` (sign in, forbidden, a bad argument) throw
 *  CombinedGraphQLErrors. */
const query = async (client, doc, variables = {}) =>
  (await client.query({ query: doc, variables, fetchPolicy: "network-only" })).data;

/** A mutation's payload with no userErrors, or stop and say which input was refused and why. */
const ok = (payload, what) => {
  if (payload.userErrors.length) {
    const problems = payload.userErrors.map((e) => `${e.field}: ${e.code} (${e.message})`).join("; ");
    throw new WalkThroughFailed(`${what} refused: ${problems}`);
  }
  return payload;
};

const mutate = async (client, doc, variables, headers) =>
  (await client.mutate({ mutation: doc, variables, context: headers ? { headers } : undefined })).data;

/** The badge as the member's cache has it now, without a request. */
const cachedBadge = (client) => client.readQuery({ query: POINTS_BADGE })?.me?.points?.available;

const balances = (p) => `available=${p.available} pending=${p.pending} lifetime=${p.lifetime}`;

function settings() {
  const { values } = parseArgs({
    options: { url: { type: "string" }, "member-token": { type: "string" }, "service-token": { type: "string" } },
  });
  const url = values.url ?? process.env.KIZUNA_URL ?? "http://127.0.0.1:8000/graphql";
  const memberToken = values["member-token"] ?? process.env.KIZUNA_MEMBER_TOKEN;
  const serviceToken = values["service-token"] ?? process.env.KIZUNA_SERVICE_TOKEN;
  if (!memberToken || !serviceToken) {
    console.error("Set KIZUNA_MEMBER_TOKEN and KIZUNA_SERVICE_TOKEN (or --member-token, --service-token): `make run` prints both.");
    process.exit(2);
  }
  return { url, memberToken, serviceToken };
}

// -- the walk-through ------------------------------------------------------------------------------------
async function walkThrough({ url, memberToken, serviceToken }) {
  if (__DEV__) {
    loadDevMessages(); // Apollo's warnings in full, not as message codes
    loadErrorMessages();
  }
  say("apollo", `Apollo Client ${version} in ${__DEV__ ? "development" : "production"} mode`);
  const member = connect(url, memberToken); // the shopper, signed in on the storefront
  const storefront = connect(url, serviceToken); // the storefront's checkout and the order system

  // 1. Join the program. `me` is null until the member enrolls; queries never enroll anyone.
  let me = (await query(member, ME)).me;
  if (me === null) {
    const input = { name: "Kenji Sato", email: "kenji@example.com", marketingConsent: true };
    me = ok((await mutate(member, ENROLL, { input })).memberEnroll, "memberEnroll").member;
    say("enroll", `enrolled ${me.name} (${me.memberId}), referral code ${me.referralCode}, ${me.points.available} points for joining`);
  } else {
    say("enroll", `already enrolled as ${me.name} (${me.memberId})`);
  }

  // 2. The dashboard: balances, the ways to earn, and the rewards (a connection, cheapest first). `id` is an
  //    opaque global id (`node(id:)` takes it, and the cache keys objects by it); `memberId` and `rewardId`
  //    are the own ids. Then the page header's badge, which asks for less of the same member: both land on
  //    one Member and one PointsSummary in the cache.
  const dashboard = await query(member, DASHBOARD);
  const before = dashboard.me.points;
  const rewards = dashboard.rewards.edges.map((edge) => edge.node);
  say("dashboard", `${dashboard.me.name}: ${balances(before)}`);
  say("earn", dashboard.programSummary.waysToEarn.map((w) => `${w.action} ${w.points}`).join(", "));
  say("rewards", rewards.map((r) => `${r.rewardId} (${r.pointsCost})`).join(", "));
  const badge = (await query(member, POINTS_BADGE)).me.points;
  say("badge", `${badge.available} points`);

  // 3. History, two entries a page: pass the last page's `endCursor` as `after` until `hasNextPage` is false.
  let after = null;
  let pages = 0;
  let entries = 0;
  for (;;) {
    const page = (await query(member, HISTORY, { first: 2, after })).me.pointsHistory;
    pages += 1;
    entries += page.edges.length;
    const shown = page.edges.map(({ node }) => `${node.type} ${node.points > 0 ? "+" : ""}${node.points} ${node.status}`).join("; ");
    say("history", `page ${pages}: ${shown || "no entries"}`);
    if (!page.pageInfo.hasNextPage || pages === 5) break;
    after = page.pageInfo.endCursor;
  }
  say("history", `${entries} entries in ${pages} pages`);

  // 4. Redeem the cheapest reward the member can afford. The Idempotency-Key header makes a retry safe:
  //    the same key returns the same coupon and spends nothing twice.
  const affordable = rewards.filter((r) => r.pointsCost <= before.available).sort((a, b) => a.pointsCost - b.pointsCost);
  if (!affordable.length) throw new WalkThroughFailed(`no reward costs ${before.available} points or less`);
  const reward = affordable[0];
  const key = randomUUID();
  const payload = ok((await mutate(member, REDEEM, { rewardId: reward.id }, { "Idempotency-Key": key })).rewardRedeem, "rewardRedeem");
  const { redemption: redeemed } = payload;
  const code = redeemed.code;
  say("redeem", `coupon ${code} for ${reward.rewardId} (${redeemed.points} points), ${redeemed.status}; ${payload.member.points.available} points left`);
  // The payload carries the member as the redemption left them, so the cache is current: the badge reads
  // the new balance without asking the server.
  const cached = cachedBadge(member);
  say("badge", `${cached} points, from the cache (no refetch)`);
  const again = ok((await mutate(member, REDEEM, { rewardId: reward.id }, { "Idempotency-Key": key })).rewardRedeem, "rewardRedeem (retry)").redemption;
  if (again.code !== code) throw new WalkThroughFailed(`the retry with the same Idempotency-Key gave another coupon: ${again.code}`);
  say("redeem", `retried with the same Idempotency-Key: the same coupon ${again.code}`);

  // 5. A typo at checkout. A bad argument to a query is a top-level error with extensions.code; a mutation
  //    refuses bad input in its payload's userErrors (field, code, message), every problem at once.
  const orderId = `web-${randomUUID().replaceAll("-", "").slice(0, 10)}`;
  const typo = "THANKS-FOR-SHOPPING-WITH-US-2026-XL"; // 35 characters: codes are at most 32
  try {
    await query(storefront, VALIDATE, { code: typo });
    throw new WalkThroughFailed("couponValidate accepted an over-long code");
  } catch (error) {
    if (!CombinedGraphQLErrors.is(error)) throw error;
    const [first] = error.errors;
    say("error", `couponValidate: ${first.extensions?.code} on ${first.extensions?.field}: ${first.message}`);
  }
  const refused = (await mutate(storefront, CONSUME, { code: typo, orderId })).couponConsume;
  for (const problem of refused.userErrors) say("user-error", `couponConsume: ${problem.field} ${problem.code}: ${problem.message}`);
  if (!refused.userErrors.length || refused.redemption !== null) throw new WalkThroughFailed("couponConsume accepted an over-long code");

  // 6. The storefront looks the real coupon up, then consumes it on the order (once: a second time answers
  //    ALREADY_CONSUMED).
  const coupon = (await query(storefront, VALIDATE, { code })).couponValidate;
  if (coupon === null) throw new WalkThroughFailed(`couponValidate does not know ${code}`);
  say("coupon", `${coupon.code} is ${coupon.status}: ${coupon.reward.name} for ${coupon.memberId}`);
  const used = ok((await mutate(storefront, CONSUME, { code, orderId })).couponConsume, "couponConsume");
  say("coupon", `${code} ${used.redemption.status} on order ${used.redemption.orderId}`);

  // 7. The order system records the paid order (pending points, once however often it is sent), reports the
  //    delivery (the return window starts) and refunds one line (its points are reversed).
  const now = new Date().toISOString();
  const recorded = ok((await mutate(storefront, RECORD_ORDER, { input: {
    orderId, currency: "JPY", orderedAt: now, memberId: me.memberId,
    lines: [{ id: "1", quantity: 1, price: "4800", sku: "SERUM-30", category: "skincare" },
            { id: "2", quantity: 1, price: "3200", sku: "TEE-01", category: "apparel" }],
    subtotal: "8000", total: "8800" } })).orderRecord, "orderRecord");
  say("order", `${orderId} ${recorded.outcome}: ${recorded.points} points pending for ${recorded.memberId}`);
  const delivered = ok((await mutate(storefront, DELIVER, { orderId, deliveredAt: now })).orderDeliver, "orderDeliver");
  say("deliver", `${orderId} ${delivered.outcome}: the return window starts now`);
  const refunded = ok((await mutate(storefront, REFUND, { input: {
    orderId, returnId: `${orderId}-r1`, resolution: "REFUND", lines: [{ lineItemId: "2", amount: "3200" }] } })).orderReturnRecord,
  "orderReturnRecord");
  const left = Object.fromEntries(refunded.remaining.map((line) => [line.lineItemId, line]));
  say("refund", `${orderId} line 2 refunded: ${refunded.pointsReversed} points reversed; left to refund: line 1 ${left["1"].amountLeft}, line 2 ${left["2"].amountLeft}`);

  // 8. The dashboard again: the coupon's points are spent, the order's are pending.
  const afterAll = (await query(member, DASHBOARD)).me.points;
  say("dashboard", `${dashboard.me.name}: ${balances(afterAll)}`);
  say("done", `spent ${before.available - afterAll.available}, pending ${afterAll.pending - before.pending >= 0 ? "+" : ""}${afterAll.pending - before.pending}`);
  member.stop();
  storefront.stop();
}

try {
  await walkThrough(settings());
} catch (error) {
  console.error(`walk-through failed: ${error instanceof WalkThroughFailed ? error.message : error}`);
  process.exitCode = 1;
}
