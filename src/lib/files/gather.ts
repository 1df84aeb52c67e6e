import type {Api} from '../api/client.js'
import type {StepContext} from '../runner/step.js'
import {Refused} from '../errors.js'
import {type BucketLocator, type BucketOptions, type BucketRef, findBucket, readConfig} from './bucket.js'
import {keptDays, type Protection} from './plan.js'
import {Bucket, type LifecycleRule, readDeniedAdvice, S3Failure} from './s3.js'

// What files:protect and files:recover read before deciding anything: the bucket from the app's config
// vars, whether versioning is on, and how long the lifecycle rules keep old versions.

export interface FilesFacts {
  app: string
  ref: BucketRef
  protection: Protection
  rules: LifecycleRule[]
  now: number
}

// `timeoutMs`: how long one S3 call may take (--wait-timeout).
export async function openAppBucket(api: Api, app: string, options: BucketOptions, timeoutMs?: number): Promise<Bucket> {
  const {ref, credentials} = findBucket(await readConfig(api, app), options)
  return Bucket.open(ref, credentials, {timeoutMs})
}

// The bucket a step of a run names, opened again from the app's config vars (for another process, or
// a later step); refused when the config vars now name another bucket.
export async function openLocated(api: Api, app: string, locator: BucketLocator): Promise<Bucket> {
  const bucket = await openAppBucket(api, app, {bucket: locator.provider === 'aws' ? locator.bucket : undefined, endpoint: locator.endpoint}, api.settings.timeoutMs)
  if (bucket.ref.bucket !== locator.bucket) {
    bucket.destroy()
    throw new Error(`${app}'s config vars now name bucket ${bucket.ref.bucket}, not ${locator.bucket}: put the files back by hand.`)
  }
  return bucket
}

// A step's bucket: the one the command opened, or the one the step names opened again once per run (a
// run continued by another process).
export const bucketIn = (context: StepContext, app: string, locator: BucketLocator): Promise<Bucket> =>
  context.resource('bucket', () => openLocated(context.api, app, locator))

// The permission each read of the bucket's settings needs, for a refusal that names the missing ones.
const READ_PERMISSIONS = ['s3:GetBucketVersioning', 's3:GetLifecycleConfiguration']

export async function gatherFiles(api: Api, app: string, bucket: Bucket, prefix = ''): Promise<FilesFacts> {
  const [versioning, rules] = await Promise.allSettled([bucket.versioning(), bucket.lifecycle()])
  if (versioning.status === 'fulfilled' && rules.status === 'fulfilled') {
    const kept = keptDays(rules.value, bucket.ref.prefix + prefix)
    return {app, ref: bucket.ref, protection: {versioning: versioning.value, keptDays: kept.days, rule: kept.rule}, rules: rules.value, now: Date.now()}
  }
  const errors = [versioning, rules].map(r => r.status === 'rejected' ? r.reason as unknown : undefined)
  const denied = READ_PERMISSIONS.filter((_, i) => errors[i] instanceof S3Failure && (errors[i] as S3Failure).denied)
  if (denied.length > 0) throw new Refused(readDeniedAdvice(bucket.ref, denied))
  const error = errors.find(Boolean)
  if (error instanceof S3Failure && error.code === 'NoSuchBucket') throw new Refused(`Bucket ${bucket.ref.bucket} does not exist (${error.message}).`)
  // Only reads so far: any S3 failure (a timeout included) refuses in one line.
  if (error instanceof S3Failure) throw new Refused(`${error.message}.`)
  throw error
}

// Reading failed before anything was changed: an S3 error says so in one line.
export function readFailure(ref: BucketRef, error: unknown): unknown {
  if (!(error instanceof S3Failure)) return error
  const hint = error.denied ? ` The credentials in ${ref.keyVars.accessKeyId} may not read the versions of bucket ${ref.bucket} (s3:ListBucketVersions).` : ''
  return new Refused(`${error.message}.${hint}`)
}

// --keys-from-db: the keys the app's database references, by one read-only query on DATABASE (first
// column of each row). Keys are taken relative to the app's prefix when they do not carry it.
export async function referencedKeys(api: Api, app: string, sql: string, prefix: string): Promise<Set<string>> {
  const [{readOnlyRows}, {resolveAppDatabase, withConnection}] = await Promise.all([import('../recovery/verify.js'), import('../postgres/connect.js')])
  const database = await resolveAppDatabase(api, app, 'DATABASE_URL')
  const rows = await withConnection(database, ({client}) => readOnlyRows(client, sql, undefined, '--keys-from-db'))
  const keys = new Set<string>()
  for (const row of rows) {
    const value = Object.values(row)[0]
    if (typeof value !== 'string' || value === '') continue
    const key = value.replace(/^\/+/, '')
    keys.add(prefix && !key.startsWith(prefix) ? prefix + key : key)
  }
  return keys
}
