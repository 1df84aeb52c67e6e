import type {Api} from '../api/client.js'
import {orNoSuchApp} from '../api/apps.js'
import {path} from '../api/client.js'
import {Refused} from '../errors.js'
import {registerSecrets} from '../secrets.js'

// Where an app keeps its uploads: the bucket, its prefix, the endpoint, and which config vars hold the
// credentials. Found from the app's config vars the way each add-on sets them. A `BucketRef` names
// things only (it goes into plans, --json and the run log); the credentials stay in `Credentials`.

export type Provider = 'bucketeer' | 'cloudcube' | 'aws'

export interface BucketRef {
  provider: Provider
  bucket: string
  // The part of the bucket the app owns (Cloudcube's cube), '' for the whole bucket.
  prefix: string
  region: string
  // An S3-compatible endpoint; undefined for AWS itself.
  endpoint?: string
  // The config vars the credentials come from (names, never values).
  keyVars: {accessKeyId: string, secretAccessKey: string}
}

// Where the bucket is, for a step run by another process (recovery:resume): names only, the
// credentials are read again from the app's config vars.
export interface BucketLocator {
  bucket: string
  provider: BucketRef['provider']
  endpoint?: string
}

export const locatorOf = (ref: BucketRef): BucketLocator => ({bucket: ref.bucket, provider: ref.provider, ...(ref.endpoint ? {endpoint: ref.endpoint} : {})})

export interface Credentials {
  accessKeyId: string
  secretAccessKey: string
}

export interface BucketOptions {
  // --bucket, for plain AWS_* credentials.
  bucket?: string
  // --endpoint.
  endpoint?: string
}

const PROVIDER_NAMES: Record<Provider, string> = {bucketeer: 'Bucketeer', cloudcube: 'Cloudcube', aws: 'the AWS_* config vars'}
export const providerName = (provider: Provider) => PROVIDER_NAMES[provider]

const BUCKET_VAR = /^(?:[A-Z0-9_]*_)?(?:S3_)?BUCKET(?:_NAME)?$/

// Which config vars name a bucket, as files:recover and db:recover ask (names only).
export const hasBucketVars = (names: string[]) =>
  names.includes('BUCKETEER_BUCKET_NAME') || names.includes('CLOUDCUBE_URL') || (names.includes('AWS_ACCESS_KEY_ID') && names.some(n => BUCKET_VAR.test(n) && !n.startsWith('BUCKETEER_')))

export const readConfig = (api: Api, app: string) => orNoSuchApp(app, api.get<Record<string, string>>(path`/apps/${app}/config-vars`))

export function findBucket(config: Record<string, string | null>, options: BucketOptions = {}): {ref: BucketRef, credentials: Credentials} {
  const value = (name: string) => config[name] ?? undefined
  registerSecrets(['BUCKETEER_AWS_ACCESS_KEY_ID', 'BUCKETEER_AWS_SECRET_ACCESS_KEY', 'CLOUDCUBE_ACCESS_KEY_ID', 'CLOUDCUBE_SECRET_ACCESS_KEY', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'].map(value))
  const endpoint = options.endpoint ?? value('AWS_ENDPOINT_URL_S3') ?? value('AWS_ENDPOINT_URL')
  if (endpoint) assertEndpoint(endpoint)
  const credentialsFrom = (accessKeyId: string, secretAccessKey: string) => {
    const id = value(accessKeyId)
    const secret = value(secretAccessKey)
    if (!id || !secret) throw new Refused(`${accessKeyId} and ${secretAccessKey} must both be set to reach the bucket.`)
    return {accessKeyId: id, secretAccessKey: secret}
  }
  if (value('BUCKETEER_BUCKET_NAME') && !options.bucket) {
    return {
      ref: {provider: 'bucketeer', bucket: value('BUCKETEER_BUCKET_NAME')!, prefix: '', region: value('BUCKETEER_AWS_REGION') ?? 'us-east-1', endpoint,
        keyVars: {accessKeyId: 'BUCKETEER_AWS_ACCESS_KEY_ID', secretAccessKey: 'BUCKETEER_AWS_SECRET_ACCESS_KEY'}},
      credentials: credentialsFrom('BUCKETEER_AWS_ACCESS_KEY_ID', 'BUCKETEER_AWS_SECRET_ACCESS_KEY'),
    }
  }
  if (value('CLOUDCUBE_URL') && !options.bucket) {
    const {bucket, prefix} = parseCloudcube(value('CLOUDCUBE_URL')!, endpoint)
    return {
      ref: {provider: 'cloudcube', bucket, prefix, region: value('CLOUDCUBE_REGION') ?? value('AWS_REGION') ?? 'us-east-1', endpoint,
        keyVars: {accessKeyId: 'CLOUDCUBE_ACCESS_KEY_ID', secretAccessKey: 'CLOUDCUBE_SECRET_ACCESS_KEY'}},
      credentials: credentialsFrom('CLOUDCUBE_ACCESS_KEY_ID', 'CLOUDCUBE_SECRET_ACCESS_KEY'),
    }
  }
  if (value('AWS_ACCESS_KEY_ID')) {
    const bucket = options.bucket ?? bucketFromVars(config)
    return {
      ref: {provider: 'aws', bucket, prefix: '', region: value('AWS_REGION') ?? value('AWS_DEFAULT_REGION') ?? 'us-east-1', endpoint,
        keyVars: {accessKeyId: 'AWS_ACCESS_KEY_ID', secretAccessKey: 'AWS_SECRET_ACCESS_KEY'}},
      credentials: credentialsFrom('AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'),
    }
  }
  throw new Refused('No S3 bucket in the app\'s config vars: expected Bucketeer (BUCKETEER_BUCKET_NAME), Cloudcube (CLOUDCUBE_URL), or AWS_ACCESS_KEY_ID with --bucket or a *_BUCKET config var.')
}

function bucketFromVars(config: Record<string, string | null>): string {
  const names = Object.keys(config).filter(name => BUCKET_VAR.test(name) && config[name])
  const buckets = [...new Set(names.map(name => config[name]!))]
  if (buckets.length === 0) throw new Refused('AWS_ACCESS_KEY_ID is set but no config var names the bucket (S3_BUCKET, AWS_S3_BUCKET...): pass --bucket.')
  if (buckets.length > 1) throw new Refused(`Several config vars name a bucket (${names.join(', ')}): pass --bucket.`)
  return buckets[0]
}

// https://cloud-cube-us2.s3.amazonaws.com/abcdefgh: the bucket is the host's first label and the app's
// files live under `abcdefgh/`. On an S3-compatible endpoint (the sandbox): ENDPOINT/BUCKET/CUBE.
export function parseCloudcube(text: string, endpoint?: string): {bucket: string, prefix: string} {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw new Refused('CLOUDCUBE_URL is not a URL.')
  }
  const base = endpoint && text.startsWith(endpoint.replace(/\/+$/, '')) ? new URL(endpoint).pathname.replace(/\/+$/, '') : ''
  const parts = url.pathname.slice(base.length).split('/').filter(Boolean)
  if (/\.s3[.-]([a-z0-9-]+\.)?amazonaws\.com$/.test(url.hostname)) {
    if (parts.length === 0) throw new Refused('CLOUDCUBE_URL has no cube name in its path.')
    return {bucket: url.hostname.split('.')[0], prefix: `${parts.join('/')}/`}
  }
  if (parts.length < 2) throw new Refused('CLOUDCUBE_URL has no bucket and cube name in its path.')
  return {bucket: parts[0], prefix: `${parts.slice(1).join('/')}/`}
}

function assertEndpoint(endpoint: string) {
  let url: URL
  try {
    url = new URL(endpoint)
  } catch {
    throw new Refused(`The S3 endpoint "${endpoint}" is not a URL.`)
  }
  if (!/^https?:$/.test(url.protocol)) throw new Refused(`The S3 endpoint "${endpoint}" is not http(s).`)
  if (url.username || url.password) throw new Refused('The S3 endpoint must not hold credentials.')
}

// One line naming the bucket for people: `Bucketeer bucket my-bucket (prefix abc/) at http://...`.
export const describeBucket = (ref: BucketRef) =>
  `${ref.provider === 'aws' ? 'S3' : providerName(ref.provider)} bucket ${ref.bucket}${ref.prefix ? ` (prefix ${ref.prefix})` : ''}${ref.endpoint ? ` at ${ref.endpoint}` : ''}`
