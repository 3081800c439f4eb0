/**
 * The SharePoint job types and the sharepoint connector, against the Microsoft Graph stand-in of
 * test/support/graph-standin.ts (no SharePoint can run here): request shapes (token form, bearer
 * header, paths, bodies, upload fragments without Authorization), paging, throttling retries with
 * Retry-After, error texts, and no secret in events or logs. Retry waits are recorded, not slept.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { EventRecord } from '../../src/backends/ports.js';
import { retryAfterSeconds, sharepointConnector } from '../../src/connections/connectors/sharepoint.js';
import { resolveConnection } from '../../src/connections/resolve.js';
import { builtinHandlers, checkJobType } from '../../src/handlers/registry.js';
import { makeSharepointHandlers } from '../../src/handlers/sharepoint/index.js';
import { makeRealm, type TestRealm } from '../helpers.js';
import { captureLogger } from '../connections/helpers.js';
import { CREDENTIALS, startGraphStandin, type GraphStandin } from '../support/graph-standin.js';

describe('sharepoint pieces', () => {
  it('Retry-After: seconds + 10, an HTTP date, else 15 (upstream)', () => {
    expect(retryAfterSeconds('5')).toBe(15);
    expect(retryAfterSeconds(null)).toBe(15);
    expect(retryAfterSeconds(new Date(Date.UTC(2024, 0, 1, 0, 1)).toUTCString(), Date.UTC(2024, 0, 1))).toBe(70);
    expect(retryAfterSeconds('soon')).toBe(15);
  });

  it('lava check knows the five types and their parameters', () => {
    const spec = { job_id: 'x', worker: 'w', payload: null };
    expect(
      checkJobType({ ...spec, type: 'sharepoint_get_doc', parameters: { conn_id: 'c', library: 'L', path: '/a', file: 'f' } })
        .errors,
    ).toEqual([]);
    expect(
      checkJobType({
        ...spec,
        type: 'sharepoint_put_doc',
        parameters: { conn_id: 'c', library: 'L', path: '/a', file: 'f', glob: '*' },
      }).errors[0],
    ).toMatch(/sharepoint_put_doc jobs do not take glob/);
  });
});

describe('SharePoint job types against the Graph stand-in', () => {
  let g: GraphStandin;
  let t: TestRealm;
  let base: string;
  const { logger, lines } = captureLogger();
  const waits: number[] = [];
  const handlers = new Map([
    ...builtinHandlers(),
    ...makeSharepointHandlers({ sleep: async (s) => void waits.push(s) }).map((h) => [h.type, h] as const),
  ]);
  const temp = () => fileURLToPath(t.realm.s3_temp);

  async function run(type: string, jobId: string, parameters: Record<string, unknown>) {
    await t.putJob({ job_id: jobId, type, parameters: { conn_id: 'sp', ...parameters } });
    const runId = await t.dispatch(jobId);
    await t.drain({ logger, handlers });
    const rec = (await t.backend.events.get('test', jobId, runId)) as EventRecord;
    return { status: rec.log.at(-1)?.status, last: rec.log.at(-1)?.info as Record<string, unknown> };
  }
  const graphCalls = () =>
    g.requests
      .filter((r) => r.url.startsWith('/v1.0/'))
      .map((r) => `${r.method} ${decodeURIComponent(r.url.replace(/\?.*/, ''))}`);

  beforeAll(async () => {
    [g, t] = await Promise.all([startGraphStandin(), makeRealm()]);
    base = path.join(t.dir, 'base');
    fs.mkdirSync(base);
    await t.backend.secrets.put('test', '/lava/test/sp/secret', CREDENTIALS.client_secret);
    await t.backend.secrets.put('test', '/lava/test/sp/password', CREDENTIALS.password);
    await t.backend.secrets.put('test', '/lava/test/sp/wrong', 'Not-The-Password-1a');
    const spec = {
      type: 'sharepoint',
      enabled: true,
      org_base_url: 'contoso.sharepoint.com',
      site_name: 'Finance',
      tenant: CREDENTIALS.tenant,
      client_id: CREDENTIALS.client_id,
      client_secret: '/lava/test/sp/secret',
      user: CREDENTIALS.user,
      password: '/lava/test/sp/password',
      login_url: g.loginUrl,
      graph_url: g.graphUrl,
    };
    await t.backend.config.put('test', 'connections', { conn_id: 'sp', ...spec });
    await t.backend.config.put('test', 'connections', { conn_id: 'sp-bad', ...spec, password: '/lava/test/sp/wrong' });
    await t.backend.config.put('test', 'connections', { conn_id: 'sp-nosite', ...spec, site_name: 'Nowhere' });
  });

  afterAll(async () => {
    await g?.close();
    await t?.close();
  });

  beforeEach(() => {
    g.requests.length = 0;
    waits.length = 0;
    g.pageSize = 1;
    g.expiresIn = 3599;
    g.drives.clear();
    g.lists.clear();
    const items = new Map([
      ['/', { id: 'root', name: 'root', folder: true }],
      ['/Reports', { id: 'f1', name: 'Reports', folder: true }],
      [
        '/Reports/budget.xlsx',
        { id: 'i1', name: 'budget.xlsx', content: Buffer.from('PK\u0003\u0004 workbook'), title: 'Budget 2024' },
      ],
      ['/Reports/a.csv', { id: 'i2', name: 'a.csv', content: Buffer.from('a\n1\n') }],
      ['/Reports/B.CSV', { id: 'i3', name: 'B.CSV', content: Buffer.from('b\n2\n') }],
      ['/Reports/notes.txt', { id: 'i4', name: 'notes.txt', content: Buffer.from('n') }],
      ['/Reports/old.csv', { id: 'f2', name: 'old.csv', folder: true }],
    ]);
    g.drives.set('Documents', { id: 'drv-docs', items });
    g.lists.set('Tasks', {
      id: 'lst-1',
      name: 'Tasks',
      template: 'genericList',
      columns: [
        { name: 'Title', required: true },
        { name: 'Done', facet: { boolean: {} } },
        { name: 'Owner', facet: { personOrGroup: {} } },
        { name: 'Created', readOnly: true, facet: { dateTime: {} } },
        { name: 'Attachments', facet: { boolean: {} } },
        { name: 'ContentType', columnGroup: '_Hidden' },
      ],
      items: new Map([
        ['1', { Title: 'Plan', Done: true, OwnerLookupId: '7', Created: '2024-05-01T00:00:00Z' }],
        ['2', { Title: 'Do|it', Done: false, Created: '2024-05-02T00:00:00Z' }],
        ['3', { Title: 'Check', Created: '2024-05-03T00:00:00Z' }],
      ]),
    });
  });

  it('get_doc: signs in with upstream password grant, follows paging, downloads into basedir, returns the title', async () => {
    const r = await run('sharepoint_get_doc', 'sp/get', {
      library: 'Documents',
      path: '/Reports/budget.xlsx',
      file: 'out/b.xlsx',
      basedir: base,
    });
    expect(r.status).toBe('complete');
    expect(r.last).toMatchObject({
      title: 'Budget 2024',
      source: '/Reports/budget.xlsx',
      destination: 'out/b.xlsx',
      library: 'Documents',
    });
    expect(fs.readFileSync(path.join(base, 'out/b.xlsx'), 'utf8')).toBe('PK\u0003\u0004 workbook');
    const token = g.requests[0];
    expect(token?.method).toBe('POST');
    expect(token?.url).toBe(`/${CREDENTIALS.tenant}/oauth2/v2.0/token`);
    const form = new URLSearchParams(token?.body);
    expect(Object.fromEntries(form)).toEqual({
      client_id: CREDENTIALS.client_id,
      client_secret: CREDENTIALS.client_secret,
      username: CREDENTIALS.user,
      password: CREDENTIALS.password,
      grant_type: 'password',
      scope: 'sites.readwrite.all Files.ReadWrite.All user.read openid profile offline_access',
    });
    expect(graphCalls()).toEqual([
      'GET /v1.0/sites/contoso.sharepoint.com:/sites/Finance',
      'GET /v1.0/sites/site-1/drives',
      'GET /v1.0/sites/site-1/drives', // the second page, by @odata.nextLink
      'GET /v1.0/drives/drv-docs/root:/Reports/budget.xlsx',
      'GET /v1.0/drives/drv-docs/items/i1/content',
      'GET /v1.0/drives/drv-docs/items/i1/listitem/fields',
    ]);
    for (const req of g.requests.filter((x) => x.url.startsWith('/v1.0/'))) expect(req.authorization).toMatch(/^Bearer at-\d+$/);
    // The content came from the pre-authenticated download URL the 302 named.
    expect(g.requests.some((x) => x.url === '/download/drv-docs/i1')).toBe(true);
  });

  it('get_doc to a stored location stages through scratch; unknown library and path are clear errors', async () => {
    const uri = `${t.realm.s3_temp}/sp/b.xlsx`;
    const ok = await run('sharepoint_get_doc', 'sp/get-uri', { library: 'Documents', path: '/Reports/budget.xlsx', file: uri });
    expect(ok.status).toBe('complete');
    expect(fs.readFileSync(path.join(temp(), 'sp/b.xlsx'), 'utf8')).toContain('workbook');
    const lib = await run('sharepoint_get_doc', 'sp/get-nolib', { library: 'Nope', path: '/a', file: 'x', basedir: base });
    expect(lib.status).toBe('failed');
    expect(JSON.stringify(lib.last)).toContain('Unable to find SharePoint documentLibrary \\"Nope\\"');
    const missing = await run('sharepoint_get_doc', 'sp/get-nofile', {
      library: 'Documents',
      path: '/Reports/zz.txt',
      file: 'x',
      basedir: base,
    });
    expect(JSON.stringify(missing.last)).toContain('Download failed: Status 404');
    const rel = await run('sharepoint_get_doc', 'sp/get-rel', {
      library: 'Documents',
      path: 'Reports/a.csv',
      file: 'x',
      basedir: base,
    });
    expect(JSON.stringify(rel.last)).toContain('Reports/a.csv: Absolute path required');
  });

  it('get_multi_doc: files (not folders) matching the glob in any case, over paged children', async () => {
    const r = await run('sharepoint_get_multi_doc', 'sp/multi', {
      library: 'Documents',
      path: '/Reports/',
      outpath: 'many',
      glob: '*.csv',
      basedir: base,
    });
    expect(r.status).toBe('complete');
    expect((r.last.files as string[]).sort()).toEqual(['B.CSV', 'a.csv']);
    expect(fs.readdirSync(path.join(base, 'many')).sort()).toEqual(['B.CSV', 'a.csv']);
    expect(graphCalls().filter((c) => c.endsWith('/children')).length).toBeGreaterThan(2);
    const notFolder = await run('sharepoint_get_multi_doc', 'sp/multi-file', {
      library: 'Documents',
      path: '/Reports/a.csv',
      outpath: 'm2',
      basedir: base,
    });
    expect(JSON.stringify(notFolder.last)).toContain(
      'Path \\"/Reports/a.csv\\" in Sharepoint documentLibrary \\"Documents\\" is not a folder',
    );
    const uriOut = `${t.realm.s3_temp}/multi/`;
    const stored = await run('sharepoint_get_multi_doc', 'sp/multi-uri', {
      library: 'Documents',
      path: '/Reports',
      outpath: uriOut,
      glob: 'NOTES.*',
    });
    expect(stored.last.files).toEqual(['notes.txt']);
    expect(fs.readFileSync(path.join(temp(), 'multi/notes.txt'), 'utf8')).toBe('n');
  });

  it('put_doc: an upload session in 320 KiB fragments without Authorization, then the title; an empty file is a simple upload', async () => {
    const big = Buffer.alloc(700_000, 7);
    big.write('start');
    fs.writeFileSync(path.join(base, 'big.bin'), big);
    const r = await run('sharepoint_put_doc', 'sp/put', {
      library: 'Documents',
      path: '/Published/{{ vars.n }}.bin',
      file: 'big.bin',
      basedir: base,
      title: 'Big {{ vars.n }}',
      vars: { n: 'one' },
    });
    expect(r.status).toBe('complete');
    expect(r.last).toMatchObject({ source: 'big.bin', destination: '/Published/one.bin', library: 'Documents' });
    const item = g.drives.get('Documents')?.items.get('/Published/one.bin');
    expect(item?.content?.equals(big)).toBe(true);
    expect(item?.title).toBe('Big one');
    const session = g.requests.find((x) => x.url.includes('createUploadSession'));
    expect(JSON.parse(session?.body ?? '')).toEqual({ item: { '@microsoft.graph.conflictBehavior': 'replace' } });
    const puts = g.requests.filter((x) => x.url.startsWith('/upload/'));
    expect(puts.map((x) => x.contentRange)).toEqual([
      'bytes 0-327679/700000',
      'bytes 327680-655359/700000',
      'bytes 655360-699999/700000',
    ]);
    expect(puts.every((x) => x.authorization === undefined)).toBe(true);
    expect(graphCalls().at(-1)).toMatch(/^PATCH \/v1\.0\/drives\/drv-docs\/items\/\d+\/listitem\/fields$/);

    fs.writeFileSync(path.join(base, 'empty.txt'), '');
    g.requests.length = 0;
    const e = await run('sharepoint_put_doc', 'sp/put-empty', {
      library: 'Documents',
      path: '/Published/empty.txt',
      file: 'empty.txt',
      basedir: base,
    });
    expect(e.status).toBe('complete');
    expect(graphCalls()).toContain('PUT /v1.0/drives/drv-docs/root:/Published/empty.txt:/content');
  });

  it('get_list: standard columns by default, SP_LIST_* CSV defaults (| delimiter), row_count counts the header', async () => {
    const r = await run('sharepoint_get_list', 'sp/list', {
      list: 'Tasks',
      file: 'tasks.csv',
      basedir: base,
      system_columns: 'id, created, nosuch',
    });
    expect(r.status).toBe('complete');
    expect(r.last).toMatchObject({ row_count: 4, source: 'Tasks', destination: 'tasks.csv' });
    expect(fs.readFileSync(path.join(base, 'tasks.csv'), 'utf8')).toBe(
      // Owner and its OwnerLookupId companion are both standard columns (as upstream lists them).
      'Title|Done|Owner|OwnerLookupId|ID|Created\r\n' +
        'Plan|True||7|1|2024-05-01T00:00:00Z\r\n' +
        '"Do|it"|False|||2|2024-05-02T00:00:00Z\r\n' +
        'Check||||3|2024-05-03T00:00:00Z\r\n',
    );
    const items = g.requests.filter((x) => x.url.includes('/lists/lst-1/items'));
    expect(decodeURIComponent(items[0]?.url ?? '')).toBe(
      '/v1.0/sites/site-1/lists/lst-1/items?$expand=fields($select=Title,Done,Owner,OwnerLookupId,ID,Created)',
    );
    expect(items.length).toBe(3); // three pages of one item
    const csv = await run('sharepoint_get_list', 'sp/list-csv', {
      list: 'Tasks',
      file: 't2.csv',
      basedir: base,
      delimiter: ',',
      header: false,
      data_columns: 'done',
    });
    expect(csv.last.row_count).toBe(4);
    expect(fs.readFileSync(path.join(base, 't2.csv'), 'utf8')).toBe('True\r\nFalse\r\n""\r\n'); // Python's csv quotes a lone empty field
  });

  it('put_list: append (booleans converted) in JSON batches of 20, replace, update and delete by ID, and the checks', async () => {
    fs.writeFileSync(
      path.join(base, 'new.csv'),
      `Title|Done|Extra\n${Array.from({ length: 21 }, (_, i) => `T${i}|${i % 2 ? 'yes' : 'N'}|x`).join('\n')}\n`,
    );
    const r = await run('sharepoint_put_list', 'sp/put-list', { list: 'Tasks', file: 'new.csv', basedir: base });
    expect(r.status).toBe('complete');
    expect(r.last).toMatchObject({ row_count: 21, source: 'new.csv', destination: 'Tasks' });
    const batches = g.requests
      .filter((x) => x.url === '/v1.0/$batch')
      .map((x) => JSON.parse(x.body) as { requests: Array<Record<string, unknown>> });
    expect(batches.map((b) => b.requests.length)).toEqual([20, 1]);
    expect(batches[0]?.requests[1]).toEqual({
      id: '1',
      method: 'POST',
      url: '/sites/site-1/lists/lst-1/items',
      body: { fields: { Title: 'T1', Done: true } },
      headers: { 'Content-Type': 'application/json' },
    });
    expect(g.lists.get('Tasks')?.items.size).toBe(24);
    expect(lines.join('\n')).toMatch(/columns not in list .*Tasks.* are ignored: Extra/);

    fs.writeFileSync(path.join(base, 'rep.csv'), 'Title,Done\nOnly,1\n');
    const rep = await run('sharepoint_put_list', 'sp/put-replace', {
      list: 'Tasks',
      file: 'rep.csv',
      basedir: base,
      delimiter: ',',
      mode: 'replace',
    });
    expect(rep.status).toBe('complete');
    expect([...(g.lists.get('Tasks')?.items.values() ?? [])]).toEqual([{ Title: 'Only', Done: true }]);

    const [id] = [...(g.lists.get('Tasks')?.items.keys() ?? [])];
    fs.writeFileSync(path.join(base, 'upd.csv'), `ID,Title,Done\n${id},Renamed,\n`);
    expect(
      (
        await run('sharepoint_put_list', 'sp/put-update', {
          list: 'Tasks',
          file: 'upd.csv',
          basedir: base,
          delimiter: ',',
          mode: 'update',
        })
      ).status,
    ).toBe('complete');
    expect(g.lists.get('Tasks')?.items.get(id as string)).toEqual({ Title: 'Renamed' });
    expect(
      (
        await run('sharepoint_put_list', 'sp/put-delete', {
          list: 'Tasks',
          file: 'upd.csv',
          basedir: base,
          delimiter: ',',
          mode: 'delete',
        })
      ).status,
    ).toBe('complete');
    expect(g.lists.get('Tasks')?.items.size).toBe(0);

    fs.writeFileSync(path.join(base, 'noreq.csv'), 'Done\n1\n');
    const noreq = await run('sharepoint_put_list', 'sp/put-noreq', { list: 'Tasks', file: 'noreq.csv', basedir: base });
    expect(JSON.stringify(noreq.last)).toContain('Missing required column: title must be present in header');
    const noid = await run('sharepoint_put_list', 'sp/put-noid', {
      list: 'Tasks',
      file: 'noreq.csv',
      basedir: base,
      mode: 'update',
    });
    expect(JSON.stringify(noid.last)).toContain('Missing column: Mode update requires ID column to be present in header');
    const strict = await run('sharepoint_put_list', 'sp/put-strict', {
      list: 'Tasks',
      file: 'new.csv',
      basedir: base,
      error_missing: true,
    });
    expect(JSON.stringify(strict.last)).toContain('Columns present in file but not in SharePoint list: Extra');
    const mode = await run('sharepoint_put_list', 'sp/put-mode', {
      list: 'Tasks',
      file: 'new.csv',
      basedir: base,
      mode: 'upsert',
    });
    expect(JSON.stringify(mode.last)).toContain('Invalid mode: upsert');
  });

  it('429 with Retry-After is retried after Retry-After + 10 s + 15 s per retry, as upstream', async () => {
    g.throttle(2, '3');
    const r = await run('sharepoint_get_doc', 'sp/throttled', {
      library: 'Documents',
      path: '/Reports/a.csv',
      file: 'thr.csv',
      basedir: base,
    });
    expect(r.status).toBe('complete');
    expect(waits).toEqual([28, 43]);
    expect(lines.join('\n')).toContain('SharePoint: Throttled for the 2 time and waiting 43 seconds. Status 429.');
    waits.length = 0;
    g.throttle(1, '700');
    const tooLong = await run('sharepoint_get_doc', 'sp/throttled-long', {
      library: 'Documents',
      path: '/Reports/a.csv',
      file: 'thr.csv',
      basedir: base,
    });
    expect(JSON.stringify(tooLong.last)).toContain('MS Graph API Throttling delay was more than 661 seconds');
    expect(waits).toEqual([]);
  });

  it('a token near expiry is refreshed at the common endpoint, at most four times (upstream)', async () => {
    g.expiresIn = 200;
    const r = await run('sharepoint_get_doc', 'sp/refresh', {
      library: 'Documents',
      path: '/Reports/a.csv',
      file: 'ref.csv',
      basedir: base,
    });
    expect(r.status).toBe('complete');
    const tokenCalls = g.requests.filter((x) => x.url.endsWith('/oauth2/v2.0/token'));
    expect(tokenCalls.map((x) => `${x.url} ${new URLSearchParams(x.body).get('grant_type')}`)).toEqual([
      `/${CREDENTIALS.tenant}/oauth2/v2.0/token password`,
      ...Array.from({ length: 4 }, () => '/common/oauth2/v2.0/token refresh_token'),
    ]);
    // Each refresh sends the refresh token of the previous answer, and Graph then sees the new access token.
    expect(new URLSearchParams(tokenCalls[2]?.body).get('refresh_token')).toMatch(/^rt-\d+$/);
    expect(new Set(g.requests.filter((x) => x.url.startsWith('/v1.0/')).map((x) => x.authorization)).size).toBe(5);
  });

  it('bad credentials and a missing site fail with upstream texts; no secret or token anywhere', async () => {
    const bad = await run('sharepoint_get_doc', 'sp/badpw', {
      library: 'Documents',
      path: '/Reports/a.csv',
      file: 'x',
      basedir: base,
      conn_id: 'sp-bad',
    });
    expect(bad.status).toBe('failed');
    expect(JSON.stringify(bad.last)).toContain('Connection sp-bad: Invalid logon credentials: Status 400');
    const nosite = await run('sharepoint_get_doc', 'sp/nosite', {
      library: 'Documents',
      path: '/Reports/a.csv',
      file: 'x',
      basedir: base,
      conn_id: 'sp-nosite',
    });
    expect(JSON.stringify(nosite.last)).toContain('Unable to find SharePoint site_name \\"Nowhere\\": Status 404');
    await t.backend.config.put('test', 'connections', { conn_id: 'notsp', type: 'aws', enabled: true });
    const wrongType = await run('sharepoint_get_doc', 'sp/notsp', {
      library: 'Documents',
      path: '/a',
      file: 'x',
      basedir: base,
      conn_id: 'notsp',
    });
    expect(JSON.stringify(wrongType.last)).toContain('Connection notsp: Must be of type \\"sharepoint\\" not \\"aws\\"');
    const everything = JSON.stringify(await t.backend.events.query('test', { limit: 10_000 })) + lines.join('\n');
    for (const secret of [CREDENTIALS.client_secret, CREDENTIALS.password, 'Not-The-Password-1a'])
      expect(everything).not.toContain(secret);
    expect(everything).not.toMatch(/\bat-\d+/);
    expect(everything).not.toMatch(/\brt-\d+/);
  });

  it('lava conn test signs in and finds the site; https_proxy is refused by the check', async () => {
    const opts = { backend: t.backend, realm: 'test' };
    const c = await resolveConnection('sp', opts);
    expect(await sharepointConnector.test?.(c)).toBe(`sp (sharepoint): signed in as ${CREDENTIALS.user} and found site Finance`);
    await expect(sharepointConnector.writeCli(c, {} as never, { lavaCommand: [] })).rejects.toThrow(
      /lava-sharepoint CLI connector is not in this build/,
    );
    expect(sharepointConnector.check?.({ https_proxy: 'http://proxy:3128' })).toEqual([
      expect.stringMatching(/^https_proxy is not supported/),
    ]);
  });

  it('runs the examples of docs/job-types/sharepoint.md (examples/docs/sharepoint.yaml)', async () => {
    const specs = YAML.parse(fs.readFileSync('examples/docs/sharepoint.yaml', 'utf8')) as Array<Record<string, unknown>>;
    fs.mkdirSync(path.join(temp(), 'sharepoint'), { recursive: true });
    fs.writeFileSync(path.join(temp(), 'sharepoint/summary.csv'), 'total\n42\n');
    fs.writeFileSync(path.join(temp(), 'sharepoint/new-tasks.csv'), 'Title,Done\nShip,no\n');
    const results: Record<string, Record<string, unknown>> = {};
    for (const spec of specs) {
      const r = await run(String(spec.type), String(spec.job_id), {
        ...(spec.parameters as Record<string, unknown>),
        conn_id: 'sp',
      });
      expect(r.status, String(spec.job_id)).toBe('complete');
      results[String(spec.job_id)] = r.last;
    }
    expect(fs.readFileSync(path.join(temp(), 'sharepoint/budget.xlsx'), 'utf8')).toContain('workbook');
    expect((results['docs/sharepoint/get-multi-doc']?.files as string[]).sort()).toEqual(['B.CSV', 'a.csv']);
    expect(g.drives.get('Documents')?.items.get('/Published/summary-2024-05-01.csv')?.title).toBe('Summary for 2024-05-01');
    expect(fs.readFileSync(path.join(temp(), 'sharepoint/tasks.csv'), 'utf8')).toBe(
      'Title,Done,ID\r\nPlan,True,1\r\nDo|it,False,2\r\nCheck,,3\r\n',
    );
    expect([...(g.lists.get('Tasks')?.items.values() ?? [])]).toEqual([{ Title: 'Ship', Done: false }]);
  });
});
