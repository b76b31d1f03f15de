import { randomBytes } from 'node:crypto';

export type ExpoPartName = 'manifest' | 'extensions' | 'directive';

export interface ExpoPart {
  name: ExpoPartName;
  /** JSON text of the part. */
  body: string;
  /** The `expo-signature` header value, when the client asked for one. */
  signature: string | null;
}

/**
 * A `multipart/mixed` body (RFC 2046 §5.1) with the part headers Expo Updates v1 requires. The
 * boundary is random, so no asset URL or metadata value can end a part early.
 */
export function expoMultipart(parts: readonly ExpoPart[]): { contentType: string; body: Buffer } {
  const boundary = `rampart-${randomBytes(12).toString('hex')}`;
  const chunks = parts.map((part) => {
    const headers = [`content-disposition: inline; name="${part.name}"`, 'content-type: application/json'];
    if (part.signature !== null) headers.push(`expo-signature: ${part.signature}`);
    return `--${boundary}\r\n${headers.join('\r\n')}\r\n\r\n${part.body}\r\n`;
  });
  return { contentType: `multipart/mixed; boundary=${boundary}`, body: Buffer.from(`${chunks.join('')}--${boundary}--\r\n`) };
}
