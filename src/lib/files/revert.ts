import type {Api} from '../api/client.js'
import type {ActionOf} from '../runner/actions.js'
import {openLocated} from './gather.js'
import {newestFirst, sameContent} from './plan.js'
import type {Bucket, ObjectVersion} from './s3.js'

// files:recover's undo, run by the runner, recovery:resume or `files:recover --undo`: each key read back
// first, so that doing it twice changes nothing more, and only what the run made is taken back.

type RevertAction = ActionOf<'files-revert'>

// S3 calls in flight at once.
export const CONCURRENCY = 8

// A copy back as the undo finds it again: the key, the version copied (with its ETag and size) and the
// newest version when the plan was made.
export type CopyTrace = NonNullable<RevertAction['copies']>[number]

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

export async function pool<T>(items: T[], limit: number, work: (item: T) => Promise<void>) {
  let next = 0
  await Promise.all(Array.from({length: Math.min(limit, items.length)}, async () => {
    while (next < items.length) await work(items[next++])
  }))
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
