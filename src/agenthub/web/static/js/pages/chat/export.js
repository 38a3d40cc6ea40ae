// A chat's export, built from its history (GET .../chats/{chat_id}/messages, every page):
// Markdown for people, JSON (the history's own items) for programs.
import { api } from '../../lib/api.js';
import { saveBlob } from './files.js';

const PAGE = 1000;

/** Every message of the chat, in order. */
export async function wholeHistory(agentId, chatId) {
  const path = `api/v1/agents/${encodeURIComponent(agentId)}/chats/${encodeURIComponent(chatId)}/messages`;
  const items = [];
  for (let after = 0; ;) {
    const page = await api.get(path, { query: { limit: PAGE, after_position: after } });
    items.push(...page.items);
    if (page.items.length < PAGE) return items;
    after = page.items[page.items.length - 1].position;
  }
}

function asMarkdown(agent, chatId, items) {
  const lines = [`# Chat ${chatId} with ${agent.name || agent.id}`, '', `Exported ${new Date().toISOString()}.`, ''];
  for (const item of items) {
    lines.push(`## ${item.role === 'user' ? 'You' : agent.name || 'Agent'} (${item.created_at})`, '', item.content, '');
    for (const file of item.attachments || []) lines.push(`- attached: ${file.file_id} (${file.download_path})`);
    for (const button of item.widget?.buttons || []) lines.push(`- button: ${button.text}`);
    if (item.attachments?.length || item.widget?.buttons?.length) lines.push('');
  }
  return lines.join('\n');
}

/** Download the chat as `format` ('md' or 'json'). */
export async function exportChat(agent, chatId, format) {
  const items = await wholeHistory(agent.id, chatId);
  const name = `chat-${agent.id}-${chatId}.${format}`;
  if (format === 'json') {
    const document = { agent_id: agent.id, chat_id: chatId, exported_at: new Date().toISOString(), messages: items };
    saveBlob(new Blob([JSON.stringify(document, null, 2)], { type: 'application/json' }), name);
  } else {
    saveBlob(new Blob([asMarkdown(agent, chatId, items)], { type: 'text/markdown' }), name);
  }
}
