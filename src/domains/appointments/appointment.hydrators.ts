import type { OpenApi } from '../../upstream/open-api.js';
import { change, done, ms, noRecord, notFound, readOr, type ClaimedJob, type Hydrators, type RecordWrite } from '../hydrator.js';
import { updateRecord } from '../record-writes.js';
import { TABLES } from '../../db/tables.js';

/** An appointment booking. */
async function hydrateAppointmentBooking(job: ClaimedJob, api: OpenApi): Promise<RecordWrite> {
  const { tenantId } = job;
  const id = Number(job.upstreamKey);
  const read = await readOr(
    () => api.getAppointmentBooking(id),
    () => async () => done([], notFound(`appointment booking ${id}`)),
  );
  if ('gone' in read) return read.gone;
  const b = read.value;
  return async (tx, now) => {
    const changed = await updateRecord(
      tx,
      TABLES.appointment_bookings,
      { tenantId, bookingId: id },
      {
        customerId: b.customerId,
        title: b.title,
        startAt: ms(b.startDateTime),
        endAt: ms(b.endDateTime),
        bookingStatus: b.bookingStatus,
        appointmentStatus: b.appointmentStatus,
        participantStatus: b.participantStatus,
      },
      now,
    );
    return changed === null ? done([], noRecord('appointment booking')) : done(change('appointmentBooking', id, changed));
  };
}

/** The appointment area's read: a booking. */
export const APPOINTMENT_HYDRATORS = {
  appointment_booking: hydrateAppointmentBooking,
} as const satisfies Hydrators;
