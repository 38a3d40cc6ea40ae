// Addresses of the agents' routes, each id escaped.
const part = encodeURIComponent;

export const agentPath = (id, rest = '') => `api/v1/agents/${part(id)}${rest}`;
export const knowledgePath = (id = '', rest = '') => `api/v1/knowledge-bases${id ? `/${part(id)}` : ''}${rest}`;
