import {Aborted, sleep} from '../abort.js'
import type {Api} from '../api/client.js'
import {messageOf} from '../errors.js'
import type {ActionOf} from '../runner/actions.js'
import {revertCounts} from './actions.js'
import type {Step} from '../runner/step.js'
import type {BucketRef} from './bucket.js'
import type {FileAction} from './plan.js'
import {type Bucket, isThrottled, type ObjectVersion} from './s3.js'

// files:recover's changes as runner steps: the actions in batches, each batch applied with bounded
// concurrency (the SDK retries S3's throttling). Each batch records every delete marker it removed and
// every version it created; its undo, as data in the run log, puts a delete marker back on each key it
// undeleted and removes each version it created, which leaves every key exactly as it was.

export const BATCH_SIZE = 250
export const CONCURRENCY = 8
// A copy S3 turned away for the rate is sent again up to this many times in all (after reading the key back).
const COPY_ATTEMPTS = 6

// Where the bucket is, for an undo run by another process (recovery:resume): names only, the
// credentials are read again from the app's config vars.
export interface BucketLocator {
  bucket: string
  provider: BucketRef['provider']
  endpoint?: string
}

export const locatorOf = (ref: BucketRef): BucketLocator => ({bucket: ref.bucket, provider: ref.provider, ...(ref.endpoint ? {endpoint: ref.endpoint} : {})})

export interface BatchResult {
  // Keys undeleted by removing their delete markers (the marker version ids removed).
  markersRemoved: {key: string, versionIds: string[]}[]
  // Versions created by copying an older one back.
  versionsCreated: {key: string, versionId: string, from: string}[]
  failed: {key: string, error: string}[]
  // Ctrl-C came before every action of the batch was started.
  stopped: boolean
}

export type RevertAction = ActionOf<'files-revert'>

export function revertAction(app: string, ref: BucketRef, result: BatchResult): RevertAction {
  return {kind: 'files-revert', app, bucket: locatorOf(ref), markers: result.markersRemoved, versions: result.versionsCreated.map(({key, versionId}) => ({key, versionId}))}
}

const readBackSignal = () => AbortSignal.timeout(15_000)

// One action, and, when its answer was cut off, a read-back that says whether it happened.
async function perform(bucket: Bucket, action: FileAction, result: BatchResult, writeSignal: AbortSignal) {
  try {
    if (action.kind === 'undelete') {
      // The newest marker first: the key stays deleted until the last one goes.
      for (const [i, marker] of action.markers.entries()) {
        try {
          await bucket.deleteVersion(action.key, marker, {signal: writeSignal})
        } catch (error) {
          if (i === 0) throw error
          result.markersRemoved.push({key: action.key, versionIds: action.markers.slice(0, i)})
          throw error
        }
      }
      result.markersRemoved.push({key: action.key, versionIds: action.markers})
    } else {
      await copyBack(bucket, action, result, writeSignal)
    }
  } catch (error) {
    if (!writeSignal.aborted) throw error
    // The answer was cut off: read the key back to learn what happened.
    const now = await bucket.keyVersions(action.key, {signal: readBackSignal()})
    if (action.kind === 'undelete') {
      const left = new Set(now.map(v => v.versionId))
      const removed = action.markers.filter(m => !left.has(m))
      const recorded = result.markersRemoved.find(m => m.key === action.key)
      if (recorded) recorded.versionIds = removed
      else if (removed.length > 0) result.markersRemoved.push({key: action.key, versionIds: removed})
    } else {
      const made = newVersion(now, action)
      if (made) result.versionsCreated.push({key: action.key, versionId: made, from: action.versionId})
    }
    throw error
  }
}

type Copy = Extract<FileAction, {kind: 'copy'}>

// The version a copy of `action` made, if the key's newest version is one the plan did not know.
function newVersion(versions: ObjectVersion[], action: Copy): string | undefined {
  const newest = versions.find(v => v.isLatest)
  return newest && !newest.deleteMarker && newest.versionId !== action.latest && newest.versionId !== action.versionId ? newest.versionId : undefined
}

// A copy back, never sent twice blindly: after a failure the key is read back; the copy is sent again only
// when S3 turned it away for the rate and the key shows it was not made.
async function copyBack(bucket: Bucket, action: Copy, result: BatchResult, writeSignal: AbortSignal) {
  for (let attempt = 1; ; attempt++) {
    try {
      const versionId = await bucket.copyBack(action.key, action.versionId, {signal: writeSignal})
      result.versionsCreated.push({key: action.key, versionId, from: action.versionId})
      return
    } catch (error) {
      if (writeSignal.aborted) throw error
      const made = newVersion(await bucket.keyVersions(action.key, {signal: readBackSignal()}), action)
      if (made) {
        result.versionsCreated.push({key: action.key, versionId: made, from: action.versionId})
        return
      }
      if (!isThrottled(error) || attempt === COPY_ATTEMPTS) throw error
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

export function recoverSteps(app: string, bucket: Bucket, actions: FileAction[]): Step<BatchResult>[] {
  const batches: FileAction[][] = []
  for (let i = 0; i < actions.length; i += BATCH_SIZE) batches.push(actions.slice(i, i + BATCH_SIZE))
  return batches.map((batch, index): Step<BatchResult> => {
    const undeletes = batch.filter(a => a.kind === 'undelete').length
    const copies = batch.length - undeletes
    const what = [undeletes ? `undelete ${undeletes}` : '', copies ? `copy back ${copies}` : ''].filter(Boolean).join(', ')
    return {
      id: `files-${index + 1}`,
      title: `Recover files ${index * BATCH_SIZE + 1}-${index * BATCH_SIZE + batch.length}${batches.length > 1 ? ` of ${actions.length}` : ''} (${what})`,
      async apply({signal, writeSignal, status}) {
        const result: BatchResult = {markersRemoved: [], versionsCreated: [], failed: [], stopped: false}
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
        return {
          title: `Put these files back as they were (${revertCounts(undeleted, created)})`,
          command: `heroku files:recover --app ${app} --undo ${run}`,
          action: result ? revertAction(app, bucket.ref, result) : undefined,
          automatic: true,
        }
      },
      done: result => `${result.markersRemoved.length} undeleted, ${result.versionsCreated.length} copied back`,
    }
  })
}

// The run's totals, for the final message and --json.
export function totals(results: (BatchResult | undefined)[]) {
  const present = results.filter((r): r is BatchResult => r !== undefined)
  return {
    undeleted: present.reduce((n, r) => n + r.markersRemoved.length, 0),
    markersRemoved: present.reduce((n, r) => n + r.markersRemoved.reduce((m, k) => m + k.versionIds.length, 0), 0),
    copiedBack: present.reduce((n, r) => n + r.versionsCreated.length, 0),
  }
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
    await pool(action.markers, CONCURRENCY, async ({key}) => {
      if (await bucket.exists(key, undefined, call)) await bucket.addDeleteMarker(key, call)
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
    await pool([...action.versions, ...action.markers.map(({key}) => ({key, versionId: undefined}))], CONCURRENCY, async ({key, versionId}) => {
      if (reverted && await bucket.exists(key, versionId, call)) reverted = false
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

async function bucketFor(api: Api, action: RevertAction): Promise<Bucket> {
  const [{openAppBucket}] = await Promise.all([import('./gather.js')])
  const bucket = await openAppBucket(api, action.app, {bucket: action.bucket.provider === 'aws' ? action.bucket.bucket : undefined, endpoint: action.bucket.endpoint})
  if (bucket.ref.bucket !== action.bucket.bucket) {
    bucket.destroy()
    throw new Error(`${action.app}'s config vars now name bucket ${bucket.ref.bucket}, not ${action.bucket.bucket}: put the files back by hand.`)
  }
  return bucket
}
