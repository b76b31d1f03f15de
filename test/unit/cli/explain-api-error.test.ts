import { describe, expect, it } from 'vitest';
import { explainApiError } from '../../../cli/explain-api-error';
import { ApiError } from '../../../cli/rampart-client';

describe('explainApiError', () => {
  it('tells a CLI user to re-run with --supersede instead of sending "supersede": true', () => {
    const message = 'release r-1 (1.0.0) is still running on channel production; finish or abort it, or start with "supersede": true';
    const lines = explainApiError(new ApiError(409, 'release_active', message));
    expect(lines).toEqual([
      'release r-1 (1.0.0) is still running on channel production; finish or abort it (release_active, HTTP 409)',
      'to abort it and start this one instead, re-run the command with --supersede',
    ]);
    expect(lines.join('\n')).not.toContain('"supersede"');
  });

  it('tells a CLI user to use --force for a rolled-back version', () => {
    const message = '1.2.0 was rolled back on production (release r-1: crashes); once the cause is fixed, start it again with "force": true (CLI: --force), or release a new version';
    expect(explainApiError(new ApiError(409, 'version_rolled_back', message))).toEqual([
      '1.2.0 was rolled back on production (release r-1: crashes); once the cause is fixed, start it again with --force, or release a new version (version_rolled_back, HTTP 409)',
    ]);
  });

  it('passes other errors through with their code and status', () => {
    expect(explainApiError(new ApiError(409, 'command_refused', 'the release is already paused'))).toEqual(['the release is already paused (command_refused, HTTP 409)']);
  });

  it('says where to look when the API cannot be reached or refuses the key', () => {
    expect(explainApiError(new ApiError(0, 'unreachable', 'cannot reach Rampart'))[1]).toContain('RAMPART_URL');
    expect(explainApiError(new ApiError(401, 'unauthorized', 'bad key'))[1]).toContain('RAMPART_API_KEY');
  });
});
