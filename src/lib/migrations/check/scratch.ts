import {existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import type {PGlite} from '@electric-sql/pglite'
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

// initdb is most of PGlite's start-up (about 4 s against 1.5 s on a 2-core machine), so the freshly
// initialized data folder is kept in the CLI's cache and loaded from there the next time.
async function startPglite(extensions: Record<string, any>, cacheDir?: string): Promise<PGlite> {
  const {PGlite} = await import('@electric-sql/pglite')
  const cached = cacheDir && join(cacheDir, `pglite-${await pgliteVersion()}-initdb.tgz`)
  if (cached && existsSync(cached)) {
    try {
      return await PGlite.create({extensions, loadDataDir: new Blob([readFileSync(cached)])})
    } catch {
      rmSync(cached, {force: true})
    }
  }
  const db = await PGlite.create({extensions})
  if (cached) {
    try {
      const dump = Buffer.from(await (await db.dumpDataDir('gzip')).arrayBuffer())
      mkdirSync(cacheDir, {recursive: true})
      // Written aside and renamed, so that two checks at once never read half a file.
      const partial = `${cached}.${process.pid}`
      writeFileSync(partial, dump)
      renameSync(partial, cached)
    } catch {}
  }
  return db
}

async function pgliteVersion(): Promise<string> {
  const {createRequire} = await import('node:module')
  const require = createRequire(import.meta.url)
  // Its package.json is not among its exports: found from its entry point, two folders up.
  const manifest = join(dirname(dirname(require.resolve('@electric-sql/pglite'))), 'package.json')
  return (JSON.parse(readFileSync(manifest, 'utf8')) as {version: string}).version
}

export async function pgliteScratch(extensions: string[] = [], cacheDir?: string): Promise<Scratch> {
  const loaded: Record<string, any> = {}
  for (const name of new Set(extensions)) {
    const module = PGLITE_CONTRIB[name]
    if (!module) continue
    const exported = await import(`@electric-sql/pglite/contrib/${module}`) as Record<string, unknown>
    loaded[module] = exported[module]
  }
  const db = await startPglite(loaded, cacheDir)
  const {rows} = await db.query<{version: string}>('SELECT current_setting(\'server_version\') AS version')
  return {
    where: `a throwaway in-process PostgreSQL ${rows[0]?.version ?? ''} (PGlite)`.replace('  ', ' '),
    throwaway: true,
    query: async <T>(sql: string, params?: unknown[]) => (await db.query<T>(sql, params)).rows,
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
