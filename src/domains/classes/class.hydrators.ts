import type { OpenApi } from '../../upstream/open-api.js';
import {
  change,
  done,
  ms,
  noRecord,
  notFound,
  readOr,
  type ClaimedJob,
  type HydrationReads,
  type Hydrators,
  type RecordWrite,
} from '../hydrator.js';
import { updateRecord } from '../record-writes.js';
import { TABLES } from '../../db/tables.js';

/** A class booking; its class is read too, if it never was. */
async function hydrateClassBooking(job: ClaimedJob, api: OpenApi): Promise<RecordWrite> {
  const { tenantId } = job;
  const id = Number(job.upstreamKey);
  const read = await readOr(
    () => api.getClassBooking(id),
    () => async () => done([], notFound(`class booking ${id}`)),
  );
  if ('gone' in read) return read.gone;
  const b = read.value;
  return async (tx, now) => {
    const changed = await updateRecord(
      tx,
      TABLES.class_bookings,
      { tenantId, bookingId: id },
      {
        customerId: b.customerId,
        classSlotId: b.classSlotId,
        classId: b.classId,
        bookingStatus: b.bookingStatus,
        classSlotStatus: b.classSlotStatus,
        participantStatus: b.participantStatus,
      },
      now,
    );
    if (changed === null) return done([], noRecord('class booking'));
    // The booking names its class: make sure the class is known (read once, not per booking).
    return done(change('classBooking', id, changed), null, [{ kind: 'class', key: String(b.classId), params: null, mode: 'ensure' }]);
  };
}

/** A class slot, read under its class (from the job, else from the slot record). */
async function hydrateClassSlot(job: ClaimedJob, api: OpenApi, reads: HydrationReads): Promise<RecordWrite> {
  const { tenantId } = job;
  const id = Number(job.upstreamKey);
  const classId = job.params?.classId ?? (await reads.slotClassId(tenantId, id));
  if (classId === null || classId === undefined) return async () => done([], noRecord('class slot'));
  const read = await readOr(
    () => api.getClassSlot(classId, id),
    () => async () => done([], notFound(`class slot ${id} of class ${classId}`)),
  );
  if ('gone' in read) return read.gone;
  const s = read.value;
  return async (tx, now) => {
    const changed = await updateRecord(
      tx,
      TABLES.class_slots,
      { tenantId, slotId: id },
      {
        startAt: ms(s.startDateTime),
        endAt: ms(s.endDateTime),
        maxParticipants: s.maxParticipants,
        bookedParticipants: s.bookedParticipants,
        waitingListParticipants: s.waitingListParticipants,
        instructorNames: JSON.stringify(s.instructors),
        locationId: s.location?.id ?? null,
        locationName: s.location?.name ?? null,
      },
      now,
    );
    return changed === null ? done([], noRecord('class slot')) : done(change('classSlot', id, changed));
  };
}

/** A class: the first read creates the row. */
async function hydrateClass(job: ClaimedJob, api: OpenApi): Promise<RecordWrite> {
  const { tenantId } = job;
  const id = Number(job.upstreamKey);
  const read = await readOr(
    () => api.getClass(id),
    () => async () => done([], notFound(`class ${id}`)),
  );
  if ('gone' in read) return read.gone;
  const c = read.value;
  const values = { title: c.title, type: c.type, durationMinutes: c.duration, category: c.category, bookable: c.bookable };
  return async (tx, now) => {
    // Classes exist only through hydration: the first read creates the row.
    tx.runLater(
      `INSERT INTO ${TABLES.classes} ("tenantId", "studioId", "classId", "title", "type", "durationMinutes", "category", "bookable", "hydratedAt") ` +
        `VALUES (?, ?, ?, NULL, NULL, NULL, NULL, NULL, ?) ON CONFLICT ("tenantId", "classId") DO NOTHING`,
      [tenantId, job.studioId, id, now],
    );
    const changed = await updateRecord(tx, TABLES.classes, { tenantId, classId: id }, values, now);
    return done(change('class', id, changed));
  };
}

/** The class area's reads: bookings, slots and classes. */
export const CLASS_HYDRATORS = {
  class_booking: hydrateClassBooking,
  class_slot: hydrateClassSlot,
  class: hydrateClass,
} as const satisfies Hydrators;
