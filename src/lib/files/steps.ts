import {Aborted, sleep} from '../abort.js'
import type {Api} from '../api/client.js'
import {messageOf} from '../errors.js'
import {type ActionOf, CLOCK_SKEW_MS} from '../runner/actions.js'
import {revertCounts} from './render.js'
import type {BuildersOf, Planned} from '../runner/plan.js'
import type {Step} from '../runner/step.js'
import {bucketIn, openLocated} from './gather.js'
import {type BucketLocator, type BucketRef, locatorOf} from './bucket.js'
import {type FileAction, newestFirst, sameContent} from './plan.js'
import {type Bucket, isThrottled, type ObjectVersion, S3Failure} from './s3.js'

declare module '../runner/plan.js' {
  interface StepKinds {
    // One batch of files:recover: what to do to each of these files (keys, version and marker ids).
    'files-batch': {app: string, bucket: BucketLocator, actions: FileAction[], first: number, total: number}
  }
}

// files:recover's changes as runner steps: the actions in batches, each batch applied with bounded
// concurrency (the SDK retries S3's throttling). Each batch records every delete marker it removed and
// every version it created; its undo, as data in the run log, puts a delete marker back on each key it
// undeleted and removes each version it created, which leaves every key exactly as it was. Before a batch
// starts, the run log gets the undo of all it may change (its keys, their markers, the copies it would
// make): a process killed half-way through the batch leaves that, and recovery:resume reads the bucket to
// revert whatever part of the batch was made.

export const BATCH_SIZE = 250
export const CONCURRENCY = 8
// A copy S3 turned away for the rate is sent again up to this many times in all (after reading the key back).
const COPY_ATTEMPTS = 6


export interface BatchResult {
  // Keys undeleted by removing their delete markers (the marker version ids removed).
  markersRemoved: RevertAction['markers']
  // Versions created by copying an older one back.
  versionsCreated: {key: string, versionId: string, from: string}[]
  // Copies with no answer that reading the key back could not confirm: S3 may still make them; the undo
  // looks for them by reading the key.
  unsure: CopyTrace[]
  failed: {key: string, error: string}[]
  // Ctrl-C came before every action of the batch was started.
  stopped: boolean
  // When the batch began (ms since the epoch): an unsure copy was made after it.
  startedAt: number
}

export type RevertAction = ActionOf<'files-revert'>

// A copy back as the undo finds it again: the key, the version copied (with its ETag and size) and the
// newest version when the plan was made.
export type CopyTrace = NonNullable<RevertAction['copies']>[number]

type Copy = Extract<FileAction, {kind: 'copy'}>

const traceOf = ({key, versionId, latest, etag, size}: Copy): CopyTrace =>
  ({key, from: versionId, latest, ...(etag === undefined ? {} : {etag}), ...(size === undefined ? {} : {size})})


export function revertAction(app: string, bucket: BucketLocator, result: BatchResult): RevertAction {
  return {
    kind: 'files-revert', app, bucket, markers: result.markersRemoved, versions: result.versionsCreated.map(({key, versionId}) => ({key, versionId})),
    ...(result.unsure.length > 0 ? {copies: result.unsure, since: result.startedAt - CLOCK_SKEW_MS} : {}),
  }
}

// The undo of a whole batch, before it runs: every key it may undelete, every copy it may make.
export function plannedRevert(app: string, bucket: BucketLocator, batch: FileAction[], startedAt: number): RevertAction {
  return {
    kind: 'files-revert', app, bucket, versions: [], since: startedAt - CLOCK_SKEW_MS,
    markers: batch.flatMap(a => a.kind === 'undelete' ? [{key: a.key, versionIds: a.markers, unsure: true}] : []),
    copies: batch.flatMap(a => a.kind === 'copy' ? [traceOf(a)] : []),
  }
}

// The versions of one key that a copy back of this run made: newer than the newest version the plan
// saw (and than `since`), not a marker, with the bytes of the version copied. A run copies a key once.
export function copiesMade(versions: ObjectVersion[], copy: CopyTrace, since?: number): string[] {
  const ordered = newestFirst(versions)
  const latest = ordered.findIndex(v => v.versionId === copy.latest)
  const newer = latest === -1 ? ordered : ordered.slice(0, latest)
  // A multipart upload's ETag is not the MD5 of its bytes, nor is a copy's of it: then the size alone.
  const multipart = /-\d+"?$/.test(copy.etag ?? '')
  const made = newer.filter(v => v.versionId !== copy.from && v.versionId !== copy.latest && (since === undefined || v.lastModified >= Math.floor(since / 1000) * 1000)
    && (multipart ? !v.deleteMarker && v.size === copy.size : sameContent(v, copy)))
  return made.slice(-1).map(v => v.versionId)
}

// A key to delete again: it exists now, and a marker the run removed (or may have) is gone. A key that
// exists with its markers all there (the batch never reached it, someone uploaded it since) is left.
export function needsMarker(versions: ObjectVersion[], undeleted: {versionIds: string[]}): boolean {
  const newest = newestFirst(versions)[0]
  return newest !== undefined && !newest.deleteMarker && undeleted.versionIds.some(id => !versions.some(v => v.versionId === id))
}

// A key that does not exist needs nothing (one HEAD); one that does, where the run may not have been, is
// listed to see whose doing that is.
const markerDue = async (bucket: Bucket, undeleted: RevertAction['markers'][number], call: {signal?: AbortSignal}) =>
  await bucket.exists(undeleted.key, undefined, call) && (!undeleted.unsure || needsMarker(await bucket.keyVersions(undeleted.key, call), undeleted))

const readBackSignal = () => AbortSignal.timeout(15_000)

// A write whose answer did not come (a timeout, a lost connection, a 5xx) may have been made.
const inDoubt = (error: unknown) => error instanceof S3Failure && error.applied === 'unknown'

// One action; when its outcome is in doubt (cut off by Ctrl-C, no answer), the key is read back.
async function perform(bucket: Bucket, action: FileAction, result: BatchResult, writeSignal: AbortSignal) {
  if (action.kind === 'copy') return copyBack(bucket, action, result, writeSignal)
  // The newest marker first: the key stays deleted until the last one goes.
  const gone: string[] = []
  for (const marker of action.markers) {
    try {
      await bucket.deleteVersion(action.key, marker, {signal: writeSignal})
    } catch (error) {
      let removed = false
      if (writeSignal.aborted || inDoubt(error)) {
        try {
          removed = !(await bucket.keyVersions(action.key, {signal: readBackSignal()})).some(v => v.versionId === marker)
        } catch {
          // Not known: the undo reads the key.
          result.markersRemoved.push({key: action.key, versionIds: action.markers, unsure: true})
          throw error
        }
      }
      // Read back as removed, the answer was lost, not the change: on to the next marker.
      if (!removed) {
        if (gone.length > 0) result.markersRemoved.push({key: action.key, versionIds: gone})
        throw error
      }
    }
    gone.push(marker)
  }
  result.markersRemoved.push({key: action.key, versionIds: gone})
}

// A copy back, never sent twice blindly: after a failure the key is read back; the copy is sent again only
// when S3 turned it away for the rate and the key shows it was not made.
async function copyBack(bucket: Bucket, action: Copy, result: BatchResult, writeSignal: AbortSignal) {
  const trace = traceOf(action)
  for (let attempt = 1; ; attempt++) {
    try {
      const versionId = await bucket.copyBack(action.key, action.versionId, {signal: writeSignal})
      result.versionsCreated.push({key: action.key, versionId, from: action.versionId})
      return
    } catch (error) {
      let made: string | undefined
      try {
        [made] = copiesMade(await bucket.keyVersions(action.key, {signal: readBackSignal()}), trace)
      } catch {
        result.unsure.push(trace)
        throw error
      }
      if (made) {
        result.versionsCreated.push({key: action.key, versionId: made, from: action.versionId})
        return
      }
      if (writeSignal.aborted || !isThrottled(error) || attempt === COPY_ATTEMPTS) {
        // Not made yet; one that got no answer may still be made, later.
        if (writeSignal.aborted || inDoubt(error)) result.unsure.push(trace)
        throw error
      }
      await sleep(Math.min(8000, 250 * 2 ** attempt * (0.5 + Math.random())), writeSignal)
    }
  }
}

async function pool<T>(items: T[], limit: number, work: (item: T) => Promise<void>) {
  let next = 0
  await Promise.all(Array.from({length: Math.min(limit, items.length)}, async () => {
    while (next < items.length) await work(items[next++])
  }))
}

// The plan's batches: BATCH_SIZE files each, in the order the listing found them.
export function planBatches(app: string, ref: BucketRef, actions: FileAction[]): Planned[] {
  const bucket = locatorOf(ref)
  const batches: Planned[] = []
  for (let first = 0; first < actions.length; first += BATCH_SIZE) {
    batches.push({id: `files-${batches.length + 1}`, kind: 'files-batch', app, bucket, actions: actions.slice(first, first + BATCH_SIZE), first: first + 1, total: actions.length})
  }
  return batches
}

export const recoverFileSteps: BuildersOf<'files-batch'> = {
  'files-batch'({app, bucket: locator, actions: batch, first, total}): Omit<Step<BatchResult>, 'id'> {
    const undeletes = batch.filter(a => a.kind === 'undelete').length
    const copies = batch.length - undeletes
    const what = [undeletes ? `undelete ${undeletes}` : '', copies ? `copy back ${copies}` : ''].filter(Boolean).join(', ')
    return {
      title: `Recover files ${first}-${first + batch.length - 1}${total > batch.length ? ` of ${total}` : ''} (${what})`,
      async apply(context) {
        const {signal, writeSignal, status} = context
        const bucket = await bucketIn(context, app, locator)
        const result: BatchResult = {markersRemoved: [], versionsCreated: [], unsure: [], failed: [], stopped: false, startedAt: Date.now()}
        let done = 0
        await pool(batch, CONCURRENCY, async action => {
          if (signal.aborted) {
            result.stopped = true
            return
          }
          try {
            await perform(bucket, action, result, writeSignal)
          } catch (error) {
            if (writeSignal.aborted || signal.aborted) result.stopped = true
            else result.failed.push({key: action.key, error: messageOf(error)})
          }
          status(`${++done} of ${batch.length}`)
        })
        return result
      },
      // The batch's changes exist from here on (its undo is due if the run stops): a partial batch
      // is reported as what it is.
      async then(_context, result) {
        if (result.stopped) throw new Aborted()
        if (result.failed.length > 0) {
          throw new Error(`${result.failed.length} of ${batch.length} files could not be recovered; the first, ${result.failed[0].key}: ${result.failed[0].error}`)
        }
        return result
      },
      undo(result, run = 'RUN') {
        const undeleted = result?.markersRemoved.length ?? undeletes
        const created = result?.versionsCreated.length ?? copies
        const unsure = result?.unsure.length ?? 0
        return {
          title: `Put these files back as they were (${revertCounts(undeleted, created, unsure)})`,
          command: `heroku files:recover --app ${app} --undo ${run}`,
          action: result ? revertAction(app, locator, result) : undefined,
          automatic: true,
        }
      },
      // Logged before the batch starts: if the process dies half-way, this puts back what was made.
      undoPartial: run => ({
        title: `Put these files back as they were (whatever of these ${batch.length} was changed, read from the bucket)`,
        command: `heroku files:recover --app ${app} --undo ${run}`,
        action: plannedRevert(app, locator, batch, Date.now()),
        automatic: true,
      }),
      done: result => `${result.markersRemoved.length} undeleted, ${result.versionsCreated.length} copied back`,
    }
  },
}

// The undo of a batch, run by the runner, recovery:resume or `files:recover --undo`: each key checked
// first, so that doing it twice changes nothing more.
export async function performRevert(api: Api, action: RevertAction): Promise<void> {
  const bucket = await bucketFor(api, action)
  const call = {signal: api.settings.signal}
  try {
    await pool(action.versions, CONCURRENCY, async ({key, versionId}) => {
      if (await bucket.exists(key, versionId, call)) await bucket.deleteVersion(key, versionId, call)
    })
    await pool(action.copies ?? [], CONCURRENCY, async copy => {
      for (const versionId of copiesMade(await bucket.keyVersions(copy.key, call), copy, action.since)) await bucket.deleteVersion(copy.key, versionId, call)
    })
    await pool(action.markers, CONCURRENCY, async undeleted => {
      if (await markerDue(bucket, undeleted, call)) await bucket.addDeleteMarker(undeleted.key, call)
    })
  } finally {
    bucket.destroy()
  }
}

export async function isReverted(api: Api, action: RevertAction): Promise<boolean> {
  const bucket = await bucketFor(api, action)
  const call = {signal: api.settings.signal}
  try {
    let reverted = true
    await pool(action.versions, CONCURRENCY, async ({key, versionId}) => {
      if (reverted && await bucket.exists(key, versionId, call)) reverted = false
    })
    await pool(action.markers, CONCURRENCY, async undeleted => {
      if (reverted && await markerDue(bucket, undeleted, call)) reverted = false
    })
    await pool(action.copies ?? [], CONCURRENCY, async copy => {
      if (reverted && copiesMade(await bucket.keyVersions(copy.key, call), copy, action.since).length > 0) reverted = false
    })
    return reverted
  } finally {
    bucket.destroy()
  }
}

// The versions the action would remove that were written before `since` (so not by the run).
export async function olderVersions(api: Api, action: RevertAction, since: number): Promise<string[]> {
  const bucket = await bucketFor(api, action)
  const call = {signal: api.settings.signal}
  const older: string[] = []
  try {
    const byKey = new Map<string, string[]>()
    for (const {key, versionId} of action.versions) byKey.set(key, [...byKey.get(key) ?? [], versionId])
    await pool([...byKey], CONCURRENCY, async ([key, ids]) => {
      const versions = await bucket.keyVersions(key, call)
      for (const v of versions) if (ids.includes(v.versionId) && v.lastModified < since) older.push(key)
    })
    return older
  } finally {
    bucket.destroy()
  }
}

const bucketFor = (api: Api, action: RevertAction): Promise<Bucket> => openLocated(api, action.app, action.bucket)
