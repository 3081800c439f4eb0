/**
 * Secrets in SSM Parameter Store: SecureString parameters named `/lava/<realm>/<name>` (upstream's IAM
 * convention), so a parameter made in the console or by upstream tooling is read as it is.
 *
 * `secure` state items are encrypted with AES-256-GCM (the same `v1:` format as the other backends)
 * under a per-realm data key kept as the SecureString `/lava/<realm>/.state-key`, made on first use.
 * Real deployments may prefer KMS Encrypt/Decrypt with `alias/lava-<realm>-sys` (upstream's scheme);
 * that needs @aws-sdk/client-kms, which this build does not ship.
 */
import { randomBytes } from 'node:crypto';
import {
  DeleteParameterCommand,
  GetParameterCommand,
  GetParametersByPathCommand,
  PutParameterCommand,
} from '@aws-sdk/client-ssm';
import { LavaError, ValidationError } from '../../core/errors.js';
import { decryptSecret, encryptSecret } from '../crypto.js';
import type { SecretStore } from '../ports.js';
import { isAwsError, type AwsClients } from './clients.js';

export const STATE_KEY_NAME = '.state-key';

export function parameterPath(realm: string): string {
  return `/lava/${realm}`;
}

export class AwsSecretStore implements SecretStore {
  private readonly keys = new Map<string, Promise<Buffer>>();

  constructor(private readonly clients: AwsClients) {}

  private keyId(realm: string): string | undefined {
    return this.clients.opts.ssmKeyId?.replaceAll('{realm}', realm);
  }

  private name(realm: string, name: string): string {
    if (!name || name === STATE_KEY_NAME || !/^[A-Za-z0-9_.\-/]+$/.test(name) || name.startsWith('/') || name.includes('//')) {
      throw new ValidationError(
        `secret name "${name}" cannot be an SSM parameter name under ${parameterPath(realm)}/: ` +
          `use letters, digits and _ . - /, not starting with / (and not "${STATE_KEY_NAME}", which holds the state key)`,
      );
    }
    return `${parameterPath(realm)}/${name}`;
  }

  async get(realm: string, name: string): Promise<string | undefined> {
    try {
      const r = await this.clients.ssm.send(new GetParameterCommand({ Name: this.name(realm, name), WithDecryption: true }));
      return r.Parameter?.Value;
    } catch (err) {
      if (isAwsError(err, 'ParameterNotFound')) return undefined;
      throw err;
    }
  }

  async put(realm: string, name: string, value: string): Promise<void> {
    if (value === '') {
      throw new ValidationError(`secret "${name}" is empty: SSM Parameter Store cannot hold an empty value`);
    }
    const keyId = this.keyId(realm);
    await this.clients.ssm.send(
      new PutParameterCommand({
        Name: this.name(realm, name),
        Value: value,
        Type: 'SecureString',
        Overwrite: true,
        ...(keyId ? { KeyId: keyId } : {}),
      }),
    );
  }

  async delete(realm: string, name: string): Promise<boolean> {
    try {
      await this.clients.ssm.send(new DeleteParameterCommand({ Name: this.name(realm, name) }));
      return true;
    } catch (err) {
      if (isAwsError(err, 'ParameterNotFound')) return false;
      throw err;
    }
  }

  async list(realm: string): Promise<string[]> {
    const root = `${parameterPath(realm)}/`;
    const names: string[] = [];
    let token: string | undefined;
    do {
      const r = await this.clients.ssm.send(
        new GetParametersByPathCommand({
          Path: parameterPath(realm),
          Recursive: true,
          WithDecryption: false,
          MaxResults: 10,
          ...(token ? { NextToken: token } : {}),
        }),
      );
      for (const p of r.Parameters ?? []) {
        if (p.Name?.startsWith(root)) names.push(p.Name.slice(root.length));
      }
      token = r.NextToken;
    } while (token);
    return names.filter((n) => n !== STATE_KEY_NAME).sort();
  }

  async encrypt(realm: string, plaintext: string): Promise<string> {
    return encryptSecret(await this.stateKey(realm, true), realm, plaintext);
  }

  async decrypt(realm: string, ciphertext: string): Promise<string> {
    const key = await this.stateKey(realm, false);
    return decryptSecret(() => key, realm, ciphertext);
  }

  /** The realm's data key: read it, or (for encrypt) create it if no process has yet. */
  private stateKey(realm: string, create: boolean): Promise<Buffer> {
    let p = this.keys.get(realm);
    if (!p) {
      p = this.loadKey(realm, create);
      this.keys.set(realm, p);
      p.catch(() => this.keys.delete(realm));
    }
    return p;
  }

  private async loadKey(realm: string, create: boolean): Promise<Buffer> {
    const Name = `${parameterPath(realm)}/${STATE_KEY_NAME}`;
    const read = async (): Promise<Buffer | undefined> => {
      try {
        const r = await this.clients.ssm.send(new GetParameterCommand({ Name, WithDecryption: true }));
        const key = Buffer.from(r.Parameter?.Value ?? '', 'base64');
        if (key.length !== 32) throw new LavaError('LAVA_SECRET', `SSM parameter ${Name} must hold 32 bytes, base64-encoded`);
        return key;
      } catch (err) {
        if (isAwsError(err, 'ParameterNotFound')) return undefined;
        throw err;
      }
    };
    const existing = await read();
    if (existing) return existing;
    if (!create) {
      throw new LavaError(
        'LAVA_SECRET',
        `cannot decrypt: realm "${realm}" has no state key yet (SSM parameter ${Name}); nothing was encrypted with it`,
      );
    }
    const keyId = this.keyId(realm);
    try {
      // Overwrite false: if two processes race, one key wins and both use it.
      await this.clients.ssm.send(
        new PutParameterCommand({
          Name,
          Value: randomBytes(32).toString('base64'),
          Type: 'SecureString',
          Overwrite: false,
          Description: 'Lava: data key for secure state items of this realm (do not delete: they could not be decrypted)',
          ...(keyId ? { KeyId: keyId } : {}),
        }),
      );
    } catch (err) {
      if (!isAwsError(err, 'ParameterAlreadyExists')) throw err;
    }
    const made = await read();
    if (!made) throw new LavaError('LAVA_SECRET', `SSM parameter ${Name} vanished right after it was created`);
    return made;
  }
}
