// Addresses of the agents' routes, each id escaped.
const part = encodeURIComponent;

export const agentPath = (id, rest = '') => `api/v1/agents/${part(id)}${rest}`;
export const knowledgePath = (id = '', rest = '') => `api/v1/knowledge-bases${id ? `/${part(id)}` : ''}${rest}`;

/** The route part of a new agent's editor: `#/agents/+new` (no agent id holds `+`). */
export const NEW_AGENT = '+new';
