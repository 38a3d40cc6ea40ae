// Knowledge bases (inside the agent's form, so no form of their own: buttons act): which
// ones the agent searches (settings.knowledge_base_ids, saved with the agent), new ones, and
// each one's documents: upload, processing progress (polled while any is pending or
// processing), delete.
import { html, useEffect, useState } from '../../lib/ui.js';
import { api } from '../../lib/api.js';
import { Field, fieldError } from '../../lib/forms.js';
import { Checkbox, Section, TextInput } from './controls.js';
import { ProblemList, sectionProblems } from './problems.js';
import { knowledgePath } from './paths.js';
import { usePolling } from './polling.js';

const DOCUMENTS_POLL_MS = 1000;
const ACCEPTED = '.txt,.md,.html,.htm,.pdf';
const BUSY = new Set(['pending', 'processing']);

function DocumentRow({ doc, onDelete }) {
  const percent = Math.round((doc.progress || 0) * 100);
  const chunks = doc.chunks_total != null ? `${doc.chunks_done}/${doc.chunks_total} chunks` : '';
  return html`<li class="kb-doc">
    <span class="kb-doc-name">${doc.file_name}</span>
    <span class=${`badge doc-status ${doc.status}`}>${doc.status}</span>
    <progress max="100" value=${percent} aria-label=${`Processing of ${doc.file_name}`}>${percent}%</progress>
    <span class="hint">${percent}% ${chunks}</span>
    ${doc.error && html`<span class="field-error">${doc.error}</span>`}
    <button type="button" class="link" onClick=${() => onDelete(doc)} aria-label=${`Delete document ${doc.file_name}`}>Delete</button>
  </li>`;
}

function Documents({ base, onCount }) {
  const [docs, setDocs] = useState(null);
  const [error, setError] = useState(null);
  const [file, setFile] = useState(null);
  const [uploading, setUploading] = useState(false);
  const [uploadError, setUploadError] = useState(null);
  const [formKey, setFormKey] = useState(0);
  const load = async () => {
    try {
      const answer = await api.get(knowledgePath(base.id, '/documents'));
      setDocs(answer);
      setError(null);
      onCount(answer.length);
    } catch (failure) {
      setError(failure);
    }
  };
  useEffect(() => { load(); }, [base.id]);
  const busy = (docs || []).some((doc) => BUSY.has(doc.status));
  usePolling(load, busy ? DOCUMENTS_POLL_MS : null, [base.id]);
  const upload = async () => {
    if (!file) return;
    const body = new FormData();
    body.append('file', file);
    setUploading(true);
    setUploadError(null);
    try {
      await api.post(knowledgePath(base.id, '/documents'), body);
      setFile(null);
      setFormKey((key) => key + 1);
      await load();
    } catch (failure) {
      setUploadError(failure);
    } finally {
      setUploading(false);
    }
  };
  const remove = async (doc) => {
    try {
      await api.del(knowledgePath(base.id, `/documents/${encodeURIComponent(doc.id)}`));
      await load();
    } catch (failure) {
      setError(failure);
    }
  };
  return html`<div class="kb-documents">
    ${error && html`<p class="form-error" role="alert">${error.message}</p>`}
    ${docs && !docs.length && html`<p class="hint">No documents yet.</p>`}
    ${docs && docs.length > 0 && html`<ul class="kb-doc-list" aria-label=${`Documents of ${base.name}`}>
      ${docs.map((doc) => html`<${DocumentRow} key=${doc.id} doc=${doc} onDelete=${remove}/>`)}</ul>`}
    <div class="agent-inline" key=${formKey}>
      <${Field} label=${`Upload to ${base.name}`} type="file" accept=${ACCEPTED}
        onChange=${(event) => setFile(event.currentTarget.files[0] || null)}
        error=${uploadError && uploadError.message} hint=".txt, .md, .html or .pdf"/>
      <button type="button" onClick=${upload} disabled=${!file || uploading}>${uploading ? 'Uploading…' : 'Upload'}</button>
    </div>
  </div>`;
}

function KnowledgeBase({ base, used, onUse }) {
  const [open, setOpen] = useState(false);
  const [count, setCount] = useState(base.documents);
  return html`<li class="kb">
    <div class="kb-head">
      <${Checkbox} label=${html`Use <strong>${base.name}</strong>`} checked=${used} onValue=${onUse}/>
      <span class="hint">${count} ${count === 1 ? 'document' : 'documents'} · ${base.embedding_model}</span>
      <button type="button" aria-expanded=${open} onClick=${() => setOpen(!open)}
        aria-label=${`Documents of ${base.name}`}>${open ? 'Hide documents' : 'Documents'}</button>
    </div>
    ${open && html`<${Documents} base=${base} onCount=${setCount}/>`}
  </li>`;
}

function NewKnowledgeBase({ onCreated }) {
  const [name, setName] = useState('');
  const [model, setModel] = useState('');
  const [baseUrl, setBaseUrl] = useState('');
  const [error, setError] = useState(null);
  const create = async () => {
    setError(null);
    try {
      const created = await api.post(knowledgePath(), {
        name, ...(model.trim() ? { embedding_model: model.trim() } : {}),
        ...(baseUrl.trim() ? { embedding_base_url: baseUrl.trim() } : {}),
      });
      setName('');
      onCreated(created);
    } catch (failure) {
      setError(failure);
    }
  };
  const fields = ['name', 'embedding_model', 'embedding_base_url'];
  const enter = (event) => { if (event.key === 'Enter') { event.preventDefault(); create(); } };
  return html`<div class="agent-subpanel" role="group" aria-labelledby="kb-new-title" onKeyDown=${enter}>
    <h3 id="kb-new-title">New knowledge base</h3>
    ${error && !fields.some((field) => fieldError(error, field)) && html`<p class="form-error" role="alert">${error.message}</p>`}
    <div class="agent-grid">
      <${TextInput} label="Knowledge base name" value=${name} onValue=${setName} required error=${fieldError(error, 'name')}/>
      <${TextInput} label="Embedding model" value=${model} onValue=${setModel} placeholder="the server's default"
        error=${fieldError(error, 'embedding_model')} hint="fake embeds offline (tests, demos)."/>
      <${TextInput} label="Embedding base URL" value=${baseUrl} onValue=${setBaseUrl} placeholder="the server's default"
        error=${fieldError(error, 'embedding_base_url')}/>
    </div>
    <button type="button" onClick=${create}>Create knowledge base</button>
  </div>`;
}

export function KnowledgeSection({ settings, set, problems }) {
  const [bases, setBases] = useState(null);
  const [error, setError] = useState(null);
  const load = () => api.get(knowledgePath()).then((answer) => { setBases(answer); setError(null); }, setError);
  useEffect(() => { load(); }, []);
  const used = settings.knowledge_base_ids || [];
  const use = (id, on) => set('knowledge_base_ids', on ? [...used, id] : used.filter((item) => item !== id));
  const missing = used.filter((id) => bases && !bases.some((base) => base.id === id));
  return html`<${Section} id="knowledge" title="Knowledge bases"
      hint="The agent searches those it uses with the search_knowledge tool, or as an adaptive RAG agent. Which ones it uses is saved with the agent.">
    <${ProblemList} problems=${sectionProblems(problems, 'knowledge', () => false)}/>
    ${error && html`<p class="form-error" role="alert">The knowledge bases could not be loaded: ${error.message}</p>`}
    ${bases && !bases.length && html`<p class="hint">The organisation has no knowledge base yet.</p>`}
    ${bases && bases.length > 0 && html`<ul class="kb-list">
      ${bases.map((base) => html`<${KnowledgeBase} key=${base.id} base=${base} used=${used.includes(base.id)}
        onUse=${(on) => use(base.id, on)}/>`)}</ul>`}
    ${missing.length > 0 && html`<p class="field-error">Uses knowledge bases that are gone: ${missing.join(', ')}
      <button type="button" class="link" onClick=${() => set('knowledge_base_ids', used.filter((id) => !missing.includes(id)))}>Forget them</button></p>`}
    <${NewKnowledgeBase} onCreated=${() => load()}/>
  </${Section}>`;
}
