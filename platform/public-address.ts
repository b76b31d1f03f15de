import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

type Family = 'ipv4' | 'ipv6';
const subnets = (list: Array<[string, number, Family]>) => {
  const block = new BlockList();
  for (const [address, prefix, family] of list) block.addSubnet(address, prefix, family);
  return block;
};

// Refused even in development: nothing legitimate receives webhooks there, and cloud metadata
// services (169.254.169.254, fd00:ec2::254, 100.100.100.200) hand out credentials.
const NEVER = subnets([
  ['0.0.0.0', 8, 'ipv4'],
  ['169.254.0.0', 16, 'ipv4'],
  ['224.0.0.0', 4, 'ipv4'],
  ['240.0.0.0', 4, 'ipv4'],
  ['100.100.100.200', 32, 'ipv4'],
  ['::', 128, 'ipv6'],
  ['fe80::', 10, 'ipv6'],
  ['ff00::', 8, 'ipv6'],
  ['fd00:ec2::254', 128, 'ipv6'],
]);

// Loopback, RFC 1918, CGNAT, IETF-reserved and benchmarking ranges, unique-local and NAT64 (which
// embeds any IPv4 address): allowed only with RAMPART_WEBHOOKS_ALLOW_PRIVATE.
const PRIVATE = subnets([
  ['127.0.0.0', 8, 'ipv4'],
  ['10.0.0.0', 8, 'ipv4'],
  ['172.16.0.0', 12, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'],
  ['100.64.0.0', 10, 'ipv4'],
  ['192.0.0.0', 24, 'ipv4'],
  ['198.18.0.0', 15, 'ipv4'],
  ['::1', 128, 'ipv6'],
  ['fc00::', 7, 'ipv6'],
  ['64:ff9b::', 96, 'ipv6'],
]);

/** Why a receiver may not be dialed at this address, or null when it may (IPv4-mapped IPv6 counts as IPv4). */
export function forbiddenAddress(address: string, allowPrivate: boolean): string | null {
  const version = isIP(address);
  if (version === 0) return `${address} is not an IP address`;
  const family: Family = version === 4 ? 'ipv4' : 'ipv6';
  if (NEVER.check(address, family)) return `${address} is a link-local, multicast, unspecified or metadata address`;
  if (!allowPrivate && PRIVATE.check(address, family)) return `${address} is a loopback or private address`;
  return null;
}

/** The literal address a URL names, without IPv6 brackets; null for a DNS name. */
export function literalHost(url: URL): string | null {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return isIP(host) === 0 ? null : host;
}

/** What is wrong with a receiver URL before any DNS: scheme, credentials, a forbidden literal address. */
export function receiverUrlProblem(raw: string, allowPrivate: boolean): string | null {
  const url = new URL(raw);
  if (url.protocol !== 'https:' && !(allowPrivate && url.protocol === 'http:')) return 'must be an https URL';
  if (url.username || url.password) return 'must not carry credentials before the host; put them in the path or query';
  const literal = literalHost(url);
  return literal === null ? null : forbiddenAddress(literal, allowPrivate);
}

/**
 * Scheme, host and port only: webhook URLs are often the credential (chat webhooks carry their
 * token in the path), so errors, logs, audit entries and read-only callers get this instead.
 */
export function redactUrl(raw: string): string {
  try {
    const url = new URL(raw);
    const rest = url.pathname !== '/' || url.search !== '' ? '/…' : '/';
    return `${url.protocol}//${url.host}${rest}`;
  } catch {
    return '(invalid URL)';
  }
}

export class ForbiddenAddressError extends Error {
  readonly code = 'EFORBIDDENADDRESS';
}

/**
 * A `lookup` for `http.request` that refuses forbidden answers: the check runs on the addresses the
 * socket is about to dial, so a DNS answer that changes between a check and the dial cannot slip
 * through. Any forbidden answer refuses the whole name, so a mixed answer cannot be raced either.
 */
export function guardedLookup(allowPrivate: boolean, lookup: LookupFunction = dnsLookup): LookupFunction {
  return (hostname, options, callback) => {
    lookup(hostname, { ...options, all: true }, (err, answer) => {
      if (err) return callback(err, '', 0);
      const addresses = answer as unknown as LookupAddress[];
      const problem = addresses.length === 0 ? `${hostname} has no address` : addresses.map((a) => forbiddenAddress(a.address, allowPrivate)).find((p) => p !== null);
      if (problem) return callback(new ForbiddenAddressError(`refused to dial ${hostname}: ${problem}`), '', 0);
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}
