import {type ChildProcess, execFileSync, spawn} from 'node:child_process'
import {createServer} from 'node:net'
import {homedir} from 'node:os'
import {join} from 'node:path'
import {randomBytes} from 'node:crypto'
import {setTimeout as sleep} from 'node:timers/promises'
import type {S3Client} from '@aws-sdk/client-s3'
import {bucketConfig, newAccessKeys, type UploadsProvider} from '../../src/sandbox/heroku/storage-addons.js'
import type {UploadsHistory} from '../../src/sandbox/seeds/uploads.js'
import type {App} from '../../src/sandbox/index.js'
import type {S3Bucket} from '../../src/sandbox/heroku/s3.js'
import {sandbox} from './sandbox.js'

// The S3 endpoints the files tests run against: the sandbox's own S3, and moto_server, an independent
// S3 implementation, started on a free port for the test file. The same scenario runs on both.

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'

export interface Endpoint {
  name: 'sandbox' | 'moto'
  url: string
}

const freePort = () => new Promise<number>((resolve, reject) => {
  const probe = createServer().listen(0, '127.0.0.1', () => {
    const {port} = probe.address() as {port: number}
    probe.close(() => resolve(port))
  }).on('error', reject)
})

function motoCommand(): string[] | undefined {
  // On PATH, or where pyenv installs it (a CI shell may not have pyenv's shims on its PATH).
  for (const candidate of [['moto_server'], ['python3', '-m', 'moto.server'], [join(homedir(), '.pyenv', 'shims', 'moto_server')]]) {
    try {
      execFileSync(candidate[0], [...candidate.slice(1), '--help'], {stdio: 'ignore', timeout: 20_000})
      return candidate
    } catch {}
  }
  return undefined
}

export class Moto {
  private constructor(readonly url: string, private readonly child: ChildProcess) {}

  // moto_server on a free port, or the reason it cannot run here.
  static async start(): Promise<Moto | string> {
    const command = motoCommand()
    if (!command) return 'moto_server is not installed (pip install "moto[server]")'
    const port = await freePort()
    const child = spawn(command[0], [...command.slice(1), '-H', '127.0.0.1', '-p', String(port)], {stdio: 'ignore'})
    const url = `http://127.0.0.1:${port}`
    for (let i = 0; i < 100; i++) {
      if (child.exitCode !== null) return `moto_server exited with status ${child.exitCode}`
      try {
        await fetch(`${url}/moto-api/`)
        return new Moto(url, child)
      } catch {
        await sleep(200)
      }
    }
    child.kill()
    return 'moto_server did not answer within 20 s'
  }

  async stop() {
    if (this.child.exitCode !== null) return
    const exited = new Promise(resolve => this.child.once('exit', resolve))
    this.child.kill('SIGTERM')
    await exited
  }
}

export async function s3Client(endpoint: string, keys = newAccessKeys()): Promise<S3Client> {
  const {S3Client} = await import('@aws-sdk/client-s3')
  return new S3Client({region: 'us-east-1', endpoint, forcePathStyle: true, credentials: keys, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED'})
}

export const sdk = () => import('@aws-sdk/client-s3')

export interface Uploads extends UploadsHistory {
  bucket: string
  keys: {accessKeyId: string, secretAccessKey: string}
  client: S3Client
}

// Waits into the next whole second and a bit: S3 keeps times to the second.
async function nextSecond() {
  await sleep(1000 - (Date.now() % 1000) + 150)
}

let buckets = 0

// The S3 of one describe block: the sandbox's, or a moto_server started for the block, which is
// skipped, and says so, where moto is missing (never passed without it). `s3.endpoint` is set once
// the block's before hook ran.
export function useS3(target: Endpoint['name'], command: string): {endpoint: Endpoint} {
  const s3 = {} as {endpoint: Endpoint}
  let moto: Moto | undefined
  before(async function () {
    this.timeout(60_000)
    if (target === 'sandbox') {
      s3.endpoint = {name: 'sandbox', url: sandbox().s3Endpoint}
      return
    }
    const started = await Moto.start()
    if (typeof started === 'string') {
      process.stdout.write(`      SKIPPED: ${command} is NOT checked against moto on this machine: ${started}.\n`)
      this.skip()
    }
    moto = started as Moto
    s3.endpoint = {name: 'moto', url: moto.url}
  })
  after(async () => moto?.stop())
  return s3
}

// Through S3's own API (so that it works the same on the sandbox and on moto): uploads, the time, then
// deletes (one key twice), overwrites and new files. The app's config vars point at the bucket.
export async function seedUploads(endpoint: Endpoint, app: App, options: {provider?: UploadsProvider, versioning?: boolean, files?: number, deletedCount?: number} = {}): Promise<Uploads> {
  const {CreateBucketCommand, PutBucketVersioningCommand, PutObjectCommand, DeleteObjectCommand} = await sdk()
  const keys = newAccessKeys()
  const client = await s3Client(endpoint.url, keys)
  const bucket = `uploads-${process.pid}-${++buckets}-${randomBytes(3).toString('hex')}`
  await client.send(new CreateBucketCommand({Bucket: bucket}))
  if (endpoint.name === 'sandbox') sandbox().s3.bucket(bucket).app = app.name
  if (options.versioning !== false) await client.send(new PutBucketVersioningCommand({Bucket: bucket, VersioningConfiguration: {Status: 'Enabled'}}))
  Object.assign(app.config, bucketConfig(options.provider ?? 'bucketeer', bucket, endpoint.url, keys))
  const files = options.files ?? 10
  const before = new Map<string, Buffer>()
  const put = (key: string, body: Buffer) => client.send(new PutObjectCommand({Bucket: bucket, Key: key, Body: body}))
  for (let i = 1; i <= files; i++) {
    const key = `uploads/user ${i}/avatar-${i}.png`
    const body = randomBytes(100 + i * 31)
    before.set(key, body)
  }
  await Promise.all([...before].map(([key, body]) => put(key, body)))
  await nextSecond()
  const recoverTo = new Date(Math.floor(Date.now() / 1000) * 1000).toISOString()
  await nextSecond()
  const all = [...before.keys()]
  const deleted = all.filter((_, i) => i % 3 === 1).slice(0, options.deletedCount ?? Number.POSITIVE_INFINITY)
  const overwritten = all.filter((_, i) => i % 3 === 2).slice(0, 2)
  const created = ['uploads/new/after-1.png', 'uploads/new/after-2.png']
  const del = (key: string) => client.send(new DeleteObjectCommand({Bucket: bucket, Key: key}))
  await Promise.all(deleted.map(del))
  await Promise.all(overwritten.map(key => put(key, randomBytes(77))))
  await Promise.all(created.map(key => put(key, randomBytes(55))))
  const deletedTwice = deleted[0]
  await del(deletedTwice)
  return {app, bucket, keys, client, recoverTo, before, deleted, overwritten, created, deletedTwice}
}

// Every version and marker of the bucket, as `key|versionId|version or marker|latest` lines: the state to compare.
export async function listing(uploads: Pick<Uploads, 'client' | 'bucket'>): Promise<string[]> {
  const {ListObjectVersionsCommand} = await sdk()
  const out: string[] = []
  let KeyMarker: string | undefined
  let VersionIdMarker: string | undefined
  for (;;) {
    const page = await uploads.client.send(new ListObjectVersionsCommand({Bucket: uploads.bucket, KeyMarker, VersionIdMarker}))
    for (const v of page.Versions ?? []) out.push(`${v.Key}|${v.VersionId}|version|${v.IsLatest ? 'latest' : ''}`)
    for (const m of page.DeleteMarkers ?? []) out.push(`${m.Key}|${m.VersionId}|marker|${m.IsLatest ? 'latest' : ''}`)
    if (!page.IsTruncated) break
    KeyMarker = page.NextKeyMarker
    VersionIdMarker = page.NextVersionIdMarker
  }
  return out.sort()
}

// The bytes of a key now, or undefined when it does not exist.
export async function content(uploads: Pick<Uploads, 'client' | 'bucket'>, key: string): Promise<Buffer | undefined> {
  const {GetObjectCommand} = await sdk()
  try {
    const out = await uploads.client.send(new GetObjectCommand({Bucket: uploads.bucket, Key: key}))
    return Buffer.from(await out.Body!.transformToByteArray())
  } catch (error) {
    if ((error as {$metadata?: {httpStatusCode?: number}}).$metadata?.httpStatusCode === 404) return undefined
    throw error
  }
}

export const configFor = bucketConfig

// `files` files seeded in the sandbox's S3 without HTTP, hours back: after the time, one in four is overwritten
// and the others deleted, so that every batch of files:recover --include-overwritten mixes undeletes and copies.
export function seedChangedFiles(app: App, files: number): {bucket: S3Bucket, recoverTo: string, deleted: string[], overwritten: string[]} {
  const s3 = sandbox().s3
  const bucket = s3.createBucket(`${app.name}-many`, {app: app.name, versioning: 'Enabled'})
  Object.assign(app.config, bucketConfig('bucketeer', bucket.name, sandbox().s3Endpoint, newAccessKeys()))
  const now = Date.now()
  const deleted: string[] = []
  const overwritten: string[] = []
  for (let i = 0; i < files; i++) {
    const key = `uploads/${String(i).padStart(4, '0')}.bin`
    s3.put(bucket, key, randomBytes(64 + (i % 50)), now - 3 * 3_600_000)
    if (i % 4 === 0) {
      s3.put(bucket, key, randomBytes(40), now - 30 * 60_000)
      overwritten.push(key)
    } else {
      s3.delete(bucket, key, now - 40 * 60_000)
      deleted.push(key)
    }
  }
  return {bucket, recoverTo: new Date(Math.floor((now - 3_600_000) / 1000) * 1000).toISOString(), deleted, overwritten}
}

// Each key of a sandbox bucket: its content now, and its versions (delete markers left out), oldest first.
export function bucketState(bucket: S3Bucket): Map<string, {content?: Buffer, versions: string[]}> {
  return new Map([...bucket.objects].map(([key, versions]) => [key, {
    content: sandbox().s3.current(bucket, key), versions: versions.filter(v => !v.deleteMarker).map(v => v.versionId),
  }]))
}
