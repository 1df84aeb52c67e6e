import type {LifecycleRule, S3Client} from '@aws-sdk/client-s3'
import {ApiFailure} from '../api/client.js'
import {formatDuration} from '../duration.js'
import {type BucketRef, type Credentials, providerName} from './bucket.js'

// The S3 calls of files:protect and files:recover, through the AWS SDK (SigV4, S3's XML, retries of
// throttling with back-off). The SDK is imported only here, and only when a files command runs, so that
// no other command pays for loading it. Path-style addressing on custom endpoints (the sandbox, moto,
// other S3-compatible stores).

export interface ObjectVersion {
  key: string
  versionId: string
  isLatest: boolean
  // Milliseconds since the epoch (S3 keeps whole seconds).
  lastModified: number
  deleteMarker: boolean
  storageClass?: string
  etag?: string
  size?: number
}

export type {LifecycleRule} from '@aws-sdk/client-s3'
export type Versioning = 'Enabled' | 'Suspended' | 'Never enabled'

// An S3 error in one line: its code and message, and whether the credentials were refused the call.
// Like the Platform API's failures, a write that got a 5xx or no answer may have been applied: the
// runner then reads the bucket back before anything is sent again.
export class S3Failure extends ApiFailure {
  constructor(message: string, readonly code: string, status: number | undefined, applied: false | 'unknown' = false) {
    super(message, status, code, applied)
  }

  get denied() {
    return this.status === 403 || /AccessDenied|InvalidAccessKeyId|SignatureDoesNotMatch|AllAccessDisabled/.test(this.code)
  }
}

const isAbortError = (error: any) => error?.name === 'AbortError' || error?.code === 'ABORT_ERR'
const isTimeout = (error: any) => error?.name === 'TimeoutError' || error?.code === 'ETIMEDOUT'

const WRITES = /^(Put|Delete|Copy)/

// No answer in time: a write may still have been applied (read it back), a read says so in one line.
const timedOut = (what: string, ms: number) =>
  new S3Failure(`${what} failed (no answer within ${formatDuration(ms)})`, 'Timeout', undefined, WRITES.test(what) ? 'unknown' : false)

function failure(error: any, what: string): Error {
  if (isAbortError(error)) return error
  const code = error?.Code ?? error?.name ?? 'Error'
  const status = error?.$metadata?.httpStatusCode
  const text = error?.message && error.message !== code && !/^UnknownError$/.test(error.message) ? `: ${error.message}` : ''
  const applied = WRITES.test(what) && (status === undefined || status >= 500) ? 'unknown' : false
  return new S3Failure(`${what} failed (${code}${status ? `, HTTP ${status}` : ''})${text}`, code, status, applied)
}

// S3 turned the request away for the rate (SlowDown, 503): it did not act on it.
export const isThrottled = (error: unknown) => error instanceof S3Failure && (error.status === 503 || /SlowDown|Throttl|RequestLimitExceeded/.test(error.code))

// Not found: NoSuchKey, NoSuchVersion, NotFound (HEAD answers carry no code), or a delete marker.
const isMissing = (error: any) => error instanceof S3Failure && (error.status === 404 || /NoSuchKey|NoSuchVersion|NotFound/.test(error.code))

export interface Call {
  signal?: AbortSignal
}

// How long one call may take, the SDK's retries of throttling included (--wait-timeout).
export const DEFAULT_CALL_TIMEOUT_MS = 120_000

export class Bucket {
  // `once` makes one attempt: a write that creates a version is never sent again without reading the key first.
  private constructor(readonly ref: BucketRef, private readonly client: S3Client, private readonly once: S3Client, private readonly sdk: typeof import('@aws-sdk/client-s3'), private readonly timeoutMs: number) {}

  static async open(ref: BucketRef, credentials: Credentials, options: {timeoutMs?: number} = {}): Promise<Bucket> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS
    // The SDK warns on stderr about Node.js versions it will drop in the future; the CLI's output is not the place.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
    const sdk = await import('@aws-sdk/client-s3')
    const client = (maxAttempts: number) => new sdk.S3Client({
      region: ref.region, credentials, endpoint: ref.endpoint, forcePathStyle: Boolean(ref.endpoint),
      maxAttempts, retryMode: 'standard',
      // A request with no answer is an error (by default the SDK only warns, and waits for ever).
      requestHandler: {requestTimeout: Math.min(timeoutMs, 60_000), connectionTimeout: Math.min(timeoutMs, 10_000), throwOnRequestTimeout: true},
      // Checksums only where S3 requires them (lifecycle rules): the sandbox and older S3-compatible stores know no others.
      requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED',
    })
    return new Bucket(ref, client(6), client(1), sdk, timeoutMs)
  }

  // Each call gets a signal of its own (the caller's, and the deadline): the SDK's listeners go on it, not
  // on a signal shared by a whole batch.
  private async send<T>(command: any, what: string, call: Call = {}, client = this.client): Promise<T> {
    const deadline = AbortSignal.timeout(this.timeoutMs)
    const signal = call.signal ? AbortSignal.any([call.signal, deadline]) : deadline
    try {
      return await client.send(command, {abortSignal: signal}) as T
    } catch (error) {
      if (!call.signal?.aborted && (deadline.aborted || isTimeout(error))) throw timedOut(what, this.timeoutMs)
      throw failure(error, what)
    }
  }

  async versioning(call?: Call): Promise<Versioning> {
    const out = await this.send<{Status?: string}>(new this.sdk.GetBucketVersioningCommand({Bucket: this.ref.bucket}), 'GetBucketVersioning', call)
    return out.Status === 'Enabled' ? 'Enabled' : out.Status === 'Suspended' ? 'Suspended' : 'Never enabled'
  }

  async enableVersioning(call?: Call): Promise<void> {
    await this.send(new this.sdk.PutBucketVersioningCommand({Bucket: this.ref.bucket, VersioningConfiguration: {Status: 'Enabled'}}), 'PutBucketVersioning', call)
  }

  // The bucket's lifecycle rules; none is an empty list (S3 answers NoSuchLifecycleConfiguration).
  async lifecycle(call?: Call): Promise<LifecycleRule[]> {
    try {
      const out = await this.send<{Rules?: LifecycleRule[]}>(new this.sdk.GetBucketLifecycleConfigurationCommand({Bucket: this.ref.bucket}), 'GetBucketLifecycleConfiguration', call)
      return out.Rules ?? []
    } catch (error) {
      if (error instanceof S3Failure && error.code === 'NoSuchLifecycleConfiguration') return []
      throw error
    }
  }

  async putLifecycle(rules: LifecycleRule[], call?: Call): Promise<void> {
    if (rules.length === 0) {
      await this.send(new this.sdk.DeleteBucketLifecycleCommand({Bucket: this.ref.bucket}), 'DeleteBucketLifecycle', call)
      return
    }
    await this.send(new this.sdk.PutBucketLifecycleConfigurationCommand({Bucket: this.ref.bucket, LifecycleConfiguration: {Rules: rules}}), 'PutBucketLifecycleConfiguration', call)
  }

  // Every version and delete marker under `prefix`, a page at a time (one page in memory), in S3's order:
  // by key, newest first within a key. The SDK splits a page into versions and markers; they are merged back.
  async* versions(prefix: string, call: Call & {pageSize?: number} = {}): AsyncGenerator<ObjectVersion[]> {
    let keyMarker: string | undefined
    let versionIdMarker: string | undefined
    for (;;) {
      const page = await this.send<any>(new this.sdk.ListObjectVersionsCommand({
        Bucket: this.ref.bucket, Prefix: prefix || undefined, KeyMarker: keyMarker, VersionIdMarker: versionIdMarker, MaxKeys: call.pageSize ?? 1000,
      }), 'ListObjectVersions', call)
      const entries: ObjectVersion[] = [
        ...(page.Versions ?? []).map((v: any) => ({
          key: v.Key, versionId: v.VersionId ?? 'null', isLatest: Boolean(v.IsLatest), lastModified: new Date(v.LastModified).getTime(),
          deleteMarker: false, storageClass: v.StorageClass, etag: v.ETag, size: v.Size,
        })),
        ...(page.DeleteMarkers ?? []).map((m: any) => ({
          key: m.Key, versionId: m.VersionId ?? 'null', isLatest: Boolean(m.IsLatest), lastModified: new Date(m.LastModified).getTime(), deleteMarker: true,
        })),
      ]
      entries.sort((a, b) => a.key < b.key ? -1 : a.key > b.key ? 1 : 0)
      yield entries
      if (!page.IsTruncated) return
      keyMarker = page.NextKeyMarker
      versionIdMarker = page.NextVersionIdMarker
      if (!keyMarker) throw new S3Failure('ListObjectVersions said there was more but gave no marker to go on from', 'Truncated', undefined)
    }
  }

  // The versions of exactly one key, newest first.
  async keyVersions(key: string, call?: Call): Promise<ObjectVersion[]> {
    const found: ObjectVersion[] = []
    for await (const page of this.versions(key, {...call, pageSize: 1000})) found.push(...page.filter(v => v.key === key))
    return found
  }

  // Removes one version or delete marker for good (removing a marker undeletes what it hid).
  async deleteVersion(key: string, versionId: string, call?: Call): Promise<void> {
    await this.send(new this.sdk.DeleteObjectCommand({Bucket: this.ref.bucket, Key: key, VersionId: versionId}), 'DeleteObject', call)
  }

  // A delete as the app makes one: with versioning on, a new delete marker. Returns the marker's version id.
  // One attempt: each one adds a marker (the caller reads the key back).
  async addDeleteMarker(key: string, call?: Call): Promise<string | undefined> {
    const out = await this.send<{VersionId?: string}>(new this.sdk.DeleteObjectCommand({Bucket: this.ref.bucket, Key: key}), 'DeleteObject', call, this.once)
    return out.VersionId
  }

  // Copies an older version of a key on top of it, inside S3 (the content never leaves it), in one
  // attempt: each copy makes a new version, so a failed one is read back before anything is sent again.
  // Returns the new version's id.
  async copyBack(key: string, versionId: string, call?: Call): Promise<string> {
    const source = `${this.ref.bucket}/${encodeURIComponent(key).replace(/%2F/g, '/')}?versionId=${encodeURIComponent(versionId)}`
    const out = await this.send<{VersionId?: string}>(new this.sdk.CopyObjectCommand({Bucket: this.ref.bucket, Key: key, CopySource: source}), 'CopyObject', call, this.once)
    if (!out.VersionId) throw new S3Failure('CopyObject gave no version id: is versioning on?', 'NoVersionId', undefined)
    return out.VersionId
  }

  // Whether the key exists now (its newest version is not a delete marker), or one version of it.
  async exists(key: string, versionId?: string, call?: Call): Promise<boolean> {
    try {
      await this.send(new this.sdk.HeadObjectCommand({Bucket: this.ref.bucket, Key: key, VersionId: versionId}), 'HeadObject', call)
      return true
    } catch (error) {
      if (isMissing(error) || (versionId && error instanceof S3Failure && error.status === 405)) return false
      throw error
    }
  }

  // For tests and the demo: the bytes of one version.
  async read(key: string, versionId?: string, call?: Call): Promise<Buffer> {
    const out = await this.send<any>(new this.sdk.GetObjectCommand({Bucket: this.ref.bucket, Key: key, VersionId: versionId}), 'GetObject', call)
    return Buffer.from(await out.Body.transformToByteArray())
  }

  destroy() {
    this.client.destroy()
    this.once.destroy()
  }
}

const whoManages = (ref: BucketRef) => ref.provider === 'aws' ? 'whoever manages the AWS account' : `${providerName(ref.provider)} support`

// What to tell an engineer whose credentials may read the bucket but not change it (files:protect --apply).
export function deniedAdvice(ref: BucketRef, what: string): string {
  return `The credentials in ${ref.keyVars.accessKeyId} are not allowed to ${what} for bucket ${ref.bucket}. Ask ${whoManages(ref)} to turn on versioning `
    + 'and keep noncurrent versions (a lifecycle rule with NoncurrentVersionExpiration), or for credentials with s3:PutBucketVersioning and s3:PutLifecycleConfiguration.'
}

// The same when they may not even read the bucket's settings: the read permissions they lack.
export const readDeniedAdvice = (ref: BucketRef, permissions: string[]) =>
  `The credentials in ${ref.keyVars.accessKeyId} may not read the settings of bucket ${ref.bucket}: ask ${whoManages(ref)} for ${permissions.join(' and ')}.`
