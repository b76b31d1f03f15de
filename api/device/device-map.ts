/**
 * Per-device state kept in memory by one API instance, one inner map per app keyed by the device id
 * itself. Concatenated `app + device` keys cost a string (and its flattened copy) per device per map;
 * here the id string the request carried is the key, shared by every map that holds the device —
 * which halves the memory per device and what every major GC has to mark.
 */
export interface DeviceMap<V> {
  get(appId: string, deviceId: string): V | undefined;
  /** Adds or replaces; when the map is full, the app's oldest device goes first. */
  set(appId: string, deviceId: string, value: V): void;
  readonly size: number;
}

export function createDeviceMap<V>(maxDevices: number): DeviceMap<V> {
  const apps = new Map<string, Map<string, V>>();
  let size = 0;

  // Evicting within the app being written keeps one busy app from pushing out a quiet one's devices;
  // an app new to this instance takes the place of another app's oldest device.
  const evictOldest = (preferred: Map<string, V>) => {
    let devices = preferred;
    let otherApp: string | undefined;
    if (devices.size === 0) {
      const first = apps.entries().next();
      if (first.done) return;
      [otherApp, devices] = first.value;
    }
    const oldest = devices.keys().next();
    if (oldest.done) return;
    devices.delete(oldest.value);
    size -= 1;
    if (otherApp !== undefined && devices.size === 0) apps.delete(otherApp);
  };

  return {
    get(appId, deviceId) {
      return apps.get(appId)?.get(deviceId);
    },
    set(appId, deviceId, value) {
      let devices = apps.get(appId);
      if (!devices) apps.set(appId, (devices = new Map<string, V>()));
      if (!devices.has(deviceId)) {
        if (size >= maxDevices) evictOldest(devices);
        size += 1;
      }
      devices.set(deviceId, value);
    },
    get size() {
      return size;
    },
  };
}
