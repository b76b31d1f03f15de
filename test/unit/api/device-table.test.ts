import { describe, expect, it } from 'vitest';
import { createDeviceTable } from '../../../api/device/device-table';

describe(createDeviceTable.name, () => {
  it('keeps devices of different apps apart, columns starting at zero', () => {
    const table = createDeviceTable(10, { numbers: 2 });
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
    const table = createDeviceTable(max, { numbers: 1 });
    for (let i = 0; i < max; i++) table.set(table.add('app', `d${i}`), 0, i);
    for (let i = 0; i < max; i++) expect(table.get(table.find('app', `d${i}`), 0)).toBe(i);
    for (let i = max; i < max + 1500; i++) table.set(table.add('app', `d${i}`), 0, i);
    expect(table.size).toBe(max);
    for (let i = 0; i < 1500; i++) expect(table.find('app', `d${i}`)).toBe(-1);
    for (let i = 1500; i < max + 1500; i++) expect(table.get(table.find('app', `d${i}`), 0)).toBe(i);
  });

  it('hashes the UTF-8 of ids, long and non-ASCII ones included', () => {
    const table = createDeviceTable(10, { numbers: 1 });
    const long = 'x'.repeat(3000);
    table.set(table.add('app', long), 0, 7);
    table.set(table.add('app', 'appareil-é'), 0, 8);
    expect(table.get(table.find('app', long), 0)).toBe(7);
    expect(table.get(table.find('app', 'appareil-é'), 0)).toBe(8);
    expect(table.find('app', 'appareil-e')).toBe(-1);
  });

  it('keeps int32 columns beside the float64 ones, zeroed for a row given to a new device', () => {
    const table = createDeviceTable(2, { numbers: 1, integers: 2 });
    const a = table.add('app', 'a');
    table.set(a, 0, 1.5);
    table.setInt(a, 1, -7);
    expect([table.get(a, 0), table.getInt(a, 0), table.getInt(a, 1)]).toEqual([1.5, 0, -7]);
    table.add('app', 'b');
    const c = table.add('app', 'c');
    expect(c).toBe(a);
    expect([table.get(c, 0), table.getInt(c, 1)]).toEqual([0, 0]);
  });

  it('answers a device asked for again from the last lookup, and not once its row went to another', () => {
    const table = createDeviceTable(1, { numbers: 1 });
    const a = table.add('app', 'a');
    expect(table.find('app', 'a')).toBe(a);
    expect(table.find('app', 'a')).toBe(a);
    expect(table.find('app', 'b')).toBe(-1);
    table.add('app', 'b');
    expect(table.find('app', 'a')).toBe(-1);
    expect(table.find('other', 'b')).toBe(-1);
    expect(table.find('app', 'b')).toBe(a);
  });
});
