import { describe, expect, it } from 'vitest';
import { createSecretBox, newSecretsKey } from '../../../platform/secret-box';

describe(createSecretBox.name, () => {
  const box = createSecretBox(newSecretsKey());

  it('seals with a fresh nonce each time and opens what it sealed', () => {
    const a = box.seal('https://hooks.slack.com/services/T0/B0/secret');
    const b = box.seal('https://hooks.slack.com/services/T0/B0/secret');
    expect(a).not.toBe(b);
    expect(a).not.toContain('slack');
    expect(box.open(a)).toBe('https://hooks.slack.com/services/T0/B0/secret');
  });

  it('reads rows written before sealing as they are', () => {
    expect(box.open('whsec_plain')).toBe('whsec_plain');
  });

  it('refuses tampered values and values sealed with another key', () => {
    const sealed = box.seal('secret');
    expect(() => box.open(`${sealed.slice(0, -2)}AA`)).toThrow();
    expect(() => createSecretBox(newSecretsKey()).open(sealed)).toThrow();
  });
});
