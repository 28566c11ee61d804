import type { OpenApi } from '../../upstream/open-api.js';
import { change, done, ms, noRecord, notFound, readOr, type ClaimedJob, type Hydrators, type RecordWrite } from '../hydrator.js';
import { updateRecord } from '../record-writes.js';
import { TABLES } from '../../db/tables.js';

/** The opening and closing hours of the job's studio. */
async function hydrateStudioInformation(job: ClaimedJob, api: OpenApi): Promise<RecordWrite> {
  const id = Number(job.upstreamKey);
  // The studio's Open API key selects the studio: the answer is about the job's studio, whatever
  // id the event named (the job's key); a different id is noted, and the registry learns the real one.
  const read = await readOr(
    () => api.getStudioInformation(),
    () => async () => done([], notFound('the studio information')),
  );
  if ('gone' in read) return read.gone;
  const info = read.value;
  const values = {
    upstreamStudioId: info.studioId,
    openingHoursJson: JSON.stringify(
      info.openingHours.map((h) => ({
        dayOfWeekFrom: h.dayOfWeekFrom,
        dayOfWeekTo: h.dayOfWeekTo,
        timeFrom: h.timeFrom,
        timeTo: h.timeTo,
      })),
    ),
    closingHoursJson: JSON.stringify(info.closingHours.map((c) => ({ reason: c.reason, from: ms(c.dateTimeFrom), to: ms(c.dateTimeTo) }))),
  };
  const note =
    info.studioId === id
      ? null
      : `the studio's Open API key reads upstream studio ${info.studioId}, but the event named studio ${id}: the studio's record took the answer, and events naming ${id} no longer change it`;
  return async (tx, now) => {
    const changed = await updateRecord(tx, TABLES.studios, { id: job.studioId }, values, now);
    if (changed === null) return done([], noRecord('studio'));
    const fields = changed.map((c) => (c === 'openingHoursJson' ? 'openingHours' : c === 'closingHoursJson' ? 'closingHours' : c));
    return done(change('studio', info.studioId, fields), note);
  };
}

/** The studio area's read: the studio's information. */
export const STUDIO_HYDRATORS = {
  studio_information: hydrateStudioInformation,
} as const satisfies Hydrators;
