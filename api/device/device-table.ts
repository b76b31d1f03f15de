import { murmur3x86_32 } from '../../domain/murmur3';

/**
 * Numbers kept per device by one API instance, for millions of devices: rows of a few float64 and
 * int32 columns in typed arrays, found through an open-addressing table of 64-bit hashes of (app,
 * device). No object, string or map entry per device stays on the JS heap, so a million devices add
 * nothing for a scavenge to promote or a mark-compact to trace (a Map keyed by id strings kept ~3
 * objects per device there). Two devices whose 64-bit hashes collide would share a row: at a million
 * devices that is about one chance in 30 million.
 */
export interface DeviceTable {
  /** The device's row, -1 when it has none. */
  find(appId: string, deviceId: string): number;
  /**
   * Gives a device without a row one, its columns zero; when the table holds `maxDevices`, the row of
   * the device that got one longest ago is taken from it.
   */
  add(appId: string, deviceId: string): number;
  /** Float64 column `column` of row `row`. */
  get(row: number, column: number): number;
  set(row: number, column: number, value: number): void;
  /** Int32 column `column` of row `row`. */
  getInt(row: number, column: number): number;
  setInt(row: number, column: number, value: number): void;
  readonly size: number;
}

export interface DeviceTableLayout {
  /** Float64 columns per row: times, fractions. */
  numbers: number;
  /** Int32 columns per row: counts, codes. */
  integers?: number;
}

const EMPTY = -1;
const SEED_LOW = 0;
const SEED_HIGH = 0x9747b28c;
const INITIAL_ROWS = 1024;

// App ids and device ids are bounded by their schemas, far below this; longer keys take a copy.
const scratch = Buffer.allocUnsafe(4096);

export function createDeviceTable(maxDevices: number, layout: DeviceTableLayout): DeviceTable {
  const columns = layout.numbers;
  const intColumns = layout.integers ?? 0;
  let rows = Math.min(INITIAL_ROWS, maxDevices);
  let values = new Float64Array(rows * columns);
  let ints = new Int32Array(rows * intColumns);
  // Each row's hash, to find its index entry again when the row is reused.
  let rowLow = new Uint32Array(rows);
  let rowHigh = new Uint32Array(rows);
  // The index: linear probing over a power-of-two table, at most half full.
  let mask = 2 * nextPowerOfTwo(rows) - 1;
  let index = new Int32Array(mask + 1).fill(EMPTY);
  let size = 0;
  // Rows are handed out in order and, once all are in use, reused in the same order: the oldest first.
  let oldest = 0;
  let low = 0;
  let high = 0;
  // The device last found or added: one request asks for its device several times in a row.
  let lastApp: string | undefined;
  let lastDevice: string | undefined;
  let lastRow = EMPTY;

  const hash = (appId: string, deviceId: string) => {
    // UTF-8 takes at most 3 bytes per UTF-16 code unit.
    if ((appId.length + deviceId.length) * 3 + 1 <= scratch.length) {
      const appLength = scratch.write(appId, 0);
      scratch[appLength] = 0;
      const length = appLength + 1 + scratch.write(deviceId, appLength + 1);
      low = murmur3x86_32(scratch, SEED_LOW, length);
      high = murmur3x86_32(scratch, SEED_HIGH, length);
      return;
    }
    const bytes = Buffer.from(`${appId}\u0000${deviceId}`);
    low = murmur3x86_32(bytes, SEED_LOW);
    high = murmur3x86_32(bytes, SEED_HIGH);
  };

  /** The index position of the current hash: its entry, or the empty one where it would go. */
  const probe = (): number => {
    let at = low & mask;
    for (;;) {
      const row = index[at]!;
      if (row === EMPTY || (rowLow[row] === low && rowHigh[row] === high)) return at;
      at = (at + 1) & mask;
    }
  };

  /** Removes the index entry at `at`, moving later entries of the same probe run back into place. */
  const unindex = (at: number) => {
    let hole = at;
    let next = (at + 1) & mask;
    while (index[next] !== EMPTY) {
      const home = rowLow[index[next]!]! & mask;
      // The entry may move into the hole unless its home lies cyclically after the hole.
      if ((next > hole && (home <= hole || home > next)) || (next < hole && home <= hole && home > next)) {
        index[hole] = index[next]!;
        hole = next;
      }
      next = (next + 1) & mask;
    }
    index[hole] = EMPTY;
  };

  const reindex = (capacity: number) => {
    mask = capacity - 1;
    index = new Int32Array(capacity).fill(EMPTY);
    for (let row = 0; row < size; row++) {
      let at = rowLow[row]! & mask;
      while (index[at] !== EMPTY) at = (at + 1) & mask;
      index[at] = row;
    }
  };

  const grow = () => {
    rows = Math.min(rows * 2, maxDevices);
    const grownValues = new Float64Array(rows * columns);
    grownValues.set(values);
    values = grownValues;
    const grownInts = new Int32Array(rows * intColumns);
    grownInts.set(ints);
    ints = grownInts;
    const grownLow = new Uint32Array(rows);
    grownLow.set(rowLow);
    rowLow = grownLow;
    const grownHigh = new Uint32Array(rows);
    grownHigh.set(rowHigh);
    rowHigh = grownHigh;
    if (2 * rows > mask + 1) reindex(2 * nextPowerOfTwo(rows));
  };

  const takeRow = (): number => {
    if (size < maxDevices) {
      if (size === rows) grow();
      return size++;
    }
    const row = oldest;
    oldest = (oldest + 1) % maxDevices;
    const savedLow = low;
    const savedHigh = high;
    low = rowLow[row]!;
    high = rowHigh[row]!;
    unindex(probe());
    low = savedLow;
    high = savedHigh;
    return row;
  };

  return {
    find(appId, deviceId) {
      if (deviceId === lastDevice && appId === lastApp) return lastRow;
      hash(appId, deviceId);
      lastApp = appId;
      lastDevice = deviceId;
      lastRow = index[probe()]!;
      return lastRow;
    },
    add(appId, deviceId) {
      hash(appId, deviceId);
      const row = takeRow();
      rowLow[row] = low;
      rowHigh[row] = high;
      values.fill(0, row * columns, (row + 1) * columns);
      ints.fill(0, row * intColumns, (row + 1) * intColumns);
      index[probe()] = row;
      // Taking a row may have taken the remembered device's: the added device is remembered instead.
      lastApp = appId;
      lastDevice = deviceId;
      lastRow = row;
      return row;
    },
    get: (row, column) => values[row * columns + column]!,
    set(row, column, value) {
      values[row * columns + column] = value;
    },
    getInt: (row, column) => ints[row * intColumns + column]!,
    setInt(row, column, value) {
      ints[row * intColumns + column] = value;
    },
    get size() {
      return size;
    },
  };
}

function nextPowerOfTwo(n: number): number {
  let power = 1;
  while (power < n) power *= 2;
  return power;
}
