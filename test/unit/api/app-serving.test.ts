import { describe, expect, it } from 'vitest';
import { buildAppServing } from '../../../api/snapshot/app-serving';

describe('AppServing self-assignments', () => {
  it('applies a device choice locally, counts self-assignments, and never touches an admin override', () => {
    const app = buildAppServing({
      appId: 'com.example.app',
      releases: [],
      channels: [],
      segments: [],
      signingKey: null,
      overrides: [
        { deviceId: 'admin-pinned', channel: 'staff', source: 'admin' },
        { deviceId: 'chose', channel: 'beta', source: 'self' },
      ],
    });
    expect(app.selfAssignments).toBe(1);
    app.assignLocally('new', 'beta');
    app.assignLocally('chose', 'alpha');
    expect(app.selfAssignments).toBe(2);
    expect(app.overrides.get('chose')).toEqual({ channel: 'alpha', source: 'self' });
    app.assignLocally('admin-pinned', 'beta');
    app.assignLocally('admin-pinned', null);
    expect(app.overrides.get('admin-pinned')).toEqual({ channel: 'staff', source: 'admin' });
    app.assignLocally('new', null);
    expect(app.selfAssignments).toBe(1);
    expect(app.overrides.has('new')).toBe(false);
  });
});
