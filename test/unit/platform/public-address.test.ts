import { describe, expect, it } from 'vitest';
import { forbiddenAddress, receiverUrlProblem, redactUrl } from '../../../platform/public-address';

describe(receiverUrlProblem.name, () => {
  it.each([
    'https://127.0.0.1:5432/',
    'https://[::1]/hook',
    'https://10.1.2.3/',
    'https://172.20.0.1/',
    'https://192.168.1.1/',
    'https://100.64.0.1/',
    'https://[fd12::1]/',
    'https://[::ffff:127.0.0.1]/',
    'https://0x7f.1/',
    'https://169.254.169.254/latest/meta-data/',
    'https://0.0.0.0/',
    'https://224.0.0.1/',
    'https://[fe80::1]/',
  ])('refuses %s', (url) => {
    expect(receiverUrlProblem(url, false)).toMatch(/address/);
  });

  it('wants https and public receivers unless private ones are allowed', () => {
    expect(receiverUrlProblem('http://hooks.example.com/x', false)).toBe('must be an https URL');
    expect(receiverUrlProblem('https://hooks.example.com/x', false)).toBeNull();
    expect(receiverUrlProblem('https://93.184.215.14/x', false)).toBeNull();
    expect(receiverUrlProblem('http://127.0.0.1:8080/x', true)).toBeNull();
  });

  it('refuses metadata and link-local addresses even when private receivers are allowed', () => {
    expect(forbiddenAddress('169.254.169.254', true)).toMatch(/metadata/);
    expect(forbiddenAddress('fd00:ec2::254', true)).toMatch(/metadata/);
    expect(forbiddenAddress('10.0.0.1', true)).toBeNull();
  });
});

describe(redactUrl.name, () => {
  it('keeps scheme, host and port, never path or query', () => {
    expect(redactUrl('https://hooks.slack.com/services/T0/B0/XYZ?token=1')).toBe('https://hooks.slack.com/…');
    expect(redactUrl('https://hooks.example.com:8443/')).toBe('https://hooks.example.com:8443/');
  });
});
