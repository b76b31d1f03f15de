import type { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { Logger } from './logger';
import { RELEASE_SEARCH_ATTRIBUTES } from '../domain/search-attributes';

/**
 * Registers our Keyword search attributes on clusters that lack them (docker-compose, a fresh
 * self-hosted cluster). Where the caller may not (Temporal Cloud keys often cannot), it says how.
 */
export async function ensureSearchAttributes(connection: Connection, namespace: string, logger: Logger): Promise<void> {
  const names = [...RELEASE_SEARCH_ATTRIBUTES];
  try {
    const existing = await connection.operatorService.listSearchAttributes({ namespace });
    const known = new Set([...Object.keys(existing.customAttributes ?? {}), ...Object.keys(existing.systemAttributes ?? {})]);
    const missing = names.filter((name) => !known.has(name));
    if (missing.length === 0) return;
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map((name) => [name, temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD])),
    });
    logger.info({ added: missing, namespace }, 'registered search attributes');
  } catch (err) {
    logger.warn(
      { err, namespace, attributes: names },
      `could not register search attributes; create them once with: ${names.map((n) => `temporal operator search-attribute create --name ${n} --type Keyword`).join(' && ')}`,
    );
  }
}
