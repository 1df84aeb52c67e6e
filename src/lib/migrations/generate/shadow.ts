import {existsSync, mkdirSync, readFileSync, renameSync, writeFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {dirname, join} from 'node:path'
import type {PGlite, PGliteInterface} from '@electric-sql/pglite'
import type {SqlDriverAdapter, SqlMigrationAwareDriverAdapterFactory, SqlQuery, SqlResultSet} from '@prisma/driver-adapter-utils'
import {quoteIdent} from '../../postgres/identifiers.js'
import {runnableText} from '../check/staircase.js'
import type {LocalMigration} from '../project.js'
import {parseStatements} from '../statements.js'

// The shadow database the schema engine replays migrations on, as a Prisma driver adapter over an in-process
// PGlite. Prisma's engine asks for a fresh shadow database for each side of a diff and replays that side's
// migrations in it. Replaying every migration for every down would cost O(n²); instead the migrations before
// the one to revert are applied here once, committed, and the engine is given only the rest:
//   - the side "up to and including M" is the list [M], replayed in a transaction on top of what is committed;
//   - the side "before M" is the empty list, read as it is committed;
// each engine session is rolled back when the engine lets it go, so the database holds exactly the migrations
// before M again. The engine thus reads the same two states as with the full lists, on one database.
// A migration that cannot run in a transaction (a new enum value used in the same file: 55P04) is replayed
// committed instead, with the side "before M" read from a clone taken just before.

export interface Session {
  db: PGliteInterface
  // Replayed in a transaction that is rolled back at the end, or committed (the 55P04 fallback).
  transactional: boolean
  open: boolean
  scripts: number
}

// Column types as @prisma/driver-adapter-utils numbers them (ColumnTypeEnum), for what the engine reads back.
const TYPE = {Int32: 0, Int64: 1, Float: 2, Double: 3, Numeric: 4, Boolean: 5, Character: 6, Text: 7, Json: 11, Bytes: 13, Uuid: 15,
  Int32Array: 64, Int64Array: 65, FloatArray: 66, DoubleArray: 67, NumericArray: 68, BooleanArray: 69, CharacterArray: 70, TextArray: 71, JsonArray: 75, BytesArray: 77, UuidArray: 78} as const

const asText = (value: string) => value
const asBytes = (value: string) => Uint8Array.from(Buffer.from(value.slice(2), 'hex'))

// PostgreSQL type oid: the column type the engine expects and how to read the text PGlite gets. Dates and times
// stay text: the engine's introspection reads none. Everything else (name, text, varchar, enums...) is text.
const SCALARS: Record<number, [number, (value: string) => unknown]> = {
  16: [TYPE.Boolean, value => value === 't'], 21: [TYPE.Int32, Number], 23: [TYPE.Int32, Number], 20: [TYPE.Int64, asText], 26: [TYPE.Int64, asText],
  700: [TYPE.Float, Number], 701: [TYPE.Double, Number], 1700: [TYPE.Numeric, asText], 114: [TYPE.Json, asText], 3802: [TYPE.Json, asText],
  17: [TYPE.Bytes, asBytes], 2950: [TYPE.Uuid, asText], 18: [TYPE.Character, asText], 1082: [TYPE.Text, asText], 1114: [TYPE.Text, asText], 1184: [TYPE.Text, asText],
}

// Array type oid: the column type, and the oid of its elements.
const ARRAYS: Record<number, [number, number]> = {
  1000: [TYPE.BooleanArray, 16], 1005: [TYPE.Int32Array, 21], 1007: [TYPE.Int32Array, 23], 1016: [TYPE.Int64Array, 20], 1028: [TYPE.Int64Array, 26],
  1021: [TYPE.FloatArray, 700], 1022: [TYPE.DoubleArray, 701], 1231: [TYPE.NumericArray, 1700], 199: [TYPE.JsonArray, 114], 3807: [TYPE.JsonArray, 3802],
  1001: [TYPE.BytesArray, 17], 2951: [TYPE.UuidArray, 2950], 1002: [TYPE.CharacterArray, 18],
  1009: [TYPE.TextArray, 25], 1015: [TYPE.TextArray, 1043], 1014: [TYPE.TextArray, 1042], 1003: [TYPE.TextArray, 19],
}

export const columnTypeOf = (oid: number): number => SCALARS[oid]?.[0] ?? ARRAYS[oid]?.[0] ?? TYPE.Text

async function parsersFor(): Promise<Record<number, (value: string) => unknown>> {
  const {types} = await import('@electric-sql/pglite')
  const parsers: Record<number, (value: string) => unknown> = {}
  for (const [oid, [, parse]] of Object.entries(SCALARS)) parsers[Number(oid)] = parse
  for (const [oid, [, element]] of Object.entries(ARRAYS)) {
    const parse = SCALARS[element]?.[1] ?? asText
    parsers[Number(oid)] = value => types.arrayParser(value, parse, Number(oid))
  }
  return parsers
}

// A PostgreSQL error as the engine reports it ("ERROR: relation "User" already exists"), not as an opaque id.
async function adapterError(error: unknown): Promise<Error> {
  const e = error as {code?: string, severity?: string, message?: string, detail?: string, column?: string, hint?: string}
  if (typeof e?.code !== 'string' || typeof e.message !== 'string') return error as Error
  const {DriverAdapterError} = await import('@prisma/driver-adapter-utils')
  return new DriverAdapterError({kind: 'postgres', code: e.code, severity: e.severity ?? 'ERROR', message: e.message, detail: e.detail, column: e.column, hint: e.hint})
}

const require = createRequire(import.meta.url)

async function pgliteVersion(): Promise<string> {
  const manifest = join(dirname(dirname(require.resolve('@electric-sql/pglite'))), 'package.json')
  return (JSON.parse(readFileSync(manifest, 'utf8')) as {version: string}).version
}

// PGlite's contrib extensions load as modules named like the extension (uuid-ossp: uuid_ossp); one it does
// not ship makes the replay fail with PostgreSQL's own "extension is not available".
async function contribModules(extensions: string[]): Promise<Record<string, unknown>> {
  const loaded: Record<string, unknown> = {}
  for (const name of new Set(extensions)) {
    const module = name.replace(/-/g, '_')
    if (!/^[a-z0-9_]+$/.test(module)) continue
    try {
      loaded[module] = (await import(`@electric-sql/pglite/contrib/${module}`) as Record<string, unknown>)[module]
    } catch {}
  }
  return loaded
}

// initdb is most of PGlite's start-up: its freshly initialized data folder is kept in the CLI's cache
// (the same file the migrate:check scratch database keeps, when it is there).
async function startPglite(extensions: string[], cacheDir?: string): Promise<PGlite> {
  const {PGlite} = await import('@electric-sql/pglite')
  const options = {extensions: await contribModules(extensions)} as {extensions: Record<string, any>}
  const cached = cacheDir && join(cacheDir, `pglite-${await pgliteVersion()}-initdb.tgz`)
  if (cached && existsSync(cached)) {
    try {
      return await PGlite.create({...options, loadDataDir: new Blob([readFileSync(cached)])})
    } catch {}
  }
  const db = await PGlite.create(options)
  if (cached && !existsSync(cached)) {
    try {
      const dump = Buffer.from(await (await db.dumpDataDir('gzip')).arrayBuffer())
      mkdirSync(cacheDir, {recursive: true})
      const partial = `${cached}.${process.pid}`
      writeFileSync(partial, dump)
      renameSync(partial, cached)
    } catch {}
  }
  return db
}

export class ShadowDatabase {
  // Sessions the engine opened for the current diff, in order.
  sessions: Session[] = []
  // The last error PostgreSQL gave while replaying, for the report (the engine only says "failed to apply").
  lastError?: {code?: string, message: string}
  private clone?: PGliteInterface

  private constructor(private readonly db: PGlite, private readonly schema: string, private readonly parsers: Record<number, (value: string) => unknown>) {}

  static async start(options: {extensions: string[], cacheDir?: string, schema: string}): Promise<ShadowDatabase> {
    const db = await startPglite(options.extensions, options.cacheDir)
    if (options.schema !== 'public') await db.exec(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(options.schema)}`)
    await db.exec(`SET search_path TO ${quoteIdent(options.schema)}`)
    return new ShadowDatabase(db, options.schema, await parsersFor())
  }

  // Applies a migration for good, statement by statement as the staircase does (CONCURRENTLY dropped).
  async apply(migration: LocalMigration): Promise<void> {
    await this.runScript(this.db, migration.sql, join(migration.dir, 'migration.sql'))
  }

  // Before a diff: the engine's sessions run in transactions on the committed database.
  startDiff() {
    this.sessions = []
    this.lastError = undefined
  }

  // The fallback for a migration that cannot be replayed in a transaction: the first session commits it on
  // the database itself, the second reads a clone of the database as it was before.
  async startCommittedDiff() {
    this.startDiff()
    this.clone = await this.db.clone()
    await this.clone.exec(`SET search_path TO ${quoteIdent(this.schema)}`)
  }

  // After a diff, whatever the engine did: no session left open, no clone left behind.
  async endDiff(): Promise<{committedScripts: number}> {
    for (const session of this.sessions) await this.end(session)
    const committedScripts = this.sessions.filter(s => s.db === this.db && !s.transactional).reduce((n, s) => n + s.scripts, 0)
    await this.clone?.close()
    this.clone = undefined
    return {committedScripts}
  }

  close(): Promise<void> {
    return this.db.close()
  }

  factory(): SqlMigrationAwareDriverAdapterFactory {
    return {
      provider: 'postgres',
      adapterName: 'heroku-safe-rollback-pglite',
      connect: async () => this.adapter({db: this.db, transactional: false, open: false, scripts: 0}, true),
      connectToShadowDb: async () => {
        if (this.sessions.some(s => s.open)) throw new Error('the schema engine asked for a second shadow database while the first was in use')
        const committed = this.clone !== undefined
        const db = committed && this.sessions.length > 0 ? this.clone! : this.db
        const session: Session = {db, transactional: !committed, open: true, scripts: 0}
        if (session.transactional) await db.exec('BEGIN')
        this.sessions.push(session)
        return this.adapter(session, false)
      },
    }
  }

  private async end(session: Session) {
    if (!session.open) return
    session.open = false
    if (session.transactional) await session.db.exec('ROLLBACK')
  }

  private async runScript(db: PGliteInterface, sql: string, file: string) {
    const statements = await parseStatements(sql, file).catch(error => {
      this.lastError = {message: (error as Error).message}
      throw error
    })
    for (const statement of statements) {
      const text = runnableText(statement)
      if (text === undefined) continue
      try {
        await db.exec(text)
      } catch (error) {
        this.lastError = {code: (error as {code?: string}).code, message: (error as Error).message}
        throw await adapterError(error)
      }
    }
  }

  private adapter(session: Session, main: boolean): SqlDriverAdapter {
    const refuse = async () => {
      throw new Error('generating a down migration reads shadow databases only: the engine asked to write to its main database')
    }
    const query = async (sql: SqlQuery): Promise<SqlResultSet> => {
      try {
        const result = await session.db.query<unknown[]>(sql.sql, sql.args as any[], {rowMode: 'array', parsers: this.parsers})
        return {columnNames: result.fields.map(f => f.name), columnTypes: result.fields.map(f => columnTypeOf(f.dataTypeID)) as SqlResultSet['columnTypes'], rows: result.rows}
      } catch (error) {
        throw await adapterError(error)
      }
    }
    return {
      provider: 'postgres',
      adapterName: 'heroku-safe-rollback-pglite',
      queryRaw: query,
      executeRaw: main ? refuse : async sql => {
        try {
          return (await session.db.query(sql.sql, sql.args as any[])).affectedRows ?? 0
        } catch (error) {
          throw await adapterError(error)
        }
      },
      executeScript: main ? refuse : async script => {
        session.scripts++
        await this.runScript(session.db, script, 'a migration replayed by the schema engine')
      },
      startTransaction: async () => {
        throw new Error('generating a down migration needs no transaction of the engine\'s own')
      },
      getConnectionInfo: () => ({schemaName: this.schema, supportsRelationJoins: false}),
      dispose: async () => {
        if (!main) await this.end(session)
      },
    }
  }
}
