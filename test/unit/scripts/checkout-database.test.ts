import { describe, expect, it } from 'vitest';
import { checkoutDatabaseName } from '../../../scripts/support/checkout-database';

describe(checkoutDatabaseName.name, () => {
  it('gives two checkouts of the same name on one machine databases of their own', () => {
    const a = checkoutDatabaseName('/home/ana/work/rampart');
    const b = checkoutDatabaseName('/home/ana/review/rampart');
    expect(a).not.toBe(b);
    expect(a).toMatch(/^rampart_rampart_[0-9a-f]{8}$/);
    expect(checkoutDatabaseName('/home/ana/work/rampart/')).toBe(a);
  });

  it('stays a plain PostgreSQL identifier whatever the folder is called', () => {
    for (const root of ['/tmp/Ünïcode Folder (2)', '/tmp/-', `/tmp/${'x'.repeat(200)}`]) {
      const name = checkoutDatabaseName(root);
      expect(name).toMatch(/^[a-z_][a-z0-9_]*$/);
      expect(name.length).toBeLessThanOrEqual(63);
    }
  });
});
