/**
 * Small numbers standing for strings, so a device table can keep which version, platform, channel or
 * release it last wrote for a device in an int32 column: a fleet has a handful of distinct values,
 * shared by millions of devices. 0 stands for null. At most `maxStrings` are remembered (device input
 * is untrusted); beyond, all are forgotten and codes go on from where they were, so a code kept from
 * before matches no string again. Only after 2^31 codes do they start over and an old code may match
 * a new string: callers keep strings devices send apart from their own, whose codes never get there.
 */
export interface StringCodes {
  code(value: string | null): number;
}

export const NULL_CODE = 0;

export function createStringCodes(maxStrings: number): StringCodes {
  const codes = new Map<string, number>();
  let next = NULL_CODE + 1;
  return {
    code(value) {
      if (value === null) return NULL_CODE;
      let code = codes.get(value);
      if (code === undefined) {
        if (codes.size >= maxStrings) codes.clear();
        // Past 2^31 codes (billions of distinct strings) they start over: an int32 column holds them.
        if (next > 0x7fffffff) next = NULL_CODE + 1;
        codes.set(value, (code = next++));
      }
      return code;
    },
  };
}
