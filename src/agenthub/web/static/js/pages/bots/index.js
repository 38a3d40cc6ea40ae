// The bots area: `#/bots` lists the organisation's scenario bots, `#/bots/<id>` is the visual
// constructor of one.
import { html } from '../../lib/ui.js';
import { BotList } from './list.js';
import { BotEditor } from './editor.js';

export default function BotsPage({ route }) {
  const [, botId] = route.parts;
  return botId ? html`<${BotEditor} key=${botId} botId=${botId}/>` : html`<${BotList}/>`;
}
