import { describe, expect, it } from 'vitest';
import { createWatchRenderer } from '../../../cli/watch-renderer';
import { insights } from './insights-fixture';
import { release, T0, transition } from './release-fixture';

const ESC = '\u001b[';
const ERASE = `${ESC}J`;
/** How many lines the frame in a chunk occupies (after the redraw prefix, if any). */
const frameLines = (chunk: string) => chunk.slice(chunk.startsWith(ESC) ? chunk.indexOf(ERASE) + ERASE.length : 0).split('\n').length - 1;
const resumed = transition(T0 + 20_000, 'resumed', 'key:alice', 'all clear');

/** A release as a watcher sees it: baking, checked again, paused by a human, then rolled back. */
const states = [
  release(),
  release(),
  release({ soakedMs: 160_000, gates: { ...release().gates!, at: T0 + 30_000 } }),
  release({ status: 'paused', history: [...release().history, transition(T0 + 31_000, 'paused', 'key:alice', 'checking', 'paused')] }),
  release({ status: 'rolled_back', exposure: { default: 0 }, history: [...release().history, resumed, transition(T0 + 40_000, 'rolled_back', 'key:bob', 'bad')] }),
];

describe('the watch renderer', () => {
  it('on a terminal draws a frame, then redraws it in place every time, countdowns included', () => {
    const render = createWatchRenderer('tty', 200);
    const chunks = states.map((s, i) => render(s, T0 + 1000 * i));
    expect(chunks[0]).not.toContain(ESC);
    expect(chunks[0]).toContain('next check in 30 s (every 30 s)');
    // Up over the previous frame, to the line start, erase to the end of the screen, then the new frame.
    for (let i = 1; i < chunks.length; i++) expect(chunks[i]!.startsWith(`${ESC}${frameLines(chunks[i - 1]!)}A\r${ERASE}`)).toBe(true);
    expect(chunks[1]).toContain('next check in 29 s (every 30 s)');
    expect(chunks[3]).toContain('status paused');
    expect(chunks[3]).toContain('  stale: paused by key:alice');
    expect(chunks[4]).toContain('status rolled_back');
    expect(chunks[4]).toContain('exposure default 0.00 %');
    expect(chunks[4]).toContain('the release has ended');
  });

  it('moves the cursor up by exactly as many lines as it drew before, as frames grow and shrink', () => {
    const render = createWatchRenderer('tty', 200);
    const first = render(release({ gates: null }), T0);
    const second = render(release(), T0);
    const third = render(release({ gates: null }), T0);
    expect(frameLines(second)).toBe(frameLines(first) + 1);
    expect(second.startsWith(`${ESC}${frameLines(first)}A`)).toBe(true);
    expect(third.startsWith(`${ESC}${frameLines(second)}A`)).toBe(true);
  });

  it('cuts lines to the terminal width, so the redraw arithmetic holds', () => {
    const render = createWatchRenderer('tty', 40);
    for (const line of render(release(), T0).split('\n')) expect(line.length).toBeLessThan(40);
  });

  it('when piped writes one timestamped line per change and nothing while the release stands still', () => {
    const render = createWatchRenderer('lines');
    const chunks = states.map((s, i) => render(s, T0 + 1000 * i));
    expect(chunks[1]).toBe('');
    const lines = chunks.filter((c) => c !== '');
    expect(lines).toHaveLength(4);
    for (const [i, line] of lines.entries()) {
      expect(line).not.toContain(ESC);
      expect(line.endsWith('\n')).toBe(true);
      expect(line.split('\n')).toHaveLength(2);
      expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z {2}/);
      if (i > 0) expect(line).not.toBe(lines[i - 1]);
    }
    expect(lines[0]).toBe(
      '2025-06-02T10:00:00.000Z  running stage 1/2 canary | exposure default 1.00 % | soaked 2 m 10 s of 4 m minimum (1 m 50 s to go), pauses for a human at 16 m without a verdict | gates continue at 2025-06-02T10:00:00.000Z | last stage_started by rampart at 2025-06-02T09:57:50.000Z: stage canary: default at 100 bps\n',
    );
    expect(lines[1]).toMatch(/^2025-06-02T10:00:02\.000Z {2}running .*soaked 2 m 40 s of 4 m/);
    expect(lines[2]).toMatch(/^2025-06-02T10:00:03\.000Z {2}paused .*gates continue at 2025-06-02T10:00:00\.000Z \(stale\) \| last paused by key:alice/);
    expect(lines[3]).toMatch(/^2025-06-02T10:00:04\.000Z {2}rolled_back .*exposure default 0\.00 %.*last rolled_back by key:bob/);
  });

  it('with --json writes the answer as is, one line per change', () => {
    const render = createWatchRenderer('json');
    const chunks = states.map((s, i) => render(s, T0 + 1000 * i)).filter((c) => c !== '');
    expect(chunks).toHaveLength(4);
    expect(JSON.parse(chunks[0]!)).toEqual(states[0]);
  });

  it('shows adoption per segment as it moves: one line each on a terminal, a new line when piped', () => {
    const tty = createWatchRenderer('tty', 200);
    const without = tty(release(), T0);
    const withAdoption = tty(release(), T0, insights());
    expect(frameLines(withAdoption)).toBe(frameLines(without) + 2);
    expect(withAdoption).toContain('\nadoption default 95.0 % (114/120), 95 % after 20 m\n');
    expect(withAdoption).toContain('\nadoption beta 40.0 % (4/10), not at 95 % yet\n');
    const rolledBack = tty(release({ status: 'rolled_back' }), T0, insights({ status: 'rolled_back' }));
    expect(rolledBack).toContain('adoption default 95.0 % (114/120), 95 % after 20 m, 114 still on the withdrawn bundle');

    const piped = createWatchRenderer('lines');
    const moving = insights();
    moving.adoption[1]!.curve.push({ start: moving.to, activeDevices: 10, devicesOnRelease: 6, adoption: 0.6 });
    const chunks = [piped(release(), T0, insights()), piped(release(), T0 + 1000, insights()), piped(release(), T0 + 2000, moving)];
    expect(chunks[0]).toContain('| adoption default 95.0 % (114/120), 95 % after 20 m | adoption beta 40.0 % (4/10), not at 95 % yet |');
    expect(chunks[1]).toBe('');
    expect(chunks[2]).toContain('adoption beta 60.0 % (6/10)');
    // --json stays the release's answer as is.
    expect(JSON.parse(createWatchRenderer('json')(release(), T0, insights()))).toEqual(release());
  });
});
