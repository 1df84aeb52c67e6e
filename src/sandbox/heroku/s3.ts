import {createHash, randomBytes} from 'node:crypto'
import {S3Error} from './errors.js'

// The versioned S3 buckets behind apps' storage add-ons (Bucketeer, Cloudcube, an app's own AWS bucket).
// routes/s3.ts serves them with S3's calls, XML and errors.

export interface S3Version {
  versionId: string
  deleteMarker: boolean
  body?: Buffer
  etag?: string
  lastModified: number
  storageClass?: string
}

export interface S3Bucket {
  name: string
  // The app whose config vars point at it: faults aimed at that app hit its requests.
  app?: string
  versioning?: 'Enabled' | 'Suspended'
  lifecycleXml?: string
  // Oldest first, per key.
  objects: Map<string, S3Version[]>
  // Access key ids the bucket refuses writes to (AccessDenied), as an add-on's read-only credentials are.
  readOnlyKeys: Set<string>
  sortedKeys?: string[]
  versionCount: number
}

const newVersionId = () => randomBytes(24).toString('base64url')
const md5 = (body: Buffer) => `"${createHash('md5').update(body).digest('hex')}"`

export class SandboxS3 {
  readonly buckets = new Map<string, S3Bucket>()

  createBucket(name: string, options: {app?: string, versioning?: 'Enabled' | 'Suspended', readOnlyKeys?: string[]} = {}): S3Bucket {
    const bucket: S3Bucket = {name, app: options.app, versioning: options.versioning, objects: new Map(), readOnlyKeys: new Set(options.readOnlyKeys ?? []), versionCount: 0}
    this.buckets.set(name, bucket)
    return bucket
  }

  bucket(name: string): S3Bucket {
    const found = this.buckets.get(name)
    if (!found) throw new S3Error(404, 'NoSuchBucket', 'The specified bucket does not exist')
    return found
  }

  // Writes without HTTP, with any time: scenarios and the benchmark's 100,000 versions.
  put(bucket: S3Bucket, key: string, body: Buffer | string, at = Date.now(), storageClass?: string): S3Version {
    const data = Buffer.isBuffer(body) ? body : Buffer.from(body)
    return this.add(bucket, key, {versionId: this.versionIdFor(bucket), deleteMarker: false, body: data, etag: md5(data), lastModified: at, storageClass})
  }

  delete(bucket: S3Bucket, key: string, at = Date.now()): S3Version | undefined {
    if (!bucket.versioning) {
      if (bucket.objects.delete(key)) bucket.sortedKeys = undefined
      return undefined
    }
    return this.add(bucket, key, {versionId: this.versionIdFor(bucket), deleteMarker: true, lastModified: at})
  }

  // Removes one version for good (a DELETE with a versionId); undefined when there is no such version.
  deleteVersion(bucket: S3Bucket, key: string, versionId: string): S3Version | undefined {
    const versions = bucket.objects.get(key)
    const index = versions?.findIndex(v => v.versionId === versionId) ?? -1
    if (index === -1) return undefined
    const [removed] = versions!.splice(index, 1)
    bucket.versionCount--
    if (versions!.length === 0) {
      bucket.objects.delete(key)
      bucket.sortedKeys = undefined
    }
    return removed
  }

  // The content of a key now (undefined when deleted or absent).
  current(bucket: S3Bucket, key: string): Buffer | undefined {
    const newest = bucket.objects.get(key)?.at(-1)
    return newest && !newest.deleteMarker ? newest.body : undefined
  }

  // The bucket's keys, sorted; kept until a key comes or goes.
  keys(bucket: S3Bucket): string[] {
    return (bucket.sortedKeys ??= [...bucket.objects.keys()].sort((a, b) => a < b ? -1 : a > b ? 1 : 0))
  }

  private versionIdFor(bucket: S3Bucket) {
    return bucket.versioning === 'Enabled' ? newVersionId() : 'null'
  }

  private add(bucket: S3Bucket, key: string, version: S3Version): S3Version {
    let versions = bucket.objects.get(key)
    if (!versions) {
      versions = []
      bucket.objects.set(key, versions)
      bucket.sortedKeys = undefined
    }
    // Without versioning (or suspended), the 'null' version is replaced.
    if (version.versionId === 'null') {
      const index = versions.findIndex(v => v.versionId === 'null')
      if (index !== -1) {
        versions.splice(index, 1)
        bucket.versionCount--
      }
    }
    versions.push(version)
    bucket.versionCount++
    return version
  }
}
