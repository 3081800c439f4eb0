/**
 * The docker job's `host_config`: upstream's allow-list of docker-py `containers.run()` keyword
 * arguments, translated to the Docker Engine API's container-create body. Keys outside the list
 * (privileged, volumes, binds, devices, pid_mode, security_opt, labels, …) are refused, so a job can
 * never replace the scratch bind mount, the labels, the name or the environment.
 */
import { JobError } from '../../core/errors.js';

export const HOST_CONFIG_KEYS: readonly string[] = [
  'blkio_weight',
  'blkio_weight_device',
  'cap_add',
  'cap_drop',
  'cpu_count',
  'cpu_percent',
  'cpu_period',
  'cpu_quota',
  'cpu_shares',
  'cpuset_cpus',
  'cpuset_mems',
  'device_read_bps',
  'device_read_iops',
  'device_write_bps',
  'device_write_iops',
  'dns',
  'dns_opt',
  'dns_search',
  'domainname',
  'extra_hosts',
  'hostname',
  'group_add',
  'mem_limit',
  'mem_swappiness',
  'memswap_limit',
  'nano_cpus',
  'network_disabled',
  'network_mode',
  'ports',
  'publish_all_ports',
  'shm_size',
  'user',
  'working_dir',
];

/** The parts of the container-create body that `host_config` sets. */
export interface ContainerSettings {
  config: Record<string, unknown>;
  hostConfig: Record<string, unknown>;
}

const BYTE_UNITS: Record<string, number> = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** docker-py's byte sizes: an integer, or "512m", "1g", "100k", "10b" (powers of 1024). */
export function dockerBytes(value: unknown, field: string): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value;
  if (typeof value === 'string') {
    const m = /^\s*(\d+(?:\.\d+)?)\s*([bkmg])?b?\s*$/i.exec(value);
    if (m) return Math.round(Number(m[1]) * (BYTE_UNITS[(m[2] ?? 'b').toLowerCase()] ?? 1));
  }
  throw new JobError(`host_config.${field}: bad size ${JSON.stringify(value)}: use bytes or e.g. "512m", "2g"`);
}

function int(value: unknown, field: string): number {
  const n = typeof value === 'string' && /^\s*-?\d+\s*$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n)) throw new JobError(`host_config.${field} must be an integer`);
  return n;
}

function bool(value: unknown, field: string): boolean {
  if (typeof value !== 'boolean') throw new JobError(`host_config.${field} must be true or false`);
  return value;
}

function str(value: unknown, field: string): string {
  if (typeof value === 'number') return String(value);
  if (typeof value !== 'string') throw new JobError(`host_config.${field} must be a string`);
  return value;
}

function strList(value: unknown, field: string): string[] {
  if (!Array.isArray(value)) throw new JobError(`host_config.${field} must be a list`);
  return value.map((v, i) => str(v, `${field}[${i}]`));
}

/** device_read_bps and friends: [{Path, Rate}] (docker-py's shape). */
function throttle(value: unknown, field: string): Array<{ Path: string; Rate: number }> {
  if (!Array.isArray(value)) throw new JobError(`host_config.${field} must be a list of {Path, Rate}`);
  return value.map((v: unknown, i) => {
    const d = v as { Path?: unknown; Rate?: unknown };
    if (!d || typeof d !== 'object') throw new JobError(`host_config.${field}[${i}] must be {Path, Rate}`);
    return { Path: str(d.Path, `${field}[${i}].Path`), Rate: int(d.Rate, `${field}[${i}].Rate`) };
  });
}

/** docker-py's `ports`: {"80/tcp": 8080 | "8080" | [ip, port] | [port, …] | null}. */
function ports(value: unknown): {
  exposed: Record<string, object>;
  bindings: Record<string, Array<{ HostIp?: string; HostPort?: string }>>;
} {
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new JobError('host_config.ports must be a map of "port[/protocol]": host port');
  }
  const exposed: Record<string, object> = {};
  const bindings: Record<string, Array<{ HostIp?: string; HostPort?: string }>> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (!/^\d+(\/(tcp|udp|sctp))?$/.test(k))
      throw new JobError(`host_config.ports: bad container port "${k}": use e.g. "80/tcp"`);
    const key = k.includes('/') ? k : `${k}/tcp`;
    exposed[key] = {};
    if (v === null) continue;
    const one = (p: unknown) => ({ HostPort: str(p, `ports.${k}`) });
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && !/^\d+$/.test(v[0])) {
      bindings[key] = [{ HostIp: v[0], HostPort: str(v[1], `ports.${k}`) }];
    } else if (Array.isArray(v)) {
      bindings[key] = v.map(one);
    } else bindings[key] = [one(v)];
  }
  return { exposed, bindings };
}

/** docker-py's `extra_hosts`: {host: ip} or ["host:ip"]. */
function extraHosts(value: unknown): string[] {
  if (Array.isArray(value)) return strList(value, 'extra_hosts');
  if (value && typeof value === 'object') return Object.entries(value).map(([h, ip]) => `${h}:${str(ip, `extra_hosts.${h}`)}`);
  throw new JobError('host_config.extra_hosts must be a map of host: ip');
}

/** Translate a checked `host_config` (upstream's defaults already filled in). */
export function containerSettings(hc: Record<string, unknown>): ContainerSettings {
  const unknown = Object.keys(hc).filter((k) => !HOST_CONFIG_KEYS.includes(k));
  if (unknown.length) {
    throw new JobError(
      `Bad host_config parameters: Unexpected keys: ${unknown.sort().join(', ')}; allowed: ${HOST_CONFIG_KEYS.join(', ')}`,
    );
  }
  const config: Record<string, unknown> = {};
  const h: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(hc)) {
    if (v === undefined) continue;
    switch (k) {
      case 'hostname':
        config.Hostname = str(v, k);
        break;
      case 'domainname':
        config.Domainname = str(v, k);
        break;
      case 'user':
        config.User = str(v, k);
        break;
      case 'working_dir':
        config.WorkingDir = str(v, k);
        break;
      case 'network_disabled':
        config.NetworkDisabled = bool(v, k);
        break;
      case 'ports': {
        const p = ports(v);
        config.ExposedPorts = p.exposed;
        h.PortBindings = p.bindings;
        break;
      }
      case 'blkio_weight':
        h.BlkioWeight = int(v, k);
        break;
      case 'blkio_weight_device':
        if (!Array.isArray(v)) throw new JobError('host_config.blkio_weight_device must be a list of {Path, Weight}');
        h.BlkioWeightDevice = v.map((d: { Path?: unknown; Weight?: unknown }, i) => ({
          Path: str(d?.Path, `${k}[${i}].Path`),
          Weight: int(d?.Weight, `${k}[${i}].Weight`),
        }));
        break;
      case 'cap_add':
        h.CapAdd = strList(v, k);
        break;
      case 'cap_drop':
        h.CapDrop = strList(v, k);
        break;
      case 'cpu_count':
        h.CpuCount = int(v, k);
        break;
      case 'cpu_percent':
        h.CpuPercent = int(v, k);
        break;
      case 'cpu_period':
        h.CpuPeriod = int(v, k);
        break;
      case 'cpu_quota':
        h.CpuQuota = int(v, k);
        break;
      case 'cpu_shares':
        h.CpuShares = int(v, k);
        break;
      case 'cpuset_cpus':
        h.CpusetCpus = str(v, k);
        break;
      case 'cpuset_mems':
        h.CpusetMems = str(v, k);
        break;
      case 'device_read_bps':
        h.BlkioDeviceReadBps = throttle(v, k);
        break;
      case 'device_read_iops':
        h.BlkioDeviceReadIOps = throttle(v, k);
        break;
      case 'device_write_bps':
        h.BlkioDeviceWriteBps = throttle(v, k);
        break;
      case 'device_write_iops':
        h.BlkioDeviceWriteIOps = throttle(v, k);
        break;
      case 'dns':
        h.Dns = strList(v, k);
        break;
      case 'dns_opt':
        h.DnsOptions = strList(v, k);
        break;
      case 'dns_search':
        h.DnsSearch = strList(v, k);
        break;
      case 'extra_hosts':
        h.ExtraHosts = extraHosts(v);
        break;
      case 'group_add':
        h.GroupAdd = strList(v, k);
        break;
      case 'mem_limit':
        h.Memory = dockerBytes(v, k);
        break;
      case 'mem_swappiness':
        h.MemorySwappiness = int(v, k);
        break;
      case 'memswap_limit':
        h.MemorySwap = typeof v === 'number' && v === -1 ? -1 : dockerBytes(v, k);
        break;
      case 'nano_cpus':
        h.NanoCpus = int(v, k);
        break;
      case 'network_mode':
        h.NetworkMode = str(v, k);
        break;
      case 'publish_all_ports':
        h.PublishAllPorts = bool(v, k);
        break;
      case 'shm_size':
        h.ShmSize = dockerBytes(v, k);
        break;
    }
  }
  return { config, hostConfig: h };
}
