// Live updates of a bot: /ws/bots/{id}/events. Calls `onChange(event)` for each `bot_changed`
// and `message` event (and `{type: "subscribed"}` once listening); reconnects (with a growing pause) when the connection drops.
import { useEffect, useRef } from '../../lib/ui.js';
import { wsUrl } from '../../lib/api.js';

const MAX_PAUSE_MS = 15_000;

export function useBotEvents(botId, onChange) {
  const handler = useRef(onChange);
  handler.current = onChange;
  useEffect(() => {
    let socket = null;
    let closed = false;
    let pause = 500;
    let timer = null;
    const connect = async () => {
      if (closed) return;
      const address = await wsUrl(`ws/bots/${encodeURIComponent(botId)}/events`);
      if (closed) return;
      socket = new WebSocket(address);
      socket.onopen = () => { pause = 500; };
      socket.onmessage = (message) => {
        let event;
        try { event = JSON.parse(message.data); } catch { return; }
        if (event.type === 'bot_changed' || event.type === 'message') handler.current(event);
        if (event.type === 'status' && event.message === 'subscribed') handler.current({ type: 'subscribed' });
      };
      socket.onclose = (close) => {
        if (closed || close.code === 4404 || close.code === 4401) return;
        timer = setTimeout(connect, pause);
        pause = Math.min(pause * 2, MAX_PAUSE_MS);
      };
    };
    connect();
    return () => { closed = true; clearTimeout(timer); socket?.close(); };
  }, [botId]);
}
