/**
 * The dashboard: static files shipped in the package's dashboard/ folder, read once and served
 * from memory (a lookup by name, so no request path ever reaches the file system).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Hono } from 'hono';

/** From src/server or dist/server, the package root is two folders up. */
export const DASHBOARD_DIR = fileURLToPath(new URL('../../dashboard/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
};

interface Asset {
  body: Uint8Array;
  type: string;
}

function loadAssets(dir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  const walk = (sub: string) => {
    for (const ent of fs.readdirSync(path.join(dir, sub), { withFileTypes: true })) {
      const rel = sub ? `${sub}/${ent.name}` : ent.name;
      if (ent.isDirectory()) walk(rel);
      else if (ent.isFile() && TYPES[path.extname(ent.name)]) {
        assets.set(rel, { body: fs.readFileSync(path.join(dir, rel)), type: TYPES[path.extname(ent.name)] as string });
      }
    }
  };
  if (fs.existsSync(dir)) walk('');
  return assets;
}

export function dashboardRoutes(dir = DASHBOARD_DIR): Hono {
  const assets = loadAssets(dir);
  const app = new Hono();
  const send = (name: string) => {
    const a = assets.get(name);
    if (!a) return undefined;
    return new Response(a.body, { headers: { 'Content-Type': a.type, 'Cache-Control': 'no-cache' } });
  };
  app.get('/', (c) => send('index.html') ?? c.text('the dashboard files are missing from this installation', 500));
  app.get('/assets/:name{.+}', (c) => send(c.req.param('name')) ?? c.notFound());
  return app;
}
