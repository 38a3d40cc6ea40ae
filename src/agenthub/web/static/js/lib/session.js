// Who is logged in: /api/v1/auth/me, shared by every page through a context.
import { createContext, useContext } from './ui.js';

export const MeContext = createContext(null);

/** {id, email, username, org_id, role} of the logged-in user. */
export function useMe() {
  return useContext(MeContext);
}

export function isAdmin(me) {
  return me && (me.role === 'owner' || me.role === 'admin');
}

/** What a page says of its user with each message to an agent (`user_data`): a scenario
 * bot's `user.first_name` and `user.username`. The account's username, else its e-mail's
 * local part; undefined when neither is known. */
export function userData(me) {
  const name = me?.username || (me?.email || '').split('@')[0];
  return name ? { first_name: name, username: name } : undefined;
}
