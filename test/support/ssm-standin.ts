/**
 * TEST STAND-IN for AWS Systems Manager Parameter Store — not an emulator of all of SSM.
 *
 * It exists because no SSM emulator can run on this machine (no LocalStack/moto: no containers
 * registry, no Python packages), so the AWS backend's SecretStore is tested against this tiny HTTP
 * server at the SDK boundary instead: the real @aws-sdk/client-ssm talks to it over the SSM JSON
 * protocol (`POST /`, `x-amz-target: AmazonSSM.<Operation>`, `application/x-amz-json-1.1`).
 *
 * It speaks only PutParameter, GetParameter, GetParametersByPath and DeleteParameter, with SSM's
 * documented rules that matter to Lava: names are `/`-qualified paths of [A-Za-z0-9_.-/]; values are
 * 1..4096 characters (an empty value is a ValidationException); Overwrite=false on an existing name is
 * ParameterAlreadyExists; a missing name is ParameterNotFound; GetParametersByPath pages by at most
 * 10 (MaxResults) with NextToken; SecureString values come back as opaque ciphertext unless
 * WithDecryption is true. Everything is kept in memory.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

interface Param {
  Name: string;
  Type: 'String' | 'StringList' | 'SecureString';
  Value: string;
  Version: number;
  LastModifiedDate: number;
  KeyId?: string;
}

export interface SsmStandin {
  endpoint: string;
  /** The parameters, by name (tests may look inside). */
  params: Map<string, Param>;
  /** Operation names received, in order. */
  calls: string[];
  stop(): Promise<void>;
}

class SsmError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

const NAME_RE = /^[A-Za-z0-9_.\-/]+$/;

function checkName(name: unknown): string {
  if (typeof name !== 'string' || !name) throw new SsmError('ValidationException', 'Parameter name must not be empty');
  if (name.length > 1011 || !NAME_RE.test(name)) {
    throw new SsmError(
      'ValidationException',
      `Parameter name: can't be prefixed with "aws" or "ssm" (case-insensitive) and must match [a-zA-Z0-9_.-/]`,
    );
  }
  if (name.includes('/') && !name.startsWith('/')) {
    throw new SsmError('ValidationException', 'Parameter name must be a fully qualified name.');
  }
  if (/^\/?(aws|ssm)/i.test(name)) throw new SsmError('ValidationException', 'Parameter name: cannot start with aws or ssm');
  return name;
}

const ciphertext = (p: Param) => `AQICAH-standin-ciphertext-${Buffer.from(p.Value).toString('base64')}`;

function view(p: Param, decrypt: boolean) {
  return {
    Name: p.Name,
    Type: p.Type,
    Value: p.Type === 'SecureString' && !decrypt ? ciphertext(p) : p.Value,
    Version: p.Version,
    LastModifiedDate: p.LastModifiedDate,
    ARN: `arn:aws:ssm:us-east-1:123456789012:parameter${p.Name.startsWith('/') ? '' : '/'}${p.Name}`,
    DataType: 'text',
  };
}

export async function startSsmStandin(): Promise<SsmStandin> {
  const params = new Map<string, Param>();
  const calls: string[] = [];

  const ops: Record<string, (b: Record<string, unknown>) => unknown> = {
    PutParameter(b) {
      const Name = checkName(b.Name);
      const Value = b.Value;
      if (typeof Value !== 'string' || Value.length < 1 || Value.length > 4096) {
        throw new SsmError(
          'ValidationException',
          "1 validation error detected: Value at 'value' failed to satisfy constraint: Member must have length greater than or equal to 1",
        );
      }
      const old = params.get(Name);
      if (old && b.Overwrite !== true) {
        throw new SsmError(
          'ParameterAlreadyExists',
          'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.',
        );
      }
      const Type = (b.Type as Param['Type'] | undefined) ?? old?.Type ?? 'String';
      const p: Param = {
        Name,
        Type,
        Value,
        Version: (old?.Version ?? 0) + 1,
        LastModifiedDate: Date.now() / 1000,
        ...(typeof b.KeyId === 'string' ? { KeyId: b.KeyId } : {}),
      };
      params.set(Name, p);
      return { Version: p.Version, Tier: 'Standard' };
    },
    GetParameter(b) {
      const p = params.get(checkName(b.Name));
      if (!p) throw new SsmError('ParameterNotFound', '');
      return { Parameter: view(p, b.WithDecryption === true) };
    },
    DeleteParameter(b) {
      const name = checkName(b.Name);
      if (!params.delete(name)) throw new SsmError('ParameterNotFound', '');
      return {};
    },
    GetParametersByPath(b) {
      const path = b.Path;
      if (typeof path !== 'string' || !path.startsWith('/')) {
        throw new SsmError('ValidationException', 'The parameter path must start with "/"');
      }
      const max = b.MaxResults === undefined ? 10 : Number(b.MaxResults);
      if (!Number.isInteger(max) || max < 1 || max > 10) {
        throw new SsmError('ValidationException', "Value at 'maxResults' failed to satisfy constraint: Member must be <= 10");
      }
      const root = path.endsWith('/') ? path : `${path}/`;
      const all = [...params.values()]
        .filter((p) => p.Name.startsWith(root) && (b.Recursive === true || !p.Name.slice(root.length).includes('/')))
        .sort((x, y) => (x.Name < y.Name ? -1 : 1));
      const start = typeof b.NextToken === 'string' ? Number(Buffer.from(b.NextToken, 'base64').toString()) : 0;
      const page = all.slice(start, start + max);
      const next = start + max < all.length ? Buffer.from(String(start + max)).toString('base64') : undefined;
      return { Parameters: page.map((p) => view(p, b.WithDecryption === true)), ...(next ? { NextToken: next } : {}) };
    },
  };

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const op = target.startsWith('AmazonSSM.') ? target.slice('AmazonSSM.'.length) : '';
      calls.push(op || target);
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': `standin-${calls.length}` });
        res.end(JSON.stringify(body));
      };
      try {
        const fn = ops[op];
        if (!fn)
          throw new SsmError('UnknownOperationException', `the SSM stand-in does not implement ${target || 'this request'}`);
        const body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>) : {};
        reply(200, fn(body));
      } catch (err) {
        if (err instanceof SsmError) reply(400, { __type: err.type, message: err.message });
        else reply(500, { __type: 'InternalServerError', message: String(err) });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    params,
    calls,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
