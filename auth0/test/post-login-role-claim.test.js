// Run from the repository root: node --test auth0/test/
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');

const action = require('../actions/post-login-role-claim.js');
const config = require(path.join(__dirname, '..', 'role-claim.json'));

// Fake Auth0 event/api: every setCustomClaim call is recorded as [token, name, value].
function run(user, secrets = {}) {
  const calls = [];
  const token = (kind) => ({ setCustomClaim: (name, value) => calls.push([kind, name, value]) });
  const api = { idToken: token('id'), accessToken: token('access') };
  return action.onExecutePostLogin({ user, secrets }, api).then(() => calls);
}

const both = (claim, role) => [
  ['id', claim, role],
  ['access', claim, role],
];

test('verified user gets the default role on ID and access token', async () => {
  const calls = await run({ email_verified: true, app_metadata: {} });
  assert.deepEqual(calls, both(config.claim, config.default_role));
  assert.equal(config.default_role, 'api_user');
});

test('app_metadata.db_role is used when valid', async () => {
  const calls = await run({ email_verified: true, app_metadata: { db_role: 'api_admin' } });
  assert.deepEqual(calls, both(config.claim, 'api_admin'));
});

test('invalid db_role falls back to the default role', async () => {
  for (const db_role of ['Robert); DROP', '', 'Api_Admin', '1role', 42]) {
    const calls = await run({ email_verified: true, app_metadata: { db_role } });
    assert.deepEqual(calls, both(config.claim, config.default_role), `db_role=${db_role}`);
  }
});

test('unverified user gets no claims at all', async () => {
  assert.deepEqual(await run({ email_verified: false, app_metadata: { db_role: 'api_admin' } }), []);
  assert.deepEqual(await run({ app_metadata: { db_role: 'api_admin' } }), []);
  assert.deepEqual(await run({ email_verified: 'true' }), []);
});

test('user_metadata.db_role is ignored (users can edit it themselves)', async () => {
  const calls = await run({ email_verified: true, user_metadata: { db_role: 'api_admin' } });
  assert.deepEqual(calls, both(config.claim, config.default_role));
});

test('Action secret ROLE_CLAIM overrides the claim name; empty secret does not', async () => {
  const user = { email_verified: true, app_metadata: {} };
  assert.deepEqual(
    await run(user, { ROLE_CLAIM: 'https://example.org/db_role' }),
    both('https://example.org/db_role', config.default_role),
  );
  assert.deepEqual(await run(user, { ROLE_CLAIM: '' }), both(config.claim, config.default_role));
});

test('Action constants equal auth0/role-claim.json', () => {
  assert.deepEqual(config, { claim: 'https://postgrest-demo.de/role', default_role: 'api_user' });
  assert.equal(action.ROLE_CLAIM, config.claim);
  assert.equal(action.DEFAULT_ROLE, config.default_role);
});
