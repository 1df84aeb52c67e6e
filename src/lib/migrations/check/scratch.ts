import {existsSync, mkdirSync, readFileSync, renameSync, writeFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {dirname, join} from 'node:path'
import {pathToFileURL} from 'node:url'
import {Worker} from 'node:worker_threads'
import {connectUrl} from '../../postgres/connect.js'
import {redact, registerSecrets} from '../../secrets.js'

// The database the staircase runs on: thrown away afterwards (PGlite), or a real empty PostgreSQL
// given with --database-url. Both answer plain queries the same way.
export interface Scratch {
  // What it is, for the report: never a password.
  where: string
  // An in-process PGlite is gone after close; a real database keeps what the check left in it.
  throwaway: boolean
  query<T = Record<string, any>>(sql: string, params?: unknown[]): Promise<T[]>
  close(): Promise<void>
}

// PGlite ships these extensions of PostgreSQL's contrib as separate modules, loaded only when a migration
// creates them (each costs start-up time). Anything else is "cannot check here".
const PGLITE_CONTRIB: Record<string, string> = {
  'uuid-ossp': 'uuid_ossp',
  pgcrypto: 'pgcrypto',
  citext: 'citext',
  hstore: 'hstore',
  pg_trgm: 'pg_trgm',
  btree_gin: 'btree_gin',
  btree_gist: 'btree_gist',
  cube: 'cube',
  earthdistance: 'earthdistance',
  fuzzystrmatch: 'fuzzystrmatch',
  isn: 'isn',
  lo: 'lo',
  ltree: 'ltree',
  seg: 'seg',
  tablefunc: 'tablefunc',
  unaccent: 'unaccent',
}

// PGlite runs in a worker thread: a statement that never ends (a long pg_sleep, a huge generate_series)
// then blocks the worker only, so that Ctrl-C and SIGTERM are still handled, and ending the process (or
// `close`) ends it. The worker is plain JavaScript given as text, so that it runs the same from dist/ and
// from the TypeScript sources under test; the modules it loads are resolved here, from this package.
// initdb is most of PGlite's start-up (about 4 s against 1.5 s on a 2-core machine), so the freshly
// initialized data folder comes back from the worker and is kept in the CLI's cache for the next time.
const WORKER = `
const {parentPort, workerData} = require('node:worker_threads')
const wire = error => ({message: String((error && error.message) || error), code: error && error.code})
;(async () => {
  const {PGlite} = await import(workerData.pglite)
  const extensions = {}
  for (const [name, url] of workerData.extensions) {
    const module = await import(url)
    extensions[name] = module[name] ?? (module.default && module.default[name])
  }
  let db = workerData.dataDir && await PGlite.create({extensions, loadDataDir: new Blob([workerData.dataDir])}).catch(() => undefined)
  let dump
  if (!db) {
    db = await PGlite.create({extensions})
    if (workerData.keep) dump = new Uint8Array(await (await db.dumpDataDir('gzip')).arrayBuffer())
  }
  parentPort.on('message', async ({id, sql, params, close}) => {
    if (close) {
      await db.close().catch(() => {})
      return parentPort.postMessage({id})
    }
    try {
      parentPort.postMessage({id, rows: (await db.query(sql, params)).rows})
    } catch (error) {
      parentPort.postMessage({id, error: wire(error)})
    }
  })
  parentPort.postMessage({ready: true, dump})
})().catch(error => parentPort.postMessage({failed: wire(error)}))
`

type Reply = {id: number, rows?: any[], error?: {message: string, code?: string}}

const fromWire = ({message, code}: {message: string, code?: string}) => Object.assign(new Error(message), code ? {code} : {})

async function startPglite(modules: string[], cacheDir?: string): Promise<{query: Scratch['query'], close(): Promise<void>}> {
  const cached = cacheDir && join(cacheDir, `pglite-${await pgliteVersion()}-initdb.tgz`)
  const worker = new Worker(WORKER, {eval: true, workerData: {
    pglite: moduleUrl('@electric-sql/pglite'),
    extensions: modules.map(name => [name, moduleUrl(`@electric-sql/pglite/contrib/${name}`)]),
    dataDir: cached && existsSync(cached) ? readFileSync(cached) : undefined,
    keep: Boolean(cached),
  }})
  const waiting = new Map<number, {resolve(reply: Reply): void, reject(error: Error): void}>()
  let next = 0
  let stopped: Error | undefined
  let started!: {resolve(dump?: Uint8Array): void, reject(error: Error): void}
  const ready = new Promise<Uint8Array | undefined>((resolve, reject) => {
    started = {resolve, reject}
  })
  const stop = (error: Error) => {
    stopped ??= error
    started.reject(stopped)
    for (const {reject} of waiting.values()) reject(stopped)
    waiting.clear()
  }
  worker.on('message', (message: Reply & {ready?: boolean, dump?: Uint8Array, failed?: {message: string, code?: string}}) => {
    if (message.failed) return stop(fromWire(message.failed))
    if (message.ready) return started.resolve(message.dump)
    const call = waiting.get(message.id)
    waiting.delete(message.id)
    call?.resolve(message)
  })
  worker.on('error', stop)
  worker.on('exit', () => stop(new Error('the scratch PostgreSQL (PGlite) stopped')))
  const ask = (request: {sql?: string, params?: unknown[], close?: boolean}) => new Promise<Reply>((resolve, reject) => {
    if (stopped) return reject(stopped)
    const id = ++next
    waiting.set(id, {resolve, reject})
    worker.postMessage({id, ...request})
  })
  const dump = await ready.catch(async error => {
    await worker.terminate()
    throw error
  })
  if (cached && dump) {
    try {
      mkdirSync(cacheDir, {recursive: true})
      // Written aside and renamed (over a damaged one), so that two checks at once never read half a file.
      const partial = `${cached}.${process.pid}`
      writeFileSync(partial, dump)
      renameSync(partial, cached)
    } catch {}
  }
  return {
    async query<T>(sql: string, params?: unknown[]) {
      const reply = await ask({sql, params})
      if (reply.error) throw fromWire(reply.error)
      return reply.rows as T[]
    },
    async close() {
      if (!stopped) await ask({close: true}).catch(() => {})
      await worker.terminate()
    },
  }
}

// A PGlite module as a URL the worker imports: resolved from this package (not the folder the CLI runs
// in), its ESM build beside the CommonJS one that `require.resolve` finds.
function moduleUrl(specifier: string): string {
  const path = createRequire(import.meta.url).resolve(specifier)
  const esm = path.replace(/\.cjs$/, '.js')
  return pathToFileURL(existsSync(esm) ? esm : path).href
}

async function pgliteVersion(): Promise<string> {
  // Its package.json is not among its exports: found from its entry point, two folders up.
  const manifest = join(dirname(dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite'))), 'package.json')
  return (JSON.parse(readFileSync(manifest, 'utf8')) as {version: string}).version
}

export async function pgliteScratch(extensions: string[] = [], cacheDir?: string): Promise<Scratch> {
  const modules = [...new Set(extensions)].map(name => PGLITE_CONTRIB[name]).filter((module): module is string => Boolean(module))
  const db = await startPglite(modules, cacheDir)
  const rows = await db.query<{version: string}>('SELECT current_setting(\'server_version\') AS version')
  return {
    where: `a throwaway in-process PostgreSQL ${rows[0]?.version ?? ''} (PGlite)`.replace('  ', ' '),
    throwaway: true,
    query: db.query,
    close: () => db.close(),
  }
}

export async function urlScratch(url: string): Promise<Scratch> {
  registerSecrets([url, new URL(url).password])
  const client = await connectUrl(url)
  const parsed = new URL(url)
  return {
    where: redact(`${parsed.hostname}${parsed.port ? `:${parsed.port}` : ''}${parsed.pathname}`),
    throwaway: false,
    query: async <T>(sql: string, params?: unknown[]) => (await client.query(sql, params as any[])).rows as T[],
    close: () => client.end(),
  }
}

// The errors that say "this PostgreSQL lacks something the migration needs", not "the migration is wrong":
// an extension that is not installed (0A000 feature_not_supported, 58P01 undefined_file).
export function isMissingFeature(error: unknown): boolean {
  const e = error as {code?: string, message?: string}
  return (e.code === '0A000' || e.code === '58P01') && /extension|control file|library/i.test(e.message ?? '')
}
