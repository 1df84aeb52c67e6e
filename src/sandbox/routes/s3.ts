import {randomBytes} from 'node:crypto'
import {S3Error} from '../heroku/errors.js'
import type {S3Bucket, S3Version, SandboxS3} from '../heroku/s3.js'
import {Reply} from '../server/http.js'
import type {Service} from '../server/server.js'

// The sandbox's S3 buckets (heroku/s3.ts) served with the calls files:protect and files:recover make,
// with S3's XML shapes and errors, path-style under /s3 on the sandbox's port:
// GET/PUT bucket ?versioning, GET/PUT/DELETE ?lifecycle, GET ?versions (paginated), PUT bucket (create),
// GET/HEAD/PUT/DELETE object with versionId, CopyObject (x-amz-copy-source with ?versionId=).
// Signatures are not verified; the access key id in the Authorization header is read, so that a bucket
// can refuse writes to keys it was told are read-only (AccessDenied), as an add-on's credentials may.

const XMLNS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"'

const escapeXml = (text: string) => text.replace(/[&<>"']/g, c => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;'}[c]!))
const iso = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString()
const httpDate = (ms: number) => new Date(ms).toUTCString()

const xml = (body: string, status = 200, headers: Record<string, string> = {}) =>
  new Reply({status, text: `<?xml version="1.0" encoding="UTF-8"?>\n${body}`, headers: {'Content-Type': 'application/xml', ...headers}})

export function s3ErrorReply(status: number, code: string, message: string, headers: Record<string, string> = {}): Reply {
  return xml(`<Error><Code>${code}</Code><Message>${escapeXml(message)}</Message><RequestId>${randomBytes(8).toString('hex')}</RequestId></Error>`, status, headers)
}

// How an injected status fault reads on the S3 side: 503 is S3's throttling answer.
export function s3FaultReply(status: number): Reply {
  if (status === 503) return s3ErrorReply(503, 'SlowDown', 'Please reduce your request rate.')
  if (status === 500) return s3ErrorReply(500, 'InternalError', 'We encountered an internal error. Please try again.')
  if (status === 403) return s3ErrorReply(403, 'AccessDenied', 'Access Denied')
  return s3ErrorReply(status, 'InvalidRequest', 'Injected fault.')
}

// The owner app of the bucket a path names: /s3/BUCKET/...
const ownerOf = (store: SandboxS3, path: string) => store.buckets.get(decodeURIComponent(path.split('/')[2] ?? ''))?.app

export function s3Service(store: SandboxS3): Service {
  const api = new S3Api(store)
  return {
    owns: path => path === '/s3' || path.startsWith('/s3/'),
    // Uploads are bytes: the log keeps no body.
    recorded: () => undefined,
    concerns: (app, request) => ownerOf(store, request.path) === app,
    roundTrip: () => true,
    async answer({record, url, headers, bytes}) {
      record.applied = true
      return api.handle(record.method, url.pathname, url.searchParams, headers, bytes)
    },
    faultReply: fault => s3FaultReply(fault.status),
  }
}

class S3Api {
  constructor(private readonly store: SandboxS3) {}

  handle(method: string, path: string, query: URLSearchParams, headers: Record<string, string | string[] | undefined>, body: Buffer): Reply {
    try {
      return this.route(method, path, query, headers, body)
    } catch (error) {
      if (error instanceof S3Error) return method === 'HEAD' ? new Reply({status: error.status, text: '', headers: error.headers}) : s3ErrorReply(error.status, error.code, error.message, error.headers)
      return s3ErrorReply(500, 'InternalError', (error as Error).message)
    }
  }

  private route(method: string, path: string, query: URLSearchParams, headers: Record<string, string | string[] | undefined>, body: Buffer): Reply {
    const [, , rawBucket, ...rest] = path.split('/')
    if (!rawBucket) throw new S3Error(400, 'InvalidRequest', 'No bucket in the path')
    const name = decodeURIComponent(rawBucket)
    const key = rest.map(decodeURIComponent).join('/')
    const accessKey = /Credential=([^/,\s]+)\//.exec(String(headers.authorization ?? ''))?.[1]
    if (method === 'PUT' && !key && ![...query.keys()].length) {
      if (!this.store.buckets.has(name)) this.store.createBucket(name)
      return new Reply({status: 200, text: '', headers: {Location: `/${name}`}})
    }
    const bucket = this.store.bucket(name)
    const write = method === 'PUT' || method === 'DELETE' || method === 'POST'
    if (write && accessKey && bucket.readOnlyKeys.has(accessKey)) throw new S3Error(403, 'AccessDenied', 'Access Denied')
    if (!key) return this.bucketCall(bucket, method, query, body)
    switch (method) {
      case 'GET': case 'HEAD': return this.getObject(bucket, key, query.get('versionId') ?? undefined, method === 'HEAD')
      case 'PUT': {
        const copySource = headers['x-amz-copy-source']
        return copySource ? this.copyObject(bucket, key, String(copySource)) : this.putObject(bucket, key, body, String(headers['x-amz-storage-class'] ?? '') || undefined)
      }
      case 'DELETE': return this.deleteObject(bucket, key, query.get('versionId') ?? undefined)
      default: throw new S3Error(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.')
    }
  }

  private bucketCall(bucket: S3Bucket, method: string, query: URLSearchParams, body: Buffer): Reply {
    if (query.has('versioning')) {
      if (method === 'GET') return xml(`<VersioningConfiguration ${XMLNS}>${bucket.versioning ? `<Status>${bucket.versioning}</Status>` : ''}</VersioningConfiguration>`)
      if (method === 'PUT') {
        const status = /<Status>(Enabled|Suspended)<\/Status>/.exec(body.toString('utf8'))?.[1] as S3Bucket['versioning']
        if (!status) throw new S3Error(400, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema')
        bucket.versioning = status
        return new Reply({status: 200, text: ''})
      }
    }
    if (query.has('lifecycle')) {
      if (method === 'GET') {
        if (!bucket.lifecycleXml) throw new S3Error(404, 'NoSuchLifecycleConfiguration', 'The lifecycle configuration does not exist')
        return xml(bucket.lifecycleXml.replace(/^<\?xml[^>]*>\s*/, ''))
      }
      if (method === 'PUT') {
        const text = body.toString('utf8')
        if (!/<LifecycleConfiguration[\s>]/.test(text) || !/<Rule>/.test(text)) throw new S3Error(400, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema')
        bucket.lifecycleXml = text
        return new Reply({status: 200, text: ''})
      }
      if (method === 'DELETE') {
        bucket.lifecycleXml = undefined
        return new Reply({status: 204, text: ''})
      }
    }
    if (query.has('versions') && method === 'GET') return this.listVersions(bucket, query)
    throw new S3Error(501, 'NotImplemented', 'A header or query you provided implies functionality that is not implemented in the sandbox.')
  }

  private listVersions(bucket: S3Bucket, query: URLSearchParams): Reply {
    const prefix = query.get('prefix') ?? ''
    const keyMarker = query.get('key-marker') ?? ''
    const versionIdMarker = query.get('version-id-marker') ?? ''
    const maxKeys = Math.min(Math.max(Number(query.get('max-keys') ?? 1000) || 1000, 1), 1000)
    const keys = this.store.keys(bucket)
    // The first key at or after both the prefix and the marker.
    const from = keyMarker > prefix ? keyMarker : prefix
    let lo = 0
    let hi = keys.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (keys[mid] < from) lo = mid + 1
      else hi = mid
    }
    const parts: string[] = []
    let count = 0
    let last: {key: string, versionId: string} | undefined
    let truncated = false
    outer: for (let i = lo; i < keys.length; i++) {
      const key = keys[i]
      if (!key.startsWith(prefix)) break
      if (key === keyMarker && !versionIdMarker) continue
      const versions = bucket.objects.get(key)!
      let start = versions.length - 1
      if (key === keyMarker && versionIdMarker) {
        const at = versions.findIndex(v => v.versionId === versionIdMarker)
        start = at === -1 ? -1 : at - 1
      }
      for (let j = start; j >= 0; j--) {
        if (count === maxKeys) {
          truncated = true
          break outer
        }
        const v = versions[j]
        const isLatest = j === versions.length - 1
        const common = `<Key>${escapeXml(key)}</Key><VersionId>${v.versionId}</VersionId><IsLatest>${isLatest}</IsLatest><LastModified>${iso(v.lastModified)}</LastModified><Owner><ID>sandbox</ID><DisplayName>sandbox</DisplayName></Owner>`
        parts.push(v.deleteMarker ? `<DeleteMarker>${common}</DeleteMarker>` : `<Version>${common}<ETag>${escapeXml(v.etag!)}</ETag><Size>${v.body!.length}</Size><StorageClass>${v.storageClass ?? 'STANDARD'}</StorageClass></Version>`)
        count++
        last = {key, versionId: v.versionId}
      }
    }
    const next = truncated && last ? `<NextKeyMarker>${escapeXml(last.key)}</NextKeyMarker><NextVersionIdMarker>${last.versionId}</NextVersionIdMarker>` : ''
    return xml(`<ListVersionsResult ${XMLNS}><Name>${escapeXml(bucket.name)}</Name><Prefix>${escapeXml(prefix)}</Prefix><KeyMarker>${escapeXml(keyMarker)}</KeyMarker>`
      + `<VersionIdMarker>${escapeXml(versionIdMarker)}</VersionIdMarker>${next}<MaxKeys>${maxKeys}</MaxKeys><IsTruncated>${truncated}</IsTruncated>${parts.join('')}</ListVersionsResult>`)
  }

  private find(bucket: S3Bucket, key: string, versionId?: string): S3Version {
    const versions = bucket.objects.get(key)
    if (versionId) {
      const found = versions?.find(v => v.versionId === versionId)
      if (!found) throw new S3Error(404, 'NoSuchVersion', 'The specified version does not exist.')
      if (found.deleteMarker) throw new S3Error(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.', {'x-amz-delete-marker': 'true', 'x-amz-version-id': found.versionId})
      return found
    }
    const newest = versions?.at(-1)
    if (!newest) throw new S3Error(404, 'NoSuchKey', 'The specified key does not exist.')
    if (newest.deleteMarker) throw new S3Error(404, 'NoSuchKey', 'The specified key does not exist.', {'x-amz-delete-marker': 'true', 'x-amz-version-id': newest.versionId})
    return newest
  }

  private getObject(bucket: S3Bucket, key: string, versionId: string | undefined, head: boolean): Reply {
    const version = this.find(bucket, key, versionId)
    const headers = {'ETag': version.etag!, 'Last-Modified': httpDate(version.lastModified), 'x-amz-version-id': version.versionId, 'x-amz-storage-class': version.storageClass ?? 'STANDARD'}
    return head ? new Reply({status: 200, bytes: version.body!, headers}) : new Reply({status: 200, bytes: version.body!, headers})
  }

  private putObject(bucket: S3Bucket, key: string, body: Buffer, storageClass?: string): Reply {
    const version = this.store.put(bucket, key, body, Date.now(), storageClass)
    return new Reply({status: 200, text: '', headers: {'ETag': version.etag!, 'x-amz-version-id': version.versionId}})
  }

  private copyObject(bucket: S3Bucket, key: string, copySource: string): Reply {
    const [source, search = ''] = copySource.replace(/^\//, '').split('?')
    const decoded = decodeURIComponent(source)
    const slash = decoded.indexOf('/')
    const sourceBucket = this.store.bucket(decoded.slice(0, slash))
    const sourceVersion = new URLSearchParams(search).get('versionId') ?? undefined
    const from = this.find(sourceBucket, decoded.slice(slash + 1), sourceVersion)
    if (from.storageClass === 'GLACIER' || from.storageClass === 'DEEP_ARCHIVE') throw new S3Error(403, 'InvalidObjectState', 'The operation is not valid for the object\'s storage class')
    const version = this.store.put(bucket, key, from.body!, Date.now())
    return xml(`<CopyObjectResult ${XMLNS}><LastModified>${iso(version.lastModified)}</LastModified><ETag>${escapeXml(version.etag!)}</ETag></CopyObjectResult>`, 200, {
      'x-amz-version-id': version.versionId, 'x-amz-copy-source-version-id': from.versionId,
    })
  }

  private deleteObject(bucket: S3Bucket, key: string, versionId?: string): Reply {
    if (versionId) {
      const removed = this.store.deleteVersion(bucket, key, versionId)
      return new Reply({status: 204, text: '', headers: {'x-amz-version-id': versionId, ...(removed?.deleteMarker ? {'x-amz-delete-marker': 'true'} : {})}})
    }
    const marker = this.store.delete(bucket, key)
    return new Reply({status: 204, text: '', headers: marker ? {'x-amz-delete-marker': 'true', 'x-amz-version-id': marker.versionId} : {}})
  }
}
