/**
 * Auth0 Action — trigger: Login / Post Login.
 *
 * Why: the original tutorial added the role claim with an Auth0 *Rule*.
 * Rules are deprecated in favour of Actions, so this Action does the same job.
 * PostgREST reads the database role from this claim (jwt-role-claim-key in its
 * config) and runs the request as that role (SET ROLE).
 *
 * What: for users with a verified email, put the namespaced role claim on both
 * the ID token and the access token. Unverified users get no claim at all;
 * PostgREST then falls back to its anonymous role (db-anon-role).
 *
 * Single file on purpose: the Auth0 dashboard cannot read other files, so the
 * constants below are copied from auth0/role-claim.json; a test keeps the two
 * equal. Optional Action secret ROLE_CLAIM overrides the claim name.
 */

const ROLE_CLAIM = 'https://postgrest-demo.de/role';
const DEFAULT_ROLE = 'api_user';
// Lower-case Postgres identifier: no quoting, no injection, no surprises.
const ROLE_PATTERN = /^[a-z_][a-z0-9_]*$/;

/**
 * @param {Event} event - Details about the user and the context in which they are logging in.
 * @param {PostLoginAPI} api - Interface whose methods can be used to change the behavior of the login.
 */
exports.onExecutePostLogin = async (event, api) => {
  if (event.user.email_verified !== true) return;

  // Only app_metadata: it is writable by admins / the Management API alone.
  // Never read user_metadata here — users can edit it themselves and would
  // pick their own database role.
  const wanted = (event.user.app_metadata || {}).db_role;
  const role =
    typeof wanted === 'string' && ROLE_PATTERN.test(wanted) ? wanted : DEFAULT_ROLE;

  const secret = (event.secrets || {}).ROLE_CLAIM;
  const claim = typeof secret === 'string' && secret !== '' ? secret : ROLE_CLAIM;

  api.idToken.setCustomClaim(claim, role);
  api.accessToken.setCustomClaim(claim, role);
};

// Extra exports are ignored by Auth0; the tests use them.
exports.ROLE_CLAIM = ROLE_CLAIM;
exports.DEFAULT_ROLE = DEFAULT_ROLE;
