import { readFileSync } from 'node:fs';
import type { TLSConfig } from '@temporalio/client';
import type { TemporalConfig } from './config';

export interface TemporalConnectionOptions {
  address: string;
  tls?: TLSConfig;
  apiKey?: string;
}

/** Options accepted by both the client `Connection` and the worker's `NativeConnection`. */
export function temporalConnectionOptions(config: TemporalConfig): TemporalConnectionOptions {
  const options: TemporalConnectionOptions = { address: config.address };
  if (config.tls) {
    const tls: TLSConfig = {};
    if (config.tls.caPath) tls.serverRootCACertificate = readFileSync(config.tls.caPath);
    if (config.tls.certPath && config.tls.keyPath) {
      tls.clientCertPair = { crt: readFileSync(config.tls.certPath), key: readFileSync(config.tls.keyPath) };
    }
    options.tls = tls;
  }
  if (config.apiKey) options.apiKey = config.apiKey;
  return options;
}
