// The output viewer on a run page: shows an output file, and tails it (polling every second) while the run runs.

import { request, showError } from './api.js';
import { h } from './dom.js';

const POLL_MS = 1000;
const CHUNK = 1024 * 1024; // the API's largest answer
const TAIL_FROM = 4 * CHUNK; // files larger than this are shown from their last CHUNK bytes

/**
 * A viewer for output `name` of job `jobId` in run `runId`. isRunning() says whether the run may still write to it.
 * Returns {el, close()}; it also stops when the page is left.
 */
export function outputViewer(ctx, runId, name, jobId, isRunning) {
  const controller = new AbortController();
  const stopOnLeave = () => controller.abort();
  ctx.signal.addEventListener('abort', stopOnLeave, { once: true });
  const { signal } = controller;

  const text = h('pre', { class: 'output', testid: 'output-text', tabindex: '0', 'aria-label': `Contents of ${name}` });
  const state = h('span', { class: 'sub', 'aria-live': 'polite' }, 'Loading…');
  const close = () => {
    controller.abort();
    ctx.signal.removeEventListener('abort', stopOnLeave);
    el.remove();
  };
  const el = h(
    'div',
    { class: 'viewer' },
    h(
      'div',
      { class: 'viewer-head' },
      h('h3', { class: 'mono' }, name),
      state,
      h('button', { type: 'button', class: 'link', onclick: close }, 'Close'),
    ),
    text,
  );

  const path = `/api/runs/${encodeURIComponent(runId)}/outputs/${encodeURIComponent(name)}?job=${encodeURIComponent(jobId)}`;
  let offset = 0;
  let decoder = new TextDecoder();

  // Append text, keeping the view at the bottom if it was there (auto-scroll) without stealing a scrolled-up view.
  const append = (chunk) => {
    if (!chunk) return;
    const atBottom = text.scrollHeight - text.scrollTop - text.clientHeight < 24;
    text.append(chunk);
    if (atBottom) text.scrollTop = text.scrollHeight;
  };

  const readOnce = async () => {
    const res = await request(`${path}&offset=${offset}`, { signal, accept: 'text/plain' });
    const size = Number(res.headers.get('X-Lava-Size') ?? NaN);
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (offset === 0 && size > TAIL_FROM) {
      // Too big to show whole: start again from the last chunk.
      offset = size - CHUNK;
      decoder = new TextDecoder();
      text.append(h('span', { class: 'skipped' }, `… ${offset} earlier bytes not shown …\n`));
      return { size, more: true };
    }
    offset += bytes.byteLength;
    append(decoder.decode(bytes, { stream: true }));
    return { size, more: bytes.byteLength > 0 && Number.isFinite(size) && offset < size };
  };

  const loop = async () => {
    try {
      for (;;) {
        const running = isRunning();
        const { size, more } = await readOnce();
        state.textContent = `${Number.isFinite(size) ? size : offset} bytes${running ? ' · live' : ''}`;
        if (more) continue; // the rest of a big file: read on at once
        if (!running) break; // the run had ended before this read: the file is complete
        await sleep(POLL_MS, signal);
      }
      append(decoder.decode());
    } catch (err) {
      if (err?.name !== 'AbortError') {
        state.textContent = 'Could not read this output.';
        showError(err);
      }
    }
  };
  void loop();
  return { el, close };
}

function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}
