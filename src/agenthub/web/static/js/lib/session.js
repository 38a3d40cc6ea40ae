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
