import type { OpenApi } from '../../upstream/open-api.js';
import { change, done, noRecord, notFound, readOr, type ClaimedJob, type Hydrators, type RecordWrite } from '../hydrator.js';
import { updateRecord } from '../record-writes.js';
import { TABLES } from '../../db/tables.js';

/** A device, found in the studio's device list. */
async function hydrateDevice(job: ClaimedJob, api: OpenApi): Promise<RecordWrite> {
  const { tenantId } = job;
  const id = Number(job.upstreamKey);
  const read = await readOr(
    () => api.listDevices(),
    () => async () => done([], notFound('the device list')),
  );
  if ('gone' in read) return read.gone;
  const device = read.value.find((d) => d.id === id);
  if (!device)
    return async () => done([], `device ${id} is not in the studio's device list upstream; the record stays as the events made it`);
  return async (tx, now) => {
    const changed = await updateRecord(
      tx,
      TABLES.devices,
      { tenantId, deviceId: id },
      { name: device.name, model: device.model, active: device.active },
      now,
    );
    return changed === null ? done([], noRecord('device')) : done(change('device', id, changed));
  };
}

/** The device area's read: a device. */
export const DEVICE_HYDRATORS = {
  device: hydrateDevice,
} as const satisfies Hydrators;
