import type { Slice, SliceRequest } from '../upstream/open-api.js';
import { ReconcileError } from './reconcile-hook.js';

const SLICE = 100;

/** Every slice of a sliced list, following `offset` while `hasNext`. */
export async function* pages<T>(list: (slice: SliceRequest) => Promise<Slice<T>>): AsyncGenerator<readonly T[]> {
  let offset: string | undefined;
  for (let guard = 0; guard < 1_000_000; guard++) {
    const slice = await list({ offset, sliceSize: SLICE });
    yield slice.result;
    if (!slice.hasNext) return;
    if (slice.offset === offset) throw new ReconcileError('the Open API gave the same offset twice; stopping to avoid a loop');
    offset = slice.offset;
  }
}
