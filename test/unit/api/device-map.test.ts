import { describe, expect, it } from 'vitest';
import { createDeviceMap } from '../../../api/device/device-map';

describe(createDeviceMap.name, () => {
  it('keeps devices of different apps apart', () => {
    const map = createDeviceMap<number>(10);
    map.set('app-a', 'd1', 1);
    map.set('app-b', 'd1', 2);
    expect(map.get('app-a', 'd1')).toBe(1);
    expect(map.get('app-b', 'd1')).toBe(2);
    expect(map.get('app-c', 'd1')).toBeUndefined();
    expect(map.size).toBe(2);
  });

  it('replaces a device without counting it twice', () => {
    const map = createDeviceMap<number>(2);
    map.set('app', 'd1', 1);
    map.set('app', 'd1', 5);
    map.set('app', 'd2', 2);
    expect(map.get('app', 'd1')).toBe(5);
    expect(map.size).toBe(2);
  });

  it('when full, forgets the oldest device of the app being written, not another app’s', () => {
    const map = createDeviceMap<number>(3);
    map.set('quiet', 'q1', 1);
    map.set('busy', 'b1', 1);
    map.set('busy', 'b2', 2);
    map.set('busy', 'b3', 3);
    expect(map.size).toBe(3);
    expect(map.get('quiet', 'q1')).toBe(1);
    expect(map.get('busy', 'b1')).toBeUndefined();
    expect(map.get('busy', 'b3')).toBe(3);
  });

  it('makes room for an app it has not seen by forgetting the oldest device of the first app', () => {
    const map = createDeviceMap<number>(2);
    map.set('first', 'f1', 1);
    map.set('second', 's1', 1);
    map.set('third', 't1', 1);
    expect(map.size).toBe(2);
    expect(map.get('first', 'f1')).toBeUndefined();
    expect(map.get('second', 's1')).toBe(1);
    expect(map.get('third', 't1')).toBe(1);
    map.set('fourth', 'x1', 1);
    expect(map.size).toBe(2);
    expect(map.get('second', 's1')).toBeUndefined();
  });
});
