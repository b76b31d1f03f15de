import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createStringCodes, NULL_CODE } from '../../../api/device/string-codes';

describe(createStringCodes.name, () => {
  it('gives one code per string and null its own', () => {
    const codes = createStringCodes(10);
    const a = codes.code('3.1.0');
    expect(codes.code('3.1.0')).toBe(a);
    expect(codes.code('3.2.0')).not.toBe(a);
    expect(codes.code(null)).toBe(NULL_CODE);
    expect(a).not.toBe(NULL_CODE);
  });

  it('never gives a code it gave one string to another, however many strings it had to forget', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 3 }), { maxLength: 300 }), fc.integer({ min: 1, max: 8 }), (values, max) => {
        const codes = createStringCodes(max);
        const ownerOf = new Map<number, string>();
        for (const value of values) {
          const code = codes.code(value);
          expect(ownerOf.get(code) ?? value).toBe(value);
          ownerOf.set(code, value);
        }
      }),
    );
  });
});
