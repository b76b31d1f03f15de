import { describe, expect, it } from 'vitest';
import { href, parseRoute } from '../../../ui/src/routes';
import { describeRule } from '../../../ui/src/rule-text';

describe('dashboard routes', () => {
  it('reads every page from its path, and builds the same paths back', () => {
    expect(parseRoute('/')).toEqual({ page: 'apps' });
    expect(parseRoute('/ui/')).toEqual({ page: 'apps' });
    expect(parseRoute(href.release('01jabc'))).toEqual({ page: 'release', id: '01jabc' });
    expect(parseRoute(href.device('com.example.app'))).toEqual({ page: 'device', appId: 'com.example.app', deviceId: null });
    expect(parseRoute(href.device('com.example.app', 'phone 7/a'))).toEqual({ page: 'device', appId: 'com.example.app', deviceId: 'phone 7/a' });
    expect(parseRoute(href.settings('com.example.app'))).toEqual({ page: 'settings', appId: 'com.example.app' });
    expect(parseRoute('/ui/nothing/here')).toEqual({ page: 'missing' });
  });
});

describe('segment rules as text', () => {
  it('writes nested rules out as a sentence', () => {
    expect(describeRule({ always: true })).toBe('every device');
    expect(
      describeRule({
        all: [
          { attribute: 'platform', op: 'in', values: ['ios', 'android'] },
          { not: { attribute: 'attributes.beta', op: 'is_true' } },
          { any: [{ attribute: 'attributes.country', op: 'eq', value: 'DE', caseInsensitive: true }, { attribute: 'sessionsLast7d', op: 'gte', value: 3 }] },
        ],
      }),
    ).toBe('(platform in [ios, android]) and (not (attributes.beta is true)) and ((attributes.country = "DE" (any case)) or (sessionsLast7d ≥ 3))');
  });
});
