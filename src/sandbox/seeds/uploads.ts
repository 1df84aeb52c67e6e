import {randomBytes} from 'node:crypto'
import type {Heroku} from '../heroku/heroku.js'
import type {S3Bucket} from '../heroku/s3.js'
import type {App} from '../heroku/state.js'
import {bucketConfig, newAccessKeys} from '../heroku/storage-addons.js'

const MINUTE = 60_000
const HOUR = 60 * MINUTE

// What happened to a bucket's files after a time, as seeded.
export interface UploadsHistory {
  app: App
  // Every file was as it should be at this time (whole second, ISO 8601).
  recoverTo: string
  // The content of each key at `recoverTo`.
  before: Map<string, Buffer>
  deleted: string[]
  overwritten: string[]
  created: string[]
  // Deleted once, restored by the app, deleted again: two delete markers after the time.
  deletedTwice: string
}

export interface MissingUploads extends UploadsHistory {
  bucket: S3Bucket
}

// The runbook's "missing uploaded files": an app on Bucketeer (the sandbox's S3) with 12 uploads, then,
// after `recoverTo`, a bad deploy's cleanup job deletes 4 of them (one of them twice), overwrites 2 and
// new uploads arrive. Times are set directly, without waiting.
export function seedMissingUploads(sandbox: Heroku, app: App, options: {bucket?: string, versioning?: boolean} = {}): MissingUploads {
  const keys = newAccessKeys()
  const bucket = sandbox.s3.createBucket(options.bucket ?? `${app.name}-uploads`, {app: app.name, versioning: options.versioning === false ? undefined : 'Enabled'})
  Object.assign(app.config, bucketConfig('bucketeer', bucket.name, sandbox.s3Endpoint, keys))
  const now = Date.now()
  const recoverTo = Math.floor((now - HOUR) / 1000) * 1000
  const before = new Map<string, Buffer>()
  for (let i = 1; i <= 12; i++) {
    const key = `uploads/avatars/user-${i}.png`
    const content = randomBytes(200 + i * 37)
    sandbox.s3.put(bucket, key, content, now - 3 * HOUR + i * MINUTE)
    before.set(key, content)
  }
  const deleted = ['uploads/avatars/user-2.png', 'uploads/avatars/user-5.png', 'uploads/avatars/user-7.png', 'uploads/avatars/user-11.png']
  const overwritten = ['uploads/avatars/user-3.png', 'uploads/avatars/user-9.png']
  const created = ['uploads/avatars/user-13.png', 'uploads/avatars/user-14.png']
  for (const key of deleted) sandbox.s3.delete(bucket, key, now - 40 * MINUTE)
  const deletedTwice = deleted[1]
  sandbox.s3.delete(bucket, deletedTwice, now - 20 * MINUTE)
  for (const key of overwritten) sandbox.s3.put(bucket, key, randomBytes(99), now - 30 * MINUTE)
  for (const key of created) sandbox.s3.put(bucket, key, randomBytes(120), now - 10 * MINUTE)
  return {app, bucket, recoverTo: new Date(recoverTo).toISOString(), before, deleted, overwritten, created, deletedTwice}
}

// The benchmark's bucket: `versions` versions in all, over keys with one to four versions each, some
// deleted since; seeded in memory, without HTTP.
export function seedManyVersions(sandbox: Heroku, app: App, versions: number): {bucket: S3Bucket, recoverTo: string} {
  const bucket = sandbox.s3.createBucket(`${app.name}-bulk`, {app: app.name, versioning: 'Enabled'})
  Object.assign(app.config, bucketConfig('bucketeer', bucket.name, sandbox.s3Endpoint, newAccessKeys()))
  const now = Date.now()
  const recoverTo = Math.floor((now - HOUR) / 1000) * 1000
  const body = Buffer.from('x')
  let made = 0
  for (let i = 0; made < versions; i++) {
    const key = `uploads/${String(i % 1000).padStart(3, '0')}/file-${i}.bin`
    const count = Math.min(1 + (i % 4), versions - made)
    for (let v = 0; v < count; v++) {
      const at = v === 0 ? now - 5 * HOUR : now - 30 * MINUTE + v * 1000
      if (v > 0 && i % 7 === 0) sandbox.s3.delete(bucket, key, at)
      else sandbox.s3.put(bucket, key, body, at)
      made++
    }
  }
  return {bucket, recoverTo: new Date(recoverTo).toISOString()}
}
