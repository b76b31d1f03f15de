import { describe, expect, it } from 'vitest';
import { createDeviceTable } from '../../../api/device/device-table';

describe(createDeviceTable.name, () => {
  it('keeps devices of different apps apart, columns starting at zero', () => {
    const table = createDeviceTable(10, 2);
    const a = table.add('app-a', 'd1');
    const b = table.add('app-b', 'd1');
    table.set(a, 1, 5);
    expect(table.find('app-a', 'd1')).toBe(a);
    expect(table.find('app-b', 'd1')).toBe(b);
    expect(table.find('app-c', 'd1')).toBe(-1);
    expect([table.get(a, 1), table.get(b, 1), table.get(b, 0)]).toEqual([5, 0, 0]);
    expect(table.size).toBe(2);
  });

  it('grows past its first rows and, once full, gives the oldest device’s row to the next, finding every other', () => {
    const max = 5000;
    const table = createDeviceTable(max, 1);
    for (let i = 0; i < max; i++) table.set(table.add('app', `d${i}`), 0, i);
    for (let i = 0; i < max; i++) expect(table.get(table.find('app', `d${i}`), 0)).toBe(i);
    for (let i = max; i < max + 1500; i++) table.set(table.add('app', `d${i}`), 0, i);
    expect(table.size).toBe(max);
    for (let i = 0; i < 1500; i++) expect(table.find('app', `d${i}`)).toBe(-1);
    for (let i = 1500; i < max + 1500; i++) expect(table.get(table.find('app', `d${i}`), 0)).toBe(i);
  });

  it('hashes the UTF-8 of ids, long and non-ASCII ones included', () => {
    const table = createDeviceTable(10, 1);
    const long = 'x'.repeat(3000);
    table.set(table.add('app', long), 0, 7);
    table.set(table.add('app', 'appareil-é'), 0, 8);
    expect(table.get(table.find('app', long), 0)).toBe(7);
    expect(table.get(table.find('app', 'appareil-é'), 0)).toBe(8);
    expect(table.find('app', 'appareil-e')).toBe(-1);
  });
});
